// One training run, phase by phase. Each iteration: stop?, schedule, forward/backward, clip,
// update, guard, report, evaluate and checkpoint, preview; then the end: the final evaluation
// (on the whole validation split), the save and the summary. What a checkpoint records and how
// it is written is checkpoint/run.ts; one step's math, step.ts.
//
// Shape legend: B streams, T steps per chunk.

import { cliName } from '../io/invocation';
import { join } from 'node:path';
import { bestOf, type DataJSON } from '../checkpoint/format';
import { RunWriter, type RunConfig, type RunState } from '../checkpoint/run';
import type { TrainConfig } from '../config';
import type { Corpus, Ids } from '../data/corpus';
import { color, info, warn } from '../io/log';
import { yieldToEvents } from '../io/output';
import { showCurveOnTerminal, writeLossPlot } from '../viz/plot';
import { calibrateDecayIters, PhaseClock, stretchOver } from './calibrate';
import { allStreams, sampledStreams, type EvalStreams } from './evalset';
import { LossGuard } from './guard';
import { LastGood, MAX_RECOVERIES } from './recover';
import { formatDuration, Reporter, SpeedMeter } from './report';
import { previewText } from './preview';
import { describeSchedule, learningRate, resolveSchedule, type Schedule } from './schedule';
import { StopSignals } from './signals';
import type { Trainer } from './step';
import { UserError } from '../io/errors';

/** The text of a run: the corpus, its split, and what the checkpoints record of it. */
export interface RunData {
  sources: string[];
  corpus: Corpus;
  train: Ids;
  val: Ids;
  record: DataJSON;
}

/** The last validation loss: its iteration, and whether it read the whole split. */
interface LastEval {
  iter: number;
  loss: number;
  all: boolean;
}

export class TrainingRun {
  cfg: TrainConfig;
  schedule: Schedule;
  /** The bound in iterations (Infinity without one), and as reported. */
  maxIters: number;
  readonly doVal: boolean;
  /** The bound in iterations as reported, or null without one. */
  get totalIters(): number | null {
    return Number.isFinite(this.maxIters) ? this.maxIters : null;
  }
  private readonly evalSample: EvalStreams;
  private readonly writer: RunWriter;
  private readonly signals: StopSignals;
  private readonly guard: LossGuard;
  private readonly good: LastGood | null;
  private readonly meter = new SpeedMeter();
  /** Where this session's time goes (evaluations, previews): for the calibration and the `done` line. */
  private readonly clock = new PhaseClock();
  private readonly startIter: number;
  private readonly sessionStart = Date.now();
  private reporter!: Reporter;
  private lastEval: LastEval | null;
  private lastSavedIter: number;
  /** Whether the last save wrote best.json. */
  private lastSaveBest = false;
  private stoppedBy = 'done';

  constructor(
    private readonly run: RunConfig,
    private readonly trainer: Trainer,
    private readonly state: RunState,
    private readonly data: RunData,
    private readonly o: { resumed: boolean; force: boolean; json: boolean },
  ) {
    const B = trainer.ws.B;
    const bpe = trainer.batcher.batchesPerEpoch;
    let cfg = run.train;
    // Bounds count from the start of the run; a fractional --epochs ends with the batch that crosses it.
    this.maxIters = Math.min(cfg.iters > 0 ? cfg.iters : Infinity, cfg.epochs > 0 ? Math.ceil(cfg.epochs * bpe) : Infinity);
    // The schedule's run-dependent defaults are recorded in the configuration, so a resumed run
    // (even with a new --iters) keeps the same curve.
    this.schedule = resolveSchedule(cfg, run.optim.lr, bpe, this.totalIters);
    if (this.schedule.kind === 'cosine') cfg = { ...cfg, warmupIters: this.schedule.warmupIters, minLr: this.schedule.minLr, lrDecayIters: this.schedule.decayIters };
    this.cfg = cfg;
    this.endAtSchedule();
    this.doVal = data.val.length > B;
    this.evalSample = sampledStreams(data.val.length, B, cfg.evalChars, cfg.seed);
    this.writer = new RunWriter({ config: { train: cfg, optim: run.optim, engine: run.engine }, vocab: data.corpus.vocab, data: data.record }, { fresh: !o.resumed, force: o.force });
    this.signals = new StopSignals((sig) => this.note(color.yellow(`${sig}: stopping after this step and saving ${this.latest} (again to quit now)`)), this.latest);
    this.guard = new LossGuard(trainer.model.V);
    this.good = cfg.recover ? new LastGood(trainer, state) : null;
    this.startIter = trainer.iter;
    const v = state.history.val;
    this.lastEval = v.length ? { iter: v[v.length - 1][0], loss: v[v.length - 1][2], all: true } : null;
    this.lastSavedIter = o.resumed ? trainer.iter : -1;
  }

