// `charrnn train`: read the corpus, build (or restore) the model, and run the training loop:
// schedule, evaluate and checkpoint, forward/backward, clip, update, report, stop.

import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Batcher } from './batcher';
import {
  decodeTensor,
  encodeTensor,
  encodeTensors,
  fingerprint,
  loadTensors,
  readCheckpoint,
  writeFileAtomic,
  FORMAT,
  VERSION,
  type CheckpointJSON,
  type HistoryJSON,
} from './checkpoint';
import { TRAIN_DEFAULTS, type EngineConfig, type ModelConfig, type OptimConfig, type TrainConfig } from './config';
import { describeChar, readCorpus, splitCorpus, Vocab, type Corpus } from './data';
import { UserError } from './errors';
import { keepNumbered, patienceExhausted, patienceMessage } from './housekeeping';
import { color, info, warn } from './log';
import { resolveThreads } from './kernels';
import { Model } from './model';
import { showCurveOnTerminal, writeLossPlot } from './plot';
import { printableText, wrapLines } from './printable';
import { formatDuration, Reporter } from './report';
import { Rng } from './rng';
import { Sampler } from './sampler';
import { describeSchedule, learningRate, resolveSchedule } from './schedule';
import { Trainer } from './trainer';

export interface TrainOptions {
  corpus: string[];
  model: ModelConfig;
  optim: OptimConfig;
  train: TrainConfig;
  engine: EngineConfig;
  /** Checkpoint to continue from, exactly. */
  resume: string | null;
  /** Checkpoint whose weights start a new run. */
  initFrom: string | null;
  /** Names of the options given on the command line (the others are defaults). */
  explicit: Set<string>;
  json: boolean;
}

/** The corpus used when none is given. */
export function bundledCorpus(): string {
  // dist/cli.js and src/train.ts are both one level below the package root.
  return resolve(__dirname, '..', 'data', 'tinyshakespeare.txt');
}

const ARCH_KEYS = ['model', 'hidden', 'layers', 'embed'] as const;

/** Architecture flags given on the command line must agree with a checkpoint's. */
function checkArchitecture(opts: TrainOptions, ck: ModelConfig, flag: string): void {
  for (const k of ARCH_KEYS) {
    if (opts.explicit.has(k) && opts.model[k] !== ck[k]) {
      throw new UserError(`--${k} ${opts.model[k]} disagrees with the checkpoint given to ${flag} (${k} ${ck[k]}); leave --${k} out`);
    }
  }
}

function describeUnknown(unknown: Map<number, number>): string {
  const list = [...unknown.entries()].slice(0, 5).map(([cp, n]) => `${describeChar(cp)} x${n}`);
  return list.join(', ') + (unknown.size > 5 ? `, and ${unknown.size - 5} more` : '');
}

