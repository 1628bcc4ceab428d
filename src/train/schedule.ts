// Learning-rate schedules. The rate of every update is one pure function of the iteration and the
// run's configuration, so a resumed run gets exactly the rates of a run that never stopped.
//
//   none    the constant --lr
//   step    char-rnn: multiply by --lr-decay at the end of epoch --lr-decay-after, and then at the
//           end of every --lr-decay-every epochs (char-rnn: every epoch)
//   cosine  nanoGPT: linear warmup over --warmup-iters, then a cosine from --lr down to --min-lr at
//           --lr-decay-iters, and --min-lr after that. With only --time as a bound, --lr-decay-iters
//           is fixed once by calibrate.ts after a measured stretch (decayIters 0 until then: --lr)

import { AUTO_WARMUP, impliedSchedule, TRAIN_DEFAULTS, type LrScheduleKind, type TrainConfig } from '../config';
import { UserError } from '../io/errors';

/** A schedule with every value resolved (no "default" left to look up). */
export interface Schedule {
  kind: LrScheduleKind;
  /** The base rate, --lr. */
  lr: number;
  /** step: the factor, the first epoch whose end applies it, epochs between decays, batches an epoch. */
  decay: number;
  decayAfter: number;
  decayEvery: number;
  batchesPerEpoch: number;
  /** cosine: warmup length, the final rate, and the iteration at which it is reached. */
  warmupIters: number;
  minLr: number;
  decayIters: number;
}

/**
 * The rate of the update that follows `iter` completed updates (iter = 0 for the first update,
 * as nanoGPT's `get_lr(it)`).
 */
export function learningRate(iter: number, s: Schedule): number {
  switch (s.kind) {
    case 'none':
      return s.lr;
    case 'step': {
      // char-rnn never decays at epoch 0's start: the first decay is at the end of epoch max(after, 1).
      const completed = Math.floor(iter / s.batchesPerEpoch);
      const first = Math.max(s.decayAfter, 1);
      const decays = completed < first ? 0 : Math.floor((completed - first) / s.decayEvery) + 1;
      return s.lr * s.decay ** decays;
    }
    case 'cosine': {
      // nanoGPT's (it + 1) / (warmup + 1): the first update already moves the weights.
      if (iter < s.warmupIters) return (s.lr * (iter + 1)) / (s.warmupIters + 1);
      if (s.decayIters <= 0) return s.lr; // the end of a --time budget, not calibrated yet
      if (iter > s.decayIters) return s.minLr;
      const ratio = (iter - s.warmupIters) / (s.decayIters - s.warmupIters);
      const coeff = 0.5 * (1 + Math.cos(Math.PI * ratio));
      return s.minLr + coeff * (s.lr - s.minLr);
    }
  }
}

/**
 * The schedule of a run: the configuration's values with the defaults that depend on the run
 * filled in (--min-lr from --lr, --lr-decay-iters from the run's bound in iterations).
 */