  private get latest(): string {
    return join(this.cfg.checkpointDir, 'latest.json');
  }

  /** The characters each evaluation before the last reads, when --eval-chars samples the split (else null). */
  get evalChars(): number | null {
    return this.evalSample.all ? null : this.evalSample.len * this.trainer.ws.B;
  }

  /** Whether the cosine schedule still waits for the end of the --time budget (calibrate.ts). */
  private get calibrating(): boolean {
    return this.schedule.kind === 'cosine' && this.schedule.decayIters <= 0;
  }

  /** With only --time as a bound, a cosine run ends where its schedule does (or at the time). */
  private endAtSchedule(): void {
    const { cfg, schedule } = this;
    if (schedule.kind !== 'cosine' || schedule.decayIters <= 0 || cfg.time <= 0 || this.totalIters !== null) return;
    this.maxIters = schedule.decayIters;
  }

  /** Fix --lr-decay-iters at the estimated end of the budget, from this session's measured speed. */
  private calibrate(): void {
    const { trainer, cfg } = this;
    const iters = trainer.iter - this.startIter;
    const m = { iter: trainer.iter, elapsed: this.elapsed(), evalEvery: cfg.evalEvery, sampleEvery: cfg.sampleEvery, ...this.clock.costs(iters) };
    const end = calibrateDecayIters(m, cfg.time, this.schedule.warmupIters);
    this.schedule = { ...this.schedule, decayIters: end };
    this.cfg = { ...cfg, lrDecayIters: end };
    this.writer.setTrainConfig(this.cfg);
    this.endAtSchedule();
    this.note(`${describeSchedule(this.schedule)}, the estimated end of the ${formatDuration(cfg.time)} budget (measured over iterations ${this.startIter + 1}-${trainer.iter})`);
  }

  /** Train until a bound, a signal or --patience stops the run; returns the exit code. */
  async train(): Promise<number> {
    this.reporter = new Reporter(this.o.json, this.cfg.printEvery);
    this.signals.install();
    try {
      if (this.o.resumed && this.boundReached()) return this.nothingToDo();
      while (!this.shouldStop()) {
        this.iteration();
        await yieldToEvents(); // let signals in
      }
      return this.finish();
    } finally {
      this.signals.remove();
      this.reporter.stop();
    }
  }

  private iteration(): void {
    const { trainer, cfg } = this;
    const lr = this.scheduledRate();
    const { loss, gradNorm } = trainer.step(lr);
    this.state.charsSeen += trainer.ws.B * trainer.ws.T;
    if (!this.lossIsSane(loss)) return; // rolled back (--recover)
    this.report(loss, gradNorm, lr);
    // evaluation and previews are not counted in the training speed
    const pauseStart = Date.now();
    // the end of the measured stretch of a cosine --time run is an evaluation too (it prices one)
    if (this.calibrating) this.clock.markWarm(trainer.iter - this.startIter);
    const calibrate = this.calibrating && stretchOver(trainer.iter - this.startIter, this.clock.seconds, cfg.time);
    if (trainer.iter % cfg.evalEvery === 0 || calibrate) this.evaluateAndSave(trainer.iter >= this.maxIters);
    if (cfg.sampleEvery > 0 && trainer.iter % cfg.sampleEvery === 0) this.clock.timePreview(() => this.preview());
    this.meter.pausedSince(pauseStart);
  }

  // ---- stop ----

  private elapsed(): number {
    return this.state.elapsedBefore + (Date.now() - this.sessionStart) / 1000;
  }

  private boundReached(): boolean {
    return this.trainer.iter >= this.maxIters || (this.cfg.time > 0 && this.elapsed() >= this.cfg.time);
  }

  /** Whether to stop now: a signal, a bound, or --patience run out (which it says). */
  private shouldStop(): boolean {
    const { cfg, state } = this;
    if (this.signals.received) this.stoppedBy = this.signals.received;
    else if (this.trainer.iter >= this.maxIters) this.stoppedBy = 'done';
    else if (cfg.time > 0 && this.elapsed() >= cfg.time) this.stoppedBy = 'time';
    else if (cfg.patience > 0 && state.evalsSinceBest >= cfg.patience) {
      this.stoppedBy = 'patience';
      const best = bestOf(state.history);
      const where = best ? ` (best ${best.loss.toFixed(4)} at iteration ${best.iter})` : '';
      this.note(color.yellow(`--patience ${cfg.patience}: the validation loss has not improved for ${cfg.patience} evaluation${cfg.patience === 1 ? '' : 's'}${where}; stopping early`));
    } else return false;
    return true;
  }

