// The configuration of a training run. A new run takes the flags; --init-from takes the
// checkpoint's architecture; --resume takes the checkpoint's recorded configuration, architecture
// and engine, and the flags given now override only what does not change the run's meaning
// (bounds, reporting, evaluation cadence). Every disagreement is one UserError line.

import { readCheckpoint, type CheckpointJSON } from '../checkpoint/format';
import { kebab, TRAIN_DEFAULTS, type EngineConfig, type ModelConfig, type OptimConfig, type TrainConfig } from '../config';
import { UserError } from '../io/errors';

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
  /** Names of the options given on the command line (the others are defaults). */
  explicit: Set<string>;
}

/** The run's resolved configuration, and the checkpoint it starts from (null for a fresh run). */
export interface RunConfig extends Configs {
  checkpoint: CheckpointJSON | null;
}

const ARCH_KEYS = ['model', 'hidden', 'layers', 'embed'] as const;

/** Settings that are part of the run's meaning: resuming follows the saved ones, bit for bit. */
const FIXED_ON_RESUME = ['seqLength', 'batchSize', 'valFrac', 'lrSchedule', 'lrDecay', 'lrDecayAfter', 'lrDecayEvery', 'warmupIters', 'minLr', 'lrDecayIters'] as const;

/** Settings that flags given with --resume may change. */
const CHANGEABLE_ON_RESUME: (keyof TrainConfig)[] = [
  ...['iters', 'epochs', 'time', 'evalEvery', 'printEvery', 'sampleEvery', 'checkpointDir', 'recover'] as const,
  ...['patience', 'keep', 'plotLog', 'sampleTemperature', 'sampleLen'] as const,
];

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
  if (!opts.initFrom) return { model, optim, train, engine, checkpoint: null };
  const ck = readCheckpoint(opts.initFrom);
  checkArchitecture(opts, ck.model, '--init-from');
  // The checkpoint's architecture; dropout (training only) as given, else the checkpoint's.
  const dropout = opts.explicit.has('dropout') ? model.dropout : ck.model.dropout;
  return { model: { ...ck.model, dropout }, optim, train, engine, checkpoint: ck };
}

function resumeConfig(opts: RunFlags, file: string): RunConfig {
  const ck = readCheckpoint(file);
  if (!ck.training || !ck.optimizer || !ck.data) {
    throw new UserError(`checkpoint ${file} has no training state to resume from (it was saved without it); use --init-from instead`);
  }
  checkArchitecture(opts, ck.model, '--resume');
  const saved = ck.config as { train?: TrainConfig; optim?: OptimConfig; engine?: EngineConfig };
  if (!saved.train || !saved.optim) {
    throw new UserError(`checkpoint ${file} does not record its training configuration (config.train, config.optim); use --init-from instead`);
  }
  // A setting the checkpoint predates has its default (and --lr-decay alone meant the step schedule).
  const legacy: Pick<TrainConfig, 'lrSchedule'> = { lrSchedule: saved.train.lrDecay !== 1 ? 'step' : 'none' };
  const train = { ...TRAIN_DEFAULTS, ...legacy, ...(saved.train as Partial<TrainConfig>) };
  const cfg = opts.train;
  for (const k of FIXED_ON_RESUME) {
    if (opts.explicit.has(k) && cfg[k] !== train[k]) {
      throw new UserError(`--${kebab(k)} ${cfg[k]} disagrees with the checkpoint given to --resume (${train[k]}); leave it out to resume`);
    }
  }
  for (const k of CHANGEABLE_ON_RESUME) if (opts.explicit.has(k)) (train as Record<string, unknown>)[k] = cfg[k];
  // The same kernels and threads as before, unless asked otherwise, so the numbers match bit for bit.
  let engine = opts.engine;
  if (saved.engine) {
    engine = {
      kernels: opts.explicit.has('kernels') ? engine.kernels : saved.engine.kernels,
      threads: opts.explicit.has('threads') ? engine.threads : saved.engine.threads,
    };
  }
  return { model: ck.model, optim: saved.optim, train, engine, checkpoint: ck };
}