export async function runTrain(opts: TrainOptions): Promise<number> {
  let { model: modelCfg, optim, train: cfg } = opts;
  let { engine } = opts;

  // Resume: configuration, architecture and data from the checkpoint; flags given now override
  // only what does not change the run's meaning (bounds, reporting, evaluation cadence).
  let ck: CheckpointJSON | null = null;
  if (opts.resume) {
    ck = readCheckpoint(opts.resume);
    if (!ck.training || !ck.optimizer || !ck.data) {
      throw new UserError(`checkpoint ${opts.resume} has no training state to resume from (it was saved without it); use --init-from instead`);
    }
    checkArchitecture(opts, ck.model, '--resume');
    const saved = ck.config as { train?: TrainConfig; optim?: OptimConfig };
    if (!saved.train || !saved.optim) {
      throw new UserError(`checkpoint ${opts.resume} does not record its training configuration (config.train, config.optim); use --init-from instead`);
    }
    // A setting the checkpoint predates has its default (and --lr-decay alone meant the step schedule).
    const legacy: Pick<TrainConfig, 'lrSchedule'> = { lrSchedule: saved.train.lrDecay !== 1 ? 'step' : 'none' };
    const merged = { ...TRAIN_DEFAULTS, ...legacy, ...(saved.train as Partial<TrainConfig>) };
    // The schedule is part of the run's meaning too: resuming follows the saved one, bit for bit.
    const fixed = ['seqLength', 'batchSize', 'valFrac', 'lrSchedule', 'lrDecay', 'lrDecayAfter', 'lrDecayEvery', 'warmupIters', 'minLr', 'lrDecayIters'] as const;
    for (const k of fixed) {
      if (opts.explicit.has(k) && cfg[k] !== merged[k]) {
        throw new UserError(`--${kebab(k)} ${cfg[k]} disagrees with the checkpoint given to --resume (${merged[k]}); leave it out to resume`);
      }
    }
    const keepTrain: (keyof TrainConfig)[] = [
      ...['iters', 'epochs', 'time', 'evalEvery', 'printEvery', 'sampleEvery', 'checkpointDir', 'recover'] as const,
      ...['patience', 'keep', 'plotLog', 'sampleTemperature', 'sampleLen'] as const,
    ];
    for (const k of keepTrain) if (opts.explicit.has(k)) (merged as Record<string, unknown>)[k] = cfg[k];
    cfg = merged;
    optim = saved.optim;
    // The same kernels and threads as before, unless asked otherwise, so the numbers match bit for bit.
    const savedEngine = (ck.config as { engine?: EngineConfig }).engine;
    if (savedEngine) {
      engine = {
        kernels: opts.explicit.has('kernels') ? engine.kernels : savedEngine.kernels,
        threads: opts.explicit.has('threads') ? engine.threads : savedEngine.threads,
      };
    }
    modelCfg = ck.model;
  } else if (opts.initFrom) {
    ck = readCheckpoint(opts.initFrom);
    checkArchitecture(opts, ck.model, '--init-from');
    modelCfg = { ...ck.model, dropout: opts.explicit.has('dropout') ? modelCfg.dropout : ck.model.dropout };
  }

  try {
    mkdirSync(cfg.checkpointDir, { recursive: true });
  } catch (e) {
    throw new UserError(`cannot create --checkpoint-dir ${cfg.checkpointDir}: ${(e as Error).message.replace(/^\w+: /, '')}; choose another folder`);
  }
  removeStaleTemporaries(cfg.checkpointDir);

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
  let doVal = valIds.length > B;
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
    let history: HistoryJSON = { train: [], val: [] };
    let bestVal: number | null = null;
    let evalsSinceBest = 0;
    let elapsedBefore = 0;
    let charsSeen = 0;
    let lr = optim.lr;

    if (ck && opts.resume) {
      const st = ck.training!;
      loadTensors(model.params.t, ck.tensors, ck.model, ck.vocab.length, opts.resume);
      ck.optimizer!.slots.forEach((slot, i) => loadTensors(model.slots[i].t, slot, ck!.model, ck!.vocab.length, opts.resume!));
      trainer.iter = st.iter;
      batcher.epoch = st.epoch;
      batcher.pos = st.batchPos;
      trainer.ws.loadState(decodeTensor(st.hidden, 'training.hidden', opts.resume));
      rng.setState(st.rng);
      history = ck.history;
      bestVal = st.bestValLoss;
      evalsSinceBest = st.evalsSinceBest;
      elapsedBefore = st.elapsed;
      charsSeen = st.charsSeen;
      lr = st.lr;
    } else if (ck && opts.initFrom) {
      loadTensors(model.params.t, ck.tensors, ck.model, ck.vocab.length, opts.initFrom);
    } else {
      model.init(rng);
    }

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
    info(
      `model: ${modelCfg.model}, ${modelCfg.layers} x ${modelCfg.hidden}, ${modelCfg.embed > 0 ? 'embedding ' + modelCfg.embed : 'one-hot input'}, ` +
        `dropout ${modelCfg.dropout}: ${model.paramCount.toLocaleString('en-US')} parameters`,
    );
    info(
      `training: ${trainIds.length.toLocaleString('en-US')} chars, validation ${doVal ? valIds.length.toLocaleString('en-US') : 'off'}; ` +
        `batch ${B} x seq ${T}, ${bpe} batches/epoch; ${optim.optimizer} lr ${optim.lr} (${describeSchedule(schedule)}), clip ${optim.clip}` +
        `${optim.clipNorm > 0 ? ', clip-norm ' + optim.clipNorm : ''}; stop at ${describeBounds(cfg, totalIters)}; ` +
        `kernels ${engine.kernels}${engine.kernels === 'wasm' ? ' x' + resolveThreads(engine.threads) + ' threads' : ''}; seed ${cfg.seed}` +
        (opts.resume ? `; resuming at iteration ${trainer.iter}` : opts.initFrom ? `; weights from ${opts.initFrom}` : ''),
    );

    const reporter = new Reporter(opts.json, cfg.printEvery);
    const sessionStart = Date.now();
    const elapsed = () => elapsedBefore + (Date.now() - sessionStart) / 1000;
    let stopSignal: NodeJS.Signals | null = null;
    const onSignal = (sig: NodeJS.Signals) => {
      if (stopSignal) process.exit(sig === 'SIGINT' ? 130 : 143); // second signal: leave now
      stopSignal = sig;
      reporter.note(color.yellow(`${sig}: stopping after this step and saving ${join(cfg.checkpointDir, 'latest.json')} (again to quit now)`));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    let savedOnce = false; // whether this run has written a checkpoint (for the explosion message)
    const save = (name: string) => {
      const json: CheckpointJSON = {
        format: FORMAT,
        version: VERSION,
        created: new Date().toISOString(),
        model: modelCfg,
        config: { train: cfg, optim, engine },
        vocab: [...corpus.vocab.codePoints],
        tensors: encodeTensors(model.params.t, modelCfg, model.V),
        optimizer: {
          kind: optim.optimizer,
          step: trainer.iter,
          slots: model.slots.map((s) => encodeTensors(s.t, modelCfg, model.V)),
        },
        training: {
          iter: trainer.iter,
          epoch: batcher.epoch,
          batchPos: batcher.pos,
          rng: rng.state(),
          hidden: hiddenState(),
          bestValLoss: bestVal,
          evalsSinceBest,
          elapsed: elapsed(),
          charsSeen,
          lr,
          pendingLoss: [lossSum, lossCount],
          lrScale,
        },
        data: { sources: sources.map((s) => (s === '-' ? s : resolve(s))), chars: corpus.ids.length, fingerprint: fp, valFrac: cfg.valFrac },
        history,
      };
      writeFileAtomic(join(cfg.checkpointDir, name), JSON.stringify(json));
      savedOnce = true;
    };
    const hiddenState = () => {
      const h = new Float32Array(trainer.ws.stateSize);
      trainer.ws.saveState(h);
      return encodeTensor(h, [h.length]);
    };

    const evaluateAndSave = () => {
      let improved = false;
      if (doVal) {
        const v = trainer.evaluate(valIds);
        history.val.push([trainer.iter, charsSeen, v.loss]);
        improved = bestVal === null || v.loss < bestVal;
        if (improved) {
          bestVal = v.loss;
          evalsSinceBest = 0;
        } else evalsSinceBest++;
        reporter.emit({ type: 'val', iter: trainer.iter, epoch: batcher.epochFloat, valLoss: v.loss, bestValLoss: bestVal });
        lastVal = v.loss;
      }
      save('latest.json');
      if (improved) save('best.json');
      if (cfg.keep > 0) keepNumbered(cfg.checkpointDir, 'latest.json', trainer.iter, doVal ? lastVal : null, cfg.keep);
      const meta = { model: modelCfg, vocabSize: corpus.vocab.size, sources, iter: trainer.iter, epoch: batcher.epochFloat };
      writeLossPlot(cfg.checkpointDir, history, meta, cfg.plotLog);
      keepGood();
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
    let [lossSum, lossCount] = (opts.resume && ck?.training?.pendingLoss) || [0, 0];
    let windowStart = Date.now();
    let windowChars = 0;
    let speed = 0;
    let stoppedBy = 'done';

    // --recover: the last good state (the start, then every evaluation), kept in memory, and the
    // factor on the learning rate that each rollback halves.
    let lrScale = (opts.resume && ck?.training?.lrScale) || 1;
    let recoveries = 0;
    const good = {
      params: cfg.recover ? model.params.flat.slice() : model.params.flat.subarray(0, 0),
      slots: cfg.recover ? model.slots.map((s) => s.flat.slice()) : [],
      hidden: new Float64Array(trainer.ws.stateSize),
      iter: 0,
      epoch: 0,
      pos: 0,
      rng: rng.state(),
      charsSeen,
      bestVal,
      evalsSinceBest,
      nTrain: 0,
      nVal: 0,
      lossSum,
      lossCount,
    };
    const keepGood = () => {
      if (!cfg.recover) return;
      good.params.set(model.params.flat);
      model.slots.forEach((s, i) => good.slots[i].set(s.flat));
      trainer.ws.saveState(good.hidden);
      Object.assign(good, { iter: trainer.iter, epoch: batcher.epoch, pos: batcher.pos, rng: rng.state() });
      Object.assign(good, { charsSeen, bestVal, evalsSinceBest, lossSum, lossCount });
      Object.assign(good, { nTrain: history.train.length, nVal: history.val.length });
    };
    const backToGood = () => {
      model.params.flat.set(good.params);
      model.slots.forEach((s, i) => s.flat.set(good.slots[i]));
      trainer.ws.loadState(good.hidden);
      trainer.iter = good.iter;
      batcher.epoch = good.epoch;
      batcher.pos = good.pos;
      rng.setState(good.rng);
      ({ charsSeen, bestVal, evalsSinceBest, lossSum, lossCount } = good);
      history.train.length = good.nTrain;
      history.val.length = good.nVal;
    };
    keepGood();

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
      if (patienceExhausted(cfg.patience, evalsSinceBest)) {
        stoppedBy = 'patience';
        reporter.note(color.yellow(patienceMessage(cfg.patience, history)));
        break;
      }

      // schedule: a function of the iteration alone (src/schedule.ts), so resuming is exact
      lr = learningRate(trainer.iter, schedule);

      // forward/backward, clip, update
      const r = trainer.step(lr * lrScale);
      charsSeen += B * T;

      // guard: a NaN or exploding loss stops the run; the last checkpoint stays as it was.
      // "Exploding" is relative to the first loss, but never below the uniform guess ln V: a run
      // from trained weights (--init-from) can start near 0 and meet harder text later.
      if (firstLoss === null) firstLoss = r.loss;
      if (!Number.isFinite(r.loss) || r.loss > 3 * Math.max(firstLoss, Math.log(model.V))) {
        if (cfg.recover && recoveries < MAX_RECOVERIES) {
          const bad = r.loss;
          backToGood();
          lrScale /= 2;
          recoveries++;
          warn(`the loss ${Number.isFinite(bad) ? 'exploded to ' + bad.toFixed(3) : 'became ' + bad}; rolled back to iteration ${trainer.iter} with the learning rate halved (x${lrScale}, recovery ${recoveries} of ${MAX_RECOVERIES})`);
          continue;
        }
        reporter.stop();
        throw new UserError(
          `the loss ${Number.isFinite(r.loss) ? 'exploded to ' + r.loss.toFixed(3) : 'became ' + r.loss} at iteration ${trainer.iter}; ` +
            (savedOnce || opts.resume
              ? `the last checkpoint in ${cfg.checkpointDir} is intact. Lower --lr or set --clip-norm, then --resume`
              : `no checkpoint was saved yet (the first is due at iteration ${Math.min(cfg.evalEvery, maxIters)}). Lower --lr or set --clip-norm and start again`),
        );
      }

      // report
      lossSum += r.loss;
      lossCount++;
      windowChars += B * T;
      const now = Date.now();
      if (now - windowStart > 1000 || speed === 0) {
        speed = (windowChars * 1000) / Math.max(1, now - windowStart);
        windowStart = now;
        windowChars = 0;
      }
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
        lr: lr * lrScale,
        charsPerSec: speed,
        eta: Number.isFinite(eta) ? eta : null,
      });
      if (trainer.iter % cfg.printEvery === 0) {
        history.train.push([trainer.iter, charsSeen, lossSum / lossCount]);
        lossSum = 0;
        lossCount = 0;
      }

      // evaluate and checkpoint (not counted in the training speed)
      const pauseStart = Date.now();
      if (trainer.iter % cfg.evalEvery === 0) evaluateAndSave();
      if (cfg.sampleEvery > 0 && trainer.iter % cfg.sampleEvery === 0) preview();
      windowStart += Date.now() - pauseStart;

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
      bestValLoss: bestVal,
      seconds: elapsed(),
      stoppedBy,
      checkpoint: join(cfg.checkpointDir, 'latest.json'),
    };
    reporter.emit(summary);
    showCurveOnTerminal(history, cfg.plotLog);
    info(
      `${stopSignal ? 'stopped' : 'done'} at iteration ${trainer.iter} (epoch ${batcher.epochFloat.toFixed(2)}) after ${formatDuration(elapsed())}` +
        `${lastVal !== null ? `: val loss ${lastVal.toFixed(4)} nats/char (${(lastVal / Math.LN2).toFixed(3)} bits/char), best ${bestVal!.toFixed(4)}` : ''}. ` +
        `Saved ${join(cfg.checkpointDir, 'latest.json')}${bestVal !== null ? ' and best.json' : ''}; sample with: charrnn sample --checkpoint ${join(cfg.checkpointDir, 'latest.json')}`,
    );
    return stopSignal === 'SIGINT' ? 130 : stopSignal === 'SIGTERM' ? 143 : 0;
  }
}

/** Temporary files of checkpoint writes that a killed run left behind (see writeFileAtomic). */
function removeStaleTemporaries(dir: string): void {
  for (const f of readdirSync(dir)) {
    if (/^\..+\.(json|svg)\.\d+\.tmp$/.test(f)) rmSync(join(dir, f), { force: true });
  }
}

/** --recover halves the learning rate at most this many times before giving up. */
const MAX_RECOVERIES = 8;

function describeBounds(cfg: TrainConfig, totalIters: number | null): string {
  const parts: string[] = [];
  if (totalIters !== null) parts.push(`iteration ${totalIters}`);
  if (cfg.time > 0) parts.push(`${formatDuration(cfg.time)} of training`);
  if (cfg.patience > 0) parts.push(`${cfg.patience} evaluations without a better validation loss`);
  return parts.length ? parts.join(' or ') : 'Ctrl-C (no bound)';
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}