export function resolveSchedule(cfg: TrainConfig, lr: number, batchesPerEpoch: number, totalIters: number | null): Schedule {
  const kind: LrScheduleKind = cfg.lrSchedule ?? impliedSchedule(cfg.lrDecay, 'none'); // a checkpoint from before schedules had names
  const s: Schedule = {
    kind,
    lr,
    decay: cfg.lrDecay,
    decayAfter: cfg.lrDecayAfter,
    decayEvery: cfg.lrDecayEvery ?? 1,
    batchesPerEpoch,
    warmupIters: cfg.warmupIters ?? 0, // null: set below, once the run's length is known
    minLr: cfg.minLr ?? lr / 10,
    decayIters: cfg.lrDecayIters ?? 0,
  };
  if (kind !== 'cosine') return s;
  if (s.minLr > lr) throw new UserError(`--min-lr ${s.minLr} is above --lr ${lr}; the cosine schedule decays, pick a smaller --min-lr`);
  if (!(s.decayIters > 0)) {
    if (totalIters === null && cfg.time <= 0) {
      throw new UserError('--lr-schedule cosine needs a bound to end at: --iters, --epochs or --time, or --lr-decay-iters');
    }
    s.decayIters = totalIters ?? 0; // 0: the end of the --time budget, which calibrate.ts fixes
  }
  // the default warmup: a tenth of a short run at most (with only --time: calibrate.ts keeps the end past it)
  if (cfg.warmupIters === null) s.warmupIters = s.decayIters > 0 ? Math.min(AUTO_WARMUP.iters, Math.floor(s.decayIters * AUTO_WARMUP.maxShare)) : AUTO_WARMUP.iters;
  if (s.decayIters === 0) return s;
  if (s.decayIters <= s.warmupIters) {
    const what = cfg.lrDecayIters > 0 ? `--lr-decay-iters ${s.decayIters}` : `the run's ${s.decayIters} iterations (the default --lr-decay-iters)`;
    throw new UserError(`--warmup-iters ${s.warmupIters} must be below ${what}; shorten the warmup`);
  }
  return s;
}

/** For the start-up summary: "cosine schedule: warmup 100, down to 0.003 at iteration 4010". */
export function describeSchedule(s: Schedule): string {
  switch (s.kind) {
    case 'none':
      return 'constant';
    case 'step': {
      const every = s.decayEvery === 1 ? 'every epoch' : `every ${s.decayEvery} epochs`;
      return `step schedule: x${s.decay} ${every} from the end of epoch ${Math.max(s.decayAfter, 1)}`;
    }
    case 'cosine': {
      const end = s.decayIters > 0 ? `iteration ${s.decayIters}` : 'the end of the --time budget';
      return `cosine schedule: ${s.warmupIters > 0 ? `warmup ${s.warmupIters} iterations, ` : ''}down to ${s.minLr} at ${end}`;
    }
  }
}

/** Flags that belong to one schedule only: given with another, they would silently do nothing. */
const SCHEDULE_FLAGS: [key: string, flag: string, owner: LrScheduleKind][] = [
  ['lrDecay', '--lr-decay', 'step'],
  ['lrDecayAfter', '--lr-decay-after', 'step'],
  ['lrDecayEvery', '--lr-decay-every', 'step'],
  ['warmupIters', '--warmup-iters', 'cosine'],
  ['minLr', '--min-lr', 'cosine'],
  ['lrDecayIters', '--lr-decay-iters', 'cosine'],
];

/**
 * The schedule the command line asks for: --lr-schedule if given, else 'step' when --lr-decay
 * is below 1 (char-rnn's flags keep working alone), else the default, cosine, when the run has
 * an end for it to decay to (`bounded`: --iters, --epochs, --time or --lr-decay-iters), and a
 * constant rate when it runs until stopped. A flag of another schedule is a
 * one-line error, except char-rnn's `--lr-decay 1` / `--lr-decay-after` without --lr-schedule,
 * which have always meant "no decay". When resuming, the checkpoint's schedule applies: runconfig.ts
 * compares the flags given with it instead (checkpoint/run.ts).
 */
export function scheduleFromFlags(given: LrScheduleKind | undefined, lrDecay: number, explicit: Set<string>, bounded: boolean, resuming = false): LrScheduleKind {
  const kind = given ?? impliedSchedule(lrDecay, bounded ? TRAIN_DEFAULTS.lrSchedule : 'none');
  if (resuming) return kind;
  for (const [key, flag, owner] of SCHEDULE_FLAGS) {
    if (!explicit.has(key) || owner === kind) continue;
    if (given === undefined && (key === 'lrDecay' || key === 'lrDecayAfter')) continue;
    const fix = given === undefined && owner === 'step' ? 'add --lr-decay below 1' : `add --lr-schedule ${owner}`;
    throw new UserError(`${flag} applies to the ${owner} schedule, not ${kind}; ${fix}, or leave ${flag} out`);
  }
  return kind;
}
