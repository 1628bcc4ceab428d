// Save this run and restore this run: the one place that knows what a checkpoint records of a
// training run and how a run comes back from it.
//
//   restore  resolveRunConfig: the run's configuration. A new run takes the flags; --init-from
//            the checkpoint's architecture; --resume the checkpoint's recorded configuration,
//            architecture and engine, each flag given now applied (and said) or refused (one
//            line). restoreRunState: the weights, optimizer slots, position, generator, counters.
//   save     RunWriter: the checkpoint built once per save and written as latest.json, best.json
//            and the numbered copy of --keep (folder.ts), so a resumed run continues bit for bit.
// --recover rolls part of the state back in memory (train/recover.ts).

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeTensor,
  encodeTensor,
  encodeTensors,
  loadTensors,
  readCheckpoint,
  FORMAT,
  VERSION,
  type CheckpointJSON,
  type DataJSON,
  type HistoryJSON,
} from './format';
import { keepNumbered, pruneNumbered } from './folder';
import { impliedSchedule, kebab, OPTIM_DEFAULTS, TRAIN_DEFAULTS, type EngineConfig, type ModelConfig, type OptimConfig, type TrainConfig } from '../config';
import type { Vocab } from '../data/corpus';
import { writeFileAtomic } from '../io/atomic';
import { UserError } from '../io/errors';
import type { Trainer } from '../train/step';

// ---- restore: the configuration ----

/** The configurations of a run (config.ts). */
interface Configs {
  model: ModelConfig;
  optim: OptimConfig;
  train: TrainConfig;
  engine: EngineConfig;
}

/** What the command line says about the run (train.ts adds the corpus and the output mode). */
export interface RunFlags extends Configs {
  /** Checkpoint to continue from, exactly. */
  resume: string | null;
  /** Checkpoint whose weights start a new run. */
  initFrom: string | null;
  /** A new run may replace the run its --checkpoint-dir holds. */
  force: boolean;
  /** Names of the options given on the command line (the others are defaults). */
  explicit: Set<string>;
}

/** The run's resolved configuration, and the checkpoint it starts from (null for a fresh run). */
export interface RunConfig extends Configs {
  checkpoint: CheckpointJSON | null;
  /** What --resume took from the flags instead of the checkpoint, one line each, for stderr. */
  changes: string[];
}

const ARCH_KEYS = ['model', 'hidden', 'layers', 'embed'] as const;

/** Settings that are part of the run's meaning: resuming follows the saved ones, bit for bit. */
const FIXED_ON_RESUME = ['seqLength', 'batchSize', 'valFrac', 'seed', 'lrSchedule', 'lrDecay', 'lrDecayAfter', 'lrDecayEvery', 'warmupIters', 'minLr', 'lrDecayIters'] as const;

/** Settings that flags given with --resume change (besides the bounds): reporting, evaluation. */
const CHANGEABLE_ON_RESUME: (keyof TrainConfig)[] = [
  ...['evalEvery', 'evalChars', 'printEvery', 'sampleEvery', 'checkpointDir', 'recover'] as const,
  ...['patience', 'keep', 'plotLog', 'sampleTemperature', 'sampleLen'] as const,
];

/** The run's bounds: given with --resume, they replace all the saved ones (the ones not given are off). */
const BOUNDS = ['iters', 'epochs', 'time'] as const;

/** Optimization flags a resumed run takes (its optimizer state stays valid): the common fix of a stalled or unstable run. */
const OPTIM_ON_RESUME = ['lr', 'clip', 'clipNorm', 'reduction'] as const;

/** Architecture flags given on the command line must agree with a checkpoint's. */
function checkArchitecture(opts: RunFlags, ck: ModelConfig, flag: string): void {
  for (const k of ARCH_KEYS) {
    if (opts.explicit.has(k) && opts.model[k] !== ck[k]) {
      throw new UserError(`--${k} ${opts.model[k]} disagrees with the checkpoint given to ${flag} (${k} ${ck[k]}); leave --${k} out`);
    }
  }
}

/** The run's configuration from the flags and, for --resume or --init-from, the checkpoint (read here). */
export function resolveRunConfig(opts: RunFlags): RunConfig {
  if (opts.resume) return resumeConfig(opts, opts.resume);
  const { model, optim, train, engine } = opts;
  if (!opts.initFrom) return { model, optim, train, engine, checkpoint: null, changes: [] };
  const ck = readCheckpoint(opts.initFrom, '--init-from PATH');
  checkArchitecture(opts, ck.model, '--init-from');
  // The checkpoint's architecture; dropout (training only) as given, else the checkpoint's.
  const dropout = opts.explicit.has('dropout') ? model.dropout : ck.model.dropout;
  return { model: { ...ck.model, dropout }, optim, train, engine, checkpoint: ck, changes: [] };
}

