// A cosine schedule that ends at a --time budget. The schedule must stay a function of the
// iteration alone (a resumed run gets the same rates), so the end is fixed once, in iterations:
// after a short measured stretch of the run, the iterations that fit in what is left of the
// budget are estimated from the measured speed (training, evaluations and previews), less a
// small margin, and --lr-decay-iters is set to that and recorded in the checkpoint. The run then
// stops at that iteration or at the time bound, whichever comes first, so it ends at --min-lr.
// Until then the rate is --lr (or the warmup's): the calibration comes before the first save,
// so every checkpoint of the run records the fixed value.

/** How long the measured stretch is: the larger of these, as iterations and as a share of the budget. */
export const CALIBRATION = {
  minIters: 20, // at least this many iterations ...
  warmIters: 10, // ... of which the first are left out of the speed: they carry compilation and warm-up
  budgetShare: 0.03, // ~5 s of a 3-minute budget, 18 s of 10 minutes
  margin: 0.03, // the schedule ends this share of the remaining time early: speed varies on a shared machine
};

/** What the stretch measured, for calibrateDecayIters. */
export interface Measured {
  /** Iterations done (of the whole run) and seconds elapsed (of the whole run, --time counts them). */
  iter: number;
  elapsed: number;
  /** Seconds of one training iteration, evaluations and previews left out. */
  secondsPerIter: number;
  /** Seconds of one evaluation with its save (the save only without validation). */
  secondsPerEval: number;
  evalEvery: number;
  /** Seconds of one sample preview, and the iterations between them (0 = none). */
  secondsPerPreview: number;
  sampleEvery: number;
}

/**
 * The iteration at which a budget of `budget` seconds is estimated to run out, less the margin:
 * the iterations done plus what the remaining time pays for at the measured cost of an iteration
 * with its share of the evaluations and previews. At least one more than `iter` and than `warmup`.
 */
export function calibrateDecayIters(m: Measured, budget: number, warmup: number, margin = CALIBRATION.margin): number {
  const perIter = m.secondsPerIter + m.secondsPerEval / m.evalEvery + (m.sampleEvery > 0 ? m.secondsPerPreview / m.sampleEvery : 0);
  const left = Math.max(0, budget - m.elapsed) * (1 - margin);
  const more = perIter > 0 ? Math.floor(left / perIter) : 0;
  return Math.max(m.iter + more, m.iter + 1, warmup + 1);
}

/** Whether the measured stretch is over: both at least minIters iterations and budgetShare of the budget. */
export function stretchOver(itersThisSession: number, sessionSeconds: number, budget: number): boolean {
  return itersThisSession >= CALIBRATION.minIters && sessionSeconds >= CALIBRATION.budgetShare * budget;
}

/**
 * The clock of one session: seconds spent in evaluations, in saves and in previews, so the
 * calibration can price each; evalSeconds also goes into the `done` line.
 */
export class PhaseClock {
  evalSeconds = 0;
  evals = 0;
  saveSeconds = 0;
  saves = 0;
  previewSeconds = 0;
  previews = 0;
  private readonly start = performance.now();
  /** The training seconds and iterations at the end of the warm-up (markWarm), null before. */
  private warm: { training: number; iters: number } | null = null;

  /** Time `fn` as an evaluation. */
  timeEval<R>(fn: () => R): R {
    const t0 = performance.now();
    const r = fn();
    this.evalSeconds += (performance.now() - t0) / 1000;
    this.evals++;
    return r;
  }

  /** Time `fn` as a save of the checkpoints. */
  timeSave(fn: () => void): void {
    const t0 = performance.now();
    fn();
    this.saveSeconds += (performance.now() - t0) / 1000;
    this.saves++;
  }

  /** Time `fn` as a preview. */
  timePreview(fn: () => void): void {
    const t0 = performance.now();
    fn();
    this.previewSeconds += (performance.now() - t0) / 1000;
    this.previews++;
  }

  /** Mark the end of the warm-up, after `iters` iterations of this session: the speed counts from here. */
  markWarm(iters: number): void {
    if (this.warm === null && iters >= CALIBRATION.warmIters) this.warm = { training: this.training, iters };
  }

  /** Seconds of this session spent training (evaluations, saves and previews left out). */
  private get training(): number {
    return this.seconds - this.evalSeconds - this.saveSeconds - this.previewSeconds;
  }

  /** Seconds since the session started. */
  get seconds(): number {
    return (performance.now() - this.start) / 1000;
  }

  /** The measured costs after `iters` iterations of this session, for calibrateDecayIters. */
  costs(iters: number): Pick<Measured, 'secondsPerIter' | 'secondsPerEval' | 'secondsPerPreview'> {
    const mean = (sum: number, n: number) => (n > 0 ? sum / n : 0);
    const w = this.warm !== null && iters > this.warm.iters ? this.warm : { training: 0, iters: 0 };
    return {
      secondsPerIter: (this.training - w.training) / Math.max(1, iters - w.iters),
      secondsPerEval: mean(this.evalSeconds, this.evals) + mean(this.saveSeconds, this.saves),
      secondsPerPreview: mean(this.previewSeconds, this.previews),
    };
  }
}