  // ---- schedule ----

  /** The rate of the next update: a function of the iteration alone (schedule.ts), so resuming is exact. */
  private scheduledRate(): number {
    this.state.lr = learningRate(this.trainer.iter, this.schedule);
    return this.state.lr * this.state.lrScale;
  }

  // ---- guard ----

  /**
   * A NaN or exploding loss (guard.ts) rolls back with --recover (false: the step is undone);
   * otherwise it stops the run with one line, the last checkpoint left as it was.
   */
  private lossIsSane(loss: number): boolean {
    const what = this.guard.check(loss);
    if (what === null) return true;
    const { trainer, state, cfg } = this;
    if (this.good?.rollBack(state)) {
      this.guard.forget();
      warn(`the loss ${what}; rolled back to iteration ${trainer.iter} with the learning rate halved (x${state.lrScale}, recovery ${this.good.recoveries} of ${MAX_RECOVERIES})`);
      return false;
    }
    this.reporter.stop();
    throw new UserError(
      `the loss ${what} at iteration ${trainer.iter}; ` +
        (this.writer.savedOnce || this.o.resumed
          ? `the last checkpoint in ${cfg.checkpointDir} is intact. Lower --lr or set --clip-norm, then --resume`
          : `no checkpoint was saved yet (the first is due at iteration ${Math.min(cfg.evalEvery, this.maxIters)}). Lower --lr or set --clip-norm and start again`),
    );
  }

  // ---- report ----

  private report(loss: number, gradNorm: number, lr: number): void {
    const { trainer, state, cfg, totalIters } = this;
    const BT = trainer.ws.B * trainer.ws.T;
    state.lossSum += loss;
    state.lossCount++;
    const speed = this.meter.add(BT);
    const itersLeft = totalIters !== null ? totalIters - trainer.iter : Infinity;
    const eta = Math.min(itersLeft * (BT / Math.max(speed, 1e-9)), cfg.time > 0 ? cfg.time - this.elapsed() : Infinity);
    // the bar fills by the nearer bound: iterations, or the time spent of --time
    const bounded = totalIters !== null || cfg.time > 0;
    const done = bounded ? Math.max(totalIters !== null ? trainer.iter / totalIters : 0, cfg.time > 0 ? this.elapsed() / cfg.time : 0) : null;
    this.reporter.update({
      iter: trainer.iter,
      totalIters,
      done,
      epoch: trainer.batcher.epochFloat,
      loss,
      valLoss: this.lastEval?.loss ?? null,
      lr,
      gradNorm: Number.isFinite(gradNorm) ? gradNorm : null,
      charsPerSec: speed,
      eta: Number.isFinite(eta) ? eta : null,
    });
    if (trainer.iter % cfg.printEvery === 0) {
      state.history.train.push([trainer.iter, state.charsSeen, state.lossSum / state.lossCount]);
      state.lossSum = 0;
      state.lossCount = 0;
    }
  }

  private note(line: string): void {
    if (this.reporter) this.reporter.note(line);
    else info(line);
  }

  // ---- evaluate and checkpoint ----

  /**
   * Evaluate (the fixed sample, or `all` of the split), save the checkpoints and loss.svg. A
   * cosine --time run calibrates its end before its first save, so every checkpoint records it.
   */
  private evaluateAndSave(all: boolean): void {
    const best = this.doVal ? this.clock.timeEval(() => this.evaluate(all)) : false;
    if (this.calibrating) this.calibrate();
    const { trainer, state, cfg } = this;
    this.clock.timeSave(() => this.writer.save(trainer, state, this.elapsed(), { best, valLoss: this.doVal ? this.lastEval!.loss : null }));
    this.lastSavedIter = trainer.iter;
    this.lastSaveBest = best;
    const meta = { model: trainer.model.config, vocabSize: trainer.model.V, sources: this.data.sources, iter: trainer.iter, epoch: trainer.batcher.epochFloat };
    writeLossPlot(cfg.checkpointDir, state.history, meta, cfg.plotLog);
    this.good?.keep(state);
  }

