// `charrnn train`: read the corpus, build (or restore) the model, and run the training loop:
// schedule, evaluate and checkpoint, forward/backward, clip, update, report, stop.
// The run's configuration is runconfig.ts; what a checkpoint records of it, runstate.ts;
// --recover's rollback, train/recover.ts.

import { join, resolve } from 'node:path';
import { Batcher } from '../data/batcher';
import { fingerprint, loadTensors, writeFileAtomic, type DataJSON } from '../checkpoint/format';
import type { TrainConfig } from '../config';
import { describeChar, readCorpus, splitCorpus, Vocab, type Corpus } from '../data/corpus';
import { UserError } from '../io/errors';
import { keepNumbered, patienceExhausted, patienceMessage, prepareCheckpointDir } from './housekeeping';
import { describeModel } from '../commands/info';
import { describeBackend, resolveThreads } from '../engine/kernels';
import { LastGood, MAX_RECOVERIES } from './recover';
import { color, info, warn } from '../io/log';
import { Model } from '../engine/model';
import { showCurveOnTerminal, writeLossPlot } from '../viz/plot';
import { printableText, wrapLines } from '../io/printable';
import { formatDuration, Reporter, SpeedMeter } from './report';
import { Rng } from '../engine/rng';
import { resolveRunConfig, type RunFlags } from './runconfig';
import { buildCheckpoint, newRunState, resumeRun, type RunState } from '../checkpoint/runstate';
import { Sampler } from '../sample/sampler';
import { describeSchedule, learningRate, resolveSchedule } from './schedule';
import { Trainer } from './step';

export interface TrainOptions extends RunFlags {
  corpus: string[];
  json: boolean;
}

/** The corpus used when none is given. */
export function bundledCorpus(): string {
  // dist/cli.js and src/train.ts are both one level below the package root.
  return resolve(__dirname, '..', 'data', 'tinyshakespeare.txt');
}

function describeUnknown(unknown: Map<number, number>): string {
  const list = [...unknown.entries()].slice(0, 5).map(([cp, n]) => `${describeChar(cp)} x${n}`);
  return list.join(', ') + (unknown.size > 5 ? `, and ${unknown.size - 5} more` : '');
}