/** Copy the flags given of `keys` over `into`, listing each change as "--flag new instead of the checkpoint's old". */
function applyGiven<T extends object>(into: T, given: T, keys: readonly (keyof T & string)[], explicit: Set<string>, changes: string[]): void {
  for (const k of keys) {
    if (!explicit.has(k) || given[k] === into[k]) continue;
    changes.push(`resuming with --${kebab(k)} ${String(given[k])} instead of the checkpoint's ${String(into[k])}`);
    into[k] = given[k];
  }
}

function resumeConfig(opts: RunFlags, file: string): RunConfig {
  const ck = readCheckpoint(file, '--resume PATH');
  if (!ck.training || !ck.optimizer || !ck.data) {
    throw new UserError(`checkpoint ${file} has no training state to resume from (it was saved without it); use --init-from instead`);
  }
  checkArchitecture(opts, ck.model, '--resume');
  const saved = ck.config;
  if (!saved.train || !saved.optim) {
    throw new UserError(`checkpoint ${file} does not record its training configuration (config.train, config.optim); use --init-from instead`);
  }
  // A setting the checkpoint predates has its default (and --lr-decay alone meant the step schedule).
  const train: TrainConfig = { ...TRAIN_DEFAULTS, lrSchedule: impliedSchedule(saved.train.lrDecay ?? 1, 'none'), ...saved.train };
  for (const k of FIXED_ON_RESUME) {
    if (opts.explicit.has(k) && opts.train[k] !== train[k]) {
      throw new UserError(`--${kebab(k)} ${opts.train[k]} disagrees with the checkpoint given to --resume (${train[k]}); leave it out to resume`);
    }
  }
  const optim: OptimConfig = { ...OPTIM_DEFAULTS, ...saved.optim };
  if (opts.explicit.has('optimizer') && opts.optim.optimizer !== optim.optimizer) {
    throw new UserError(
      `--optimizer ${opts.optim.optimizer} disagrees with the checkpoint given to --resume (${optim.optimizer}), whose optimizer state does not carry over; ` +
        `leave --optimizer out to resume, or start a new run from its weights with --init-from`,
    );
  }
  const changes: string[] = [];
  // A bound given now replaces the saved ones, as on a new run an explicit --iters or --time
  // replaces the default --epochs: else `--resume --iters 5000` stops at the saved epoch bound.
  if (BOUNDS.some((k) => opts.explicit.has(k))) for (const k of BOUNDS) train[k] = opts.train[k];
  // the bounds are in the summary line; reporting and evaluation changes are said here
  applyGiven(train, opts.train, CHANGEABLE_ON_RESUME, opts.explicit, changes);
  const i = changes.findIndex((c) => c.startsWith('resuming with --eval-chars'));
  if (i >= 0) changes[i] += ' (other validation windows: the losses before and after are not comparable)';
  applyGiven(optim, opts.optim, OPTIM_ON_RESUME, opts.explicit, changes);
  const model = { ...ck.model };
  applyGiven(model, opts.model, ['dropout'], opts.explicit, changes);
  // The same kernels and threads as before, unless asked otherwise, so the numbers match bit for bit.
  const engine = { ...opts.engine, ...saved.engine };
  applyGiven(engine, opts.engine, ['kernels', 'threads'], opts.explicit, changes);
  return { model, optim, train, engine, checkpoint: ck, changes };
}

// ---- restore: the state ----

/** The training loop's counters. */
export interface RunState {
  history: HistoryJSON;
  charsSeen: number;
  /** The best validation loss so far, and the evaluations since it (for --patience). */
  bestVal: number | null;
  evalsSinceBest: number;
  /** Sum and count of the training losses since the last history point. */
  lossSum: number;
  lossCount: number;
  /** The schedule's learning rate of the last update (before lrScale). */
  lr: number;
  /** The factor on the learning rate that each --recover rollback halves. */
  lrScale: number;
  /** Seconds of training in the run's earlier sessions. */
  elapsedBefore: number;
}

/** The counters of a run that starts now. */
export function newRunState(lr: number): RunState {
  return { history: { train: [], val: [] }, charsSeen: 0, bestVal: null, evalsSinceBest: 0, lossSum: 0, lossCount: 0, lr, lrScale: 1, elapsedBefore: 0 };
}