  /** One evaluation, recorded in the history and the best; returns whether it is the best so far. */
  private evaluate(all: boolean): boolean {
    const { trainer, state, data } = this;
    const streams = all ? allStreams(data.val.length, trainer.ws.B) : this.evalSample;
    const loss = trainer.evaluate(data.val, streams).loss;
    // the whole split at the iteration of a sampled evaluation (the end of a run): it replaces it
    const again = this.lastEval !== null && this.lastEval.iter === trainer.iter;
    if (again) state.history.val.pop();
    state.history.val.push([trainer.iter, state.charsSeen, loss]);
    this.lastEval = { iter: trainer.iter, loss, all: all || streams.all };
    const improved = state.bestVal === null || loss < state.bestVal;
    if (improved) {
      state.bestVal = loss;
      state.evalsSinceBest = 0;
    } else if (!again) state.evalsSinceBest++;
    this.reporter.emit({ type: 'val', iter: trainer.iter, epoch: trainer.batcher.epochFloat, valLoss: loss, bestValLoss: state.bestVal, chars: streams.len * trainer.ws.B });
    return improved;
  }

  // ---- preview ----

  private preview(): void {
    const { trainer, cfg } = this;
    const o = { seed: cfg.seed, iter: trainer.iter, len: cfg.sampleLen, temperature: cfg.sampleTemperature };
    this.note(color.dim(previewText(trainer.model, this.data.corpus.vocab, o)));
  }

  // ---- the end ----

  /** A resumed run already at its bound: say how to go on, change nothing. */
  private nothingToDo(): number {
    const { trainer } = this;
    warn(`the run is at iteration ${trainer.iter} already, its bound (${this.describeBounds()}); raise --iters, --epochs or --time to train further`);
    this.summary();
    return 0;
  }

  /** The final evaluation on the whole split (unless done at this iteration) and save; the summary. */
  private finish(): number {
    const iter = this.trainer.iter;
    if (this.signals.received) {
      if (this.lastSavedIter !== iter) this.save(); // after a signal only save, to be quick
    } else if (this.doVal ? !(this.lastEval?.iter === iter && this.lastEval.all) : this.lastSavedIter !== iter) {
      this.evaluateAndSave(true);
    }
    this.reporter.stop();
    this.summary();
    showCurveOnTerminal(this.state.history, this.cfg.plotLog);
    info(this.endLine());
    return this.signals.exitCode();
  }

  private save(): void {
    this.writer.save(this.trainer, this.state, this.elapsed(), { best: false, valLoss: this.lastEval?.loss ?? null });
    this.lastSavedIter = this.trainer.iter;
    this.lastSaveBest = false;
  }

  private summary(): void {
    const { trainer, state } = this;
    this.reporter.emit({
      type: 'done',
      iter: trainer.iter,
      epoch: trainer.batcher.epochFloat,
      valLoss: this.lastEval?.loss ?? null,
      valIter: this.lastEval?.iter ?? null,
      bestValLoss: state.bestVal,
      seconds: this.elapsed(),
      evalSeconds: this.clock.evalSeconds,
      stoppedBy: this.stoppedBy,
      checkpoint: this.latest,
    });
  }

  /** "done at iteration 400 (epoch 1.79) after 41s: val loss 1.9 ... at iteration 400, best ... Saved ..." */
  private endLine(): string {
    const { trainer, state, lastEval } = this;
    const nats = (l: number) => `${l.toFixed(4)} nats/char (${(l / Math.LN2).toFixed(3)} bits/char)`;
    const best = bestOf(state.history);
    let loss = '';
    if (lastEval) {
      loss = `: val loss ${nats(lastEval.loss)} at iteration ${lastEval.iter}`;
      if (best) loss += best.iter === lastEval.iter ? ' (the best)' : `, best ${best.loss.toFixed(4)} at iteration ${best.iter}`;
    }
    const bestFile = this.lastSaveBest ? ' and best.json' : best ? ` (best.json: iteration ${best.iter})` : '';
    return (
      `${this.signals.received ? 'stopped' : 'done'} at iteration ${trainer.iter} (epoch ${trainer.batcher.epochFloat.toFixed(2)}) after ${formatDuration(this.elapsed())}${loss}. ` +
      `Saved ${this.latest}${bestFile}; sample with: ${cliName()} sample --checkpoint ${this.latest}`
    );
  }

  /** "iteration 400 or 10m of training or ...", for the summary. */
  describeBounds(): string {
    const { cfg, totalIters } = this;
    const parts: string[] = [];
    if (totalIters !== null) parts.push(`iteration ${totalIters}`);
    if (cfg.time > 0) parts.push(`${formatDuration(cfg.time)} of training`);
    if (cfg.patience > 0) parts.push(`${cfg.patience} evaluations without a better validation loss`);
    return parts.length ? parts.join(' or ') : 'Ctrl-C (no bound)';
  }
}