export async function runTrain(opts: TrainOptions): Promise<number> {
  const run = resolveRunConfig(opts);
  const { model: modelCfg, optim, engine, checkpoint: ck } = run;
  let cfg = run.train;
  prepareCheckpointDir(cfg.checkpointDir);

  // Data.
  const sources =
    opts.corpus.length > 0 ? opts.corpus : ck?.data && opts.resume ? ck.data.sources : [bundledCorpus()];
  const vocabIn = ck ? new Vocab(ck.vocab) : undefined;
  const t0 = Date.now();
  const corpus: Corpus = readCorpus(sources, vocabIn);
  if (corpus.unknown.size > 0) {
    throw new UserError(
      `the corpus has characters outside the checkpoint's vocabulary: ${describeUnknown(corpus.unknown)}; ` +
        `train a new model on it instead, or remove them`,
    );
  }
  const fp = fingerprint(corpus.ids);
  if (opts.resume && ck!.data!.fingerprint !== fp) {
    throw new UserError(`the corpus differs from the one the checkpoint was trained on (${ck!.data!.sources.join(' ')}); pass the same files to resume`);
  }
  const { train: trainIds, val: valIds } = splitCorpus(corpus.ids, cfg.valFrac);
  const B = cfg.batchSize;
  const T = cfg.seqLength;
  const batcher = new Batcher(trainIds, B, T);
  const doVal = valIds.length > B;
  if (cfg.valFrac > 0 && !doVal) warn(`the validation split (${valIds.length} characters) is too small for --batch-size ${B}; validation is off`);

  // Model.
  const shapes = [{ B, T }];
  if (cfg.sampleEvery > 0) shapes.push({ B: 1, T: 1 });
  const model = new Model(modelCfg, {
    config: modelCfg,
    vocabSize: corpus.vocab.size,
    shapes,
    optimizer: optim.optimizer,
    kernels: engine.kernels,
    threads: resolveThreads(engine.threads),
  });
  try {
    return await loop();
  } finally {
    model.close();
  }

  async function loop(): Promise<number> {
    const rng = new Rng(cfg.seed);
    const trainer = new Trainer(model, batcher, optim, rng);
    let state: RunState;
    if (ck && opts.resume) state = resumeRun(ck, opts.resume, trainer);
    else {
      if (ck && opts.initFrom) loadTensors(model.params.t, ck.tensors, ck.model, ck.vocab.length, opts.initFrom);
      else model.init(rng);
      state = newRunState(optim.lr);
    }
    const { history } = state;

    // Bounds: iterations and epochs count from the start of the run.
    const bpe = batcher.batchesPerEpoch;
    // (a fractional --epochs ends with the batch that crosses it: the same stop, a whole count)
    const iterBounds = [cfg.iters > 0 ? cfg.iters : Infinity, cfg.epochs > 0 ? Math.ceil(cfg.epochs * bpe) : Infinity];
    const maxIters = Math.min(...iterBounds);
    const totalIters = Number.isFinite(maxIters) ? maxIters : null;

    // The learning-rate schedule, its run-dependent defaults resolved and recorded in the
    // configuration, so a resumed run (even with a new --iters) keeps the same curve.
    const schedule = resolveSchedule(cfg, optim.lr, bpe, totalIters);
    if (schedule.kind === 'cosine') cfg = { ...cfg, minLr: schedule.minLr, lrDecayIters: schedule.decayIters };
    if (cfg.patience > 0 && !doVal) warn(`--patience ${cfg.patience} needs a validation split, and there is none; the run stops on its budget only`);

    info(
      `${color.bold('charrnn train')}: ${sources.join(' ')}: ${corpus.bytes.toLocaleString('en-US')} bytes, ` +
        `${corpus.ids.length.toLocaleString('en-US')} characters, vocabulary ${corpus.vocab.size} ` +
        `(read in ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
    info(`model: ${describeModel(modelCfg)}: ${model.paramCount.toLocaleString('en-US')} parameters`);
    info(
      `training: ${trainIds.length.toLocaleString('en-US')} chars, validation ${doVal ? valIds.length.toLocaleString('en-US') : 'off'}; ` +
        `batch ${B} x seq ${T}, ${bpe} batches/epoch; ${optim.optimizer} lr ${optim.lr} (${describeSchedule(schedule)}), clip ${optim.clip}` +
        `${optim.clipNorm > 0 ? ', clip-norm ' + optim.clipNorm : ''}; stop at ${describeBounds(cfg, totalIters)}; ` +
        `kernels ${describeBackend(model.backend)}; seed ${cfg.seed}` +
        (opts.resume ? `; resuming at iteration ${trainer.iter}` : opts.initFrom ? `; weights from ${opts.initFrom}` : ''),
    );

    const reporter = new Reporter(opts.json, cfg.printEvery);
    const sessionStart = Date.now();
    const elapsed = () => state.elapsedBefore + (Date.now() - sessionStart) / 1000;
    let stopSignal: NodeJS.Signals | null = null;
    const onSignal = (sig: NodeJS.Signals) => {
      if (stopSignal) process.exit(sig === 'SIGINT' ? 130 : 143); // second signal: leave now
      stopSignal = sig;
      reporter.note(color.yellow(`${sig}: stopping after this step and saving ${join(cfg.checkpointDir, 'latest.json')} (again to quit now)`));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    let savedOnce = false; // whether this run has written a checkpoint (for the explosion message)
    // What the checkpoints record of the corpus (for --resume and `charrnn eval`).
    const data: DataJSON = { sources: sources.map((s) => (s === '-' ? s : resolve(s))), chars: corpus.ids.length, fingerprint: fp, valFrac: cfg.valFrac };
    /** Build the checkpoint once and write it under each name; returns its text. */
    const save = (...names: string[]): string => {
      const json = buildCheckpoint({ trainer, config: { train: cfg, optim, engine }, vocab: corpus.vocab, data, state, elapsed: elapsed() });
      const text = JSON.stringify(json);
      for (const name of names) writeFileAtomic(join(cfg.checkpointDir, name), text);
      savedOnce = true;
      return text;
    };

    const evaluateAndSave = () => {
      let improved = false;
      if (doVal) {
        const v = trainer.evaluate(valIds);
        history.val.push([trainer.iter, state.charsSeen, v.loss]);
        improved = state.bestVal === null || v.loss < state.bestVal;
        if (improved) {
          state.bestVal = v.loss;
          state.evalsSinceBest = 0;
        } else state.evalsSinceBest++;
        reporter.emit({ type: 'val', iter: trainer.iter, epoch: batcher.epochFloat, valLoss: v.loss, bestValLoss: state.bestVal });
        lastVal = v.loss;
      }
      const text = improved ? save('latest.json', 'best.json') : save('latest.json');
      if (cfg.keep > 0) keepNumbered(cfg.checkpointDir, text, trainer.iter, doVal ? lastVal : null, cfg.keep);
      const meta = { model: modelCfg, vocabSize: corpus.vocab.size, sources, iter: trainer.iter, epoch: batcher.epochFloat };
      writeLossPlot(cfg.checkpointDir, history, meta, cfg.plotLog);
      good?.keep(state);
    };

    const preview = () => {
      // A generator of its own, so previews never change the training numbers.
      const sampler = new Sampler(model, corpus.vocab, new Rng(`${cfg.seed}:preview:${trainer.iter}`), 1);
      sampler.reset();
      const nl = corpus.vocab.id(10);
      sampler.feed(nl >= 0 ? nl : 0);
      let text = '';
      for (let i = 0; i < cfg.sampleLen; i++) {
        const id = sampler.pick({ temperature: cfg.sampleTemperature, argmax: false });
        text += corpus.vocab.char(id);
        sampler.feed(id);
      }
      // Escaped and wrapped: a raw \r or escape sequence, or a line past the edge (the bar turns
      // the terminal's wrapping off), would garble the progress bar.
      const shown = wrapLines(printableText(text), process.stderr.isTTY ? (process.stderr.columns || 80) - 1 : 0);
      reporter.note(color.dim(`--- sample at iteration ${trainer.iter} (temperature ${cfg.sampleTemperature}) ---\n${shown}\n---`));
    };

    let lastVal: number | null = history.val.length ? history.val[history.val.length - 1][2] : null;
    let firstLoss: number | null = history.train.length ? history.train[0][2] : null;
    const meter = new SpeedMeter();
    let stoppedBy = 'done';

    // --recover: the last good state (the start, then every evaluation), kept in memory.
    const good = cfg.recover ? new LastGood(trainer, state) : null;

    for (;;) {
      // stop: budgets and signals
      if (stopSignal) {
        stoppedBy = stopSignal;
        break;
      }
      if (trainer.iter >= maxIters) break;
      if (cfg.time > 0 && elapsed() >= cfg.time) {
        stoppedBy = 'time';
        break;
      }
      if (patienceExhausted(cfg.patience, state.evalsSinceBest)) {
        stoppedBy = 'patience';
        reporter.note(color.yellow(patienceMessage(cfg.patience, history)));
        break;
      }

      // schedule: a function of the iteration alone (src/schedule.ts), so resuming is exact
      state.lr = learningRate(trainer.iter, schedule);

      // forward/backward, clip, update
      const r = trainer.step(state.lr * state.lrScale);
      state.charsSeen += B * T;

      // guard: a NaN or exploding loss stops the run; the last checkpoint stays as it was.
      // "Exploding" is relative to the first loss, but never below the uniform guess ln V: a run
      // from trained weights (--init-from) can start near 0 and meet harder text later.
      if (firstLoss === null) firstLoss = r.loss;
      if (!Number.isFinite(r.loss) || r.loss > 3 * Math.max(firstLoss, Math.log(model.V))) {
        const what = Number.isFinite(r.loss) ? 'exploded to ' + r.loss.toFixed(3) : 'became ' + r.loss;
        // --recover: back to the last good state with the learning rate halved, a few times
        if (good?.rollBack(state)) {
          warn(`the loss ${what}; rolled back to iteration ${trainer.iter} with the learning rate halved (x${state.lrScale}, recovery ${good.recoveries} of ${MAX_RECOVERIES})`);
          continue;
        }
        reporter.stop();
        throw new UserError(
          `the loss ${what} at iteration ${trainer.iter}; ` +
            (savedOnce || opts.resume
              ? `the last checkpoint in ${cfg.checkpointDir} is intact. Lower --lr or set --clip-norm, then --resume`
              : `no checkpoint was saved yet (the first is due at iteration ${Math.min(cfg.evalEvery, maxIters)}). Lower --lr or set --clip-norm and start again`),
        );
      }

      // report
      state.lossSum += r.loss;
      state.lossCount++;
      const speed = meter.add(B * T);
      const itersLeft = totalIters !== null ? totalIters - trainer.iter : Infinity;
      const etas = [itersLeft * ((B * T) / Math.max(speed, 1e-9)), cfg.time > 0 ? cfg.time - elapsed() : Infinity];
      const eta = Math.min(...etas);
      // the bar fills by the nearer bound: iterations, or the time spent of --time
      const bounded = totalIters !== null || cfg.time > 0;
      const done = bounded ? Math.max(totalIters !== null ? trainer.iter / totalIters : 0, cfg.time > 0 ? elapsed() / cfg.time : 0) : null;
      reporter.update({
        iter: trainer.iter,
        totalIters,
        done,
        epoch: batcher.epochFloat,
        loss: r.loss,
        valLoss: lastVal,
        lr: state.lr * state.lrScale,
        charsPerSec: speed,
        eta: Number.isFinite(eta) ? eta : null,
      });
      if (trainer.iter % cfg.printEvery === 0) {
        history.train.push([trainer.iter, state.charsSeen, state.lossSum / state.lossCount]);
        state.lossSum = 0;
        state.lossCount = 0;
      }

      // evaluate and checkpoint (not counted in the training speed)
      const pauseStart = Date.now();
      if (trainer.iter % cfg.evalEvery === 0) evaluateAndSave();
      if (cfg.sampleEvery > 0 && trainer.iter % cfg.sampleEvery === 0) preview();
      meter.pausedSince(pauseStart);

      // let signals in
      await new Promise<void>((r) => setImmediate(r));
    }

    // The end: evaluate and save (after a signal only save, to be quick).
    if (stopSignal) save('latest.json');
    else if (history.val.length === 0 || history.val[history.val.length - 1][0] !== trainer.iter) evaluateAndSave();
    else save('latest.json');
    reporter.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const summary = {
      type: 'done',
      iter: trainer.iter,
      epoch: batcher.epochFloat,
      valLoss: lastVal,
      bestValLoss: state.bestVal,
      seconds: elapsed(),
      stoppedBy,
      checkpoint: join(cfg.checkpointDir, 'latest.json'),
    };
    reporter.emit(summary);
    showCurveOnTerminal(history, cfg.plotLog);
    info(
      `${stopSignal ? 'stopped' : 'done'} at iteration ${trainer.iter} (epoch ${batcher.epochFloat.toFixed(2)}) after ${formatDuration(elapsed())}` +
        `${lastVal !== null ? `: val loss ${lastVal.toFixed(4)} nats/char (${(lastVal / Math.LN2).toFixed(3)} bits/char), best ${state.bestVal!.toFixed(4)}` : ''}. ` +
        `Saved ${join(cfg.checkpointDir, 'latest.json')}${state.bestVal !== null ? ' and best.json' : ''}; sample with: charrnn sample --checkpoint ${join(cfg.checkpointDir, 'latest.json')}`,
    );
    return stopSignal === 'SIGINT' ? 130 : stopSignal === 'SIGTERM' ? 143 : 0;
  }
}

function describeBounds(cfg: TrainConfig, totalIters: number | null): string {
  const parts: string[] = [];
  if (totalIters !== null) parts.push(`iteration ${totalIters}`);
  if (cfg.time > 0) parts.push(`${formatDuration(cfg.time)} of training`);
  if (cfg.patience > 0) parts.push(`${cfg.patience} evaluations without a better validation loss`);
  return parts.length ? parts.join(' or ') : 'Ctrl-C (no bound)';
}