/** --resume: load the weights, optimizer slots and position of `ck` into the trainer; returns the counters. */
export function restoreRunState(ck: CheckpointJSON, file: string, trainer: Trainer): RunState {
  const st = ck.training!;
  const { model, batcher } = trainer;
  loadTensors(model.params.t, ck.tensors, ck.model, ck.vocab.length, file);
  const opt = ck.optimizer!;
  if (opt.kind !== trainer.optim.optimizer || opt.slots.length !== model.slots.length) {
    throw new UserError(
      `checkpoint ${file}: optimizer holds ${opt.slots.length} slot${opt.slots.length === 1 ? '' : 's'} of ${opt.kind}, ` +
        `config.optim.optimizer ${trainer.optim.optimizer} needs ${model.slots.length}; use --init-from instead`,
    );
  }
  opt.slots.forEach((slot, i) => loadTensors(model.slots[i].t, slot, ck.model, ck.vocab.length, file));
  trainer.iter = st.iter;
  batcher.epoch = st.epoch;
  batcher.pos = st.batchPos;
  const hidden = decodeTensor(st.hidden, 'training.hidden', file);
  if (hidden.length !== trainer.ws.stateSize) {
    throw new UserError(`checkpoint ${file}: training.hidden holds ${hidden.length} values, the run's state needs ${trainer.ws.stateSize}; use --init-from instead`);
  }
  trainer.ws.loadState(hidden);
  trainer.rng.setState(st.rng);
  const [lossSum, lossCount] = st.pendingLoss ?? [0, 0];
  return {
    history: ck.history,
    charsSeen: st.charsSeen,
    bestVal: st.bestValLoss,
    evalsSinceBest: st.evalsSinceBest,
    lossSum,
    lossCount,
    lr: st.lr,
    lrScale: st.lrScale ?? 1,
    elapsedBefore: st.elapsed,
  };
}

// ---- save ----

/** What every checkpoint of the run records besides its state. */
export interface RunRecord {
  /** The configuration, for the record and for --resume. */
  config: { train: TrainConfig; optim: OptimConfig; engine: EngineConfig };
  vocab: Vocab;
  data: DataJSON;
}

/** Writes the checkpoints of a run into its --checkpoint-dir. */
export class RunWriter {
  /** Whether this session has saved (for the explosion message). */
  savedOnce = false;

  constructor(
    private readonly record: RunRecord,
    /**
     * A new run (not --resume): a best.json left in the folder is not its own; and with --force,
     * neither are the numbered checkpoints there (the pruning would keep the old run's over its).
     */
    private readonly o: { fresh: boolean; force: boolean },
  ) {}

  /** The run's training configuration from now on (a cosine --time run fixes its lrDecayIters once). */
  setTrainConfig(train: TrainConfig): void {
    this.record.config = { ...this.record.config, train };
  }

  /**
   * Build the checkpoint once and write it as latest.json, as best.json when `best`, and as a
   * numbered copy with --keep (`valLoss` names it).
   */
  save(trainer: Trainer, state: RunState, elapsed: number, o: { best: boolean; valLoss: number | null }): void {
    const { checkpointDir: dir, keep } = this.record.config.train;
    const text = Buffer.from(JSON.stringify(this.build(trainer, state, elapsed))); // converted once for every copy
    if (this.o.fresh && !this.savedOnce) {
      if (!o.best) rmSync(join(dir, 'best.json'), { force: true });
      if (this.o.force) pruneNumbered(dir, 0);
    }
    writeFileAtomic(join(dir, 'latest.json'), text);
    if (o.best) writeFileAtomic(join(dir, 'best.json'), text);
    if (keep > 0) keepNumbered(dir, text, trainer.iter, o.valLoss, keep);
    this.savedOnce = true;
  }

  /** The checkpoint of the run as it is (docs/checkpoint-format.md). */
  build(trainer: Trainer, state: RunState, elapsed: number): CheckpointJSON {
    const { model, batcher, rng } = trainer;
    const { config, vocab, data } = this.record;
    const m = model.config;
    return {
      format: FORMAT,
      version: VERSION,
      created: new Date().toISOString(),
      model: m,
      config,
      vocab: [...vocab.codePoints],
      tensors: encodeTensors(model.params.t, m, model.V),
      optimizer: { kind: config.optim.optimizer, step: trainer.iter, slots: model.slots.map((s) => encodeTensors(s.t, m, model.V)) },
      training: {
        iter: trainer.iter,
        epoch: batcher.epoch,
        batchPos: batcher.pos,
        rng: rng.state(),
        hidden: hiddenState(trainer),
        bestValLoss: state.bestVal,
        evalsSinceBest: state.evalsSinceBest,
        elapsed,
        charsSeen: state.charsSeen,
        lr: state.lr,
        pendingLoss: [state.lossSum, state.lossCount],
        lrScale: state.lrScale,
      },
      data,
      history: state.history,
    };
  }
}

/** The hidden state carried into the next batch, as float32 (what the checkpoint keeps). */
function hiddenState(trainer: Trainer) {
  const h = new Float32Array(trainer.ws.stateSize);
  trainer.ws.saveState(h);
  return encodeTensor(h, [h.length]);
}
