// Every default of charrnn lives here, once, with the reason for it (the CLI reads them). The CLI help, the
// README flag tables and the checkpoint's stored configuration all come from these objects.

export type CellKind = 'rnn' | 'lstm' | 'gru';
export type OptimizerKind = 'adagrad' | 'rmsprop' | 'adam' | 'sgd';
export type Reduction = 'mean' | 'sum';

export type LrScheduleKind = 'none' | 'step' | 'cosine';

export const CELL_KINDS: readonly CellKind[] = ['rnn', 'lstm', 'gru'];
export const OPTIMIZER_KINDS: readonly OptimizerKind[] = ['adagrad', 'rmsprop', 'adam', 'sgd'];
export const LR_SCHEDULES: readonly LrScheduleKind[] = ['none', 'step', 'cosine'];

/** The flag spelling of a configuration key: seqLength -> seq-length (--seq-length). */
export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** The architecture: everything needed to rebuild a model from its weights. */
export interface ModelConfig {
  model: CellKind;
  hidden: number;
  layers: number;
  /** Embedding width; 0 = one-hot input (char-rnn). */
  embed: number;
  /** Dropout probability between layers and before the output layer (training only). */
  dropout: number;
}

export const MODEL_DEFAULTS: ModelConfig = {
  model: 'lstm', // the best of the three on text; char-rnn's and torch-rnn's default
  // The recipe study (docs/recipes.md): on Tiny Shakespeare 2 x 256 with a 64-wide embedding beat
  // 2 x 128 one-hot (char-rnn's) at 3 and 10 minutes; the corpus-fit rules (train/recipe.ts)
  // shrink it for a small corpus
  hidden: 256,
  layers: 2, // char-rnn's num_layers
  embed: 64, // a learned embedding: cheaper than one-hot for a large vocabulary, and better
  dropout: 0, // the study: none is best for runs of a few epochs; recipe.ts raises it for longer ones
};

/** How the model learns. */
export interface OptimConfig {
  optimizer: OptimizerKind;
  /** Learning rate. */
  lr: number;
  /** Element-wise gradient clip to [-clip, clip]; 0 = off. */
  clip: number;
  /** Clip the global gradient norm to this value; 0 = off. */
  clipNorm: number;
  /** Gradient of the mean loss per character ('mean') or of the sum over the chunk ('sum', min-char-rnn). */
  reduction: Reduction;
}

/** A good learning rate for each optimizer at the default model size (measured on tinyshakespeare). */
export const DEFAULT_LR: Record<OptimizerKind, number> = {
  // with the default cosine schedule (warmup, then decay to a tenth), the recipe study's best at
  // 2 x 256, batch 32 (3 minutes on Tiny Shakespeare: 0.05 1.477, 0.1 1.466, 0.2 1.476); a
  // constant rate wants less: 0.03 (0.1 stalls on the unigram plateau at batch 50 without a warmup)
  adagrad: 0.1,
  rmsprop: 2e-3, // char-rnn's default
  // with the default cosine schedule (warmup, then decay to a tenth): the study's best at 2 x 256,
  // batch 32 (3 minutes on Tiny Shakespeare: 2e-3 1.548, 5e-3 1.514, 8e-3 1.509, 1.2e-2 1.514);
  // torch-rnn's 2e-3 suits a constant rate
  adam: 8e-3,
  sgd: 1, // plain SGD on the mean per-character loss needs a large step
};

export const OPTIM_DEFAULTS: OptimConfig = {
  optimizer: 'adagrad', // min-char-rnn's, and the study's best: tuned alike, it beat Adam by 0.026 and RMSprop by 0.027 (docs/recipes.md)
  lr: DEFAULT_LR.adagrad,
  clip: 5, // min-char-rnn, char-rnn and torch-rnn all clip element-wise to +-5
  clipNorm: 0, // off by default
  reduction: 'mean', // report and differentiate nats/char; 'sum' only for min-char-rnn parity
};

/** Optimizer hyper-parameters that are not flags (the values everybody uses). */
export const OPTIM_CONSTANTS = {
  eps: 1e-8, // Adagrad (min-char-rnn), RMSprop (char-rnn) and Adam epsilon
  rmspropDecay: 0.95, // char-rnn's decay_rate
  adamBeta1: 0.9,
  adamBeta2: 0.999,
};

/** The training run: data, batching, schedule, budget, reporting. */
export interface TrainConfig {
  /** T: characters per stream per step (truncated BPTT length). */
  seqLength: number;
  /** B: parallel streams over the corpus. */
  batchSize: number;
  /** Fraction of the text, at its end, held out for validation. */
  valFrac: number;
  /** Stop after this many iterations (counted from the start of the run); 0 = no bound. */
  iters: number;
  /** Stop after this many epochs; 0 = no bound. */
  epochs: number;
  /** Stop after this many seconds of training; 0 = no bound. */
  time: number;
  /** Multiply the learning rate by this once per epoch (1 = constant). */
  lrDecay: number;
  /** ... starting after this many epochs (char-rnn's learning_rate_decay_after). */
  lrDecayAfter: number;
  /** The learning-rate schedule (src/schedule.ts): constant, char-rnn's step decay, or nanoGPT's cosine. */
  lrSchedule: LrScheduleKind;
  /** step: decay every N epochs from lrDecayAfter on. */
  lrDecayEvery: number;
  /** cosine: linear warmup over this many iterations; null = AUTO_WARMUP (recorded resolved in checkpoints). */
  warmupIters: number | null;
  /** cosine: the rate reached at lrDecayIters and kept after; null = lr / 10. */
  minLr: number | null;
  /** cosine: iteration at which the decay reaches minLr; 0 = the run's bound in iterations or epochs. */
  lrDecayIters: number;
  /** Stop when the validation loss has not improved for this many evaluations; 0 = never. */
  patience: number;
  /** Keep the N most recent numbered checkpoints iter-NNNNNN-val-L.json; 0 = write none. */
  keep: number;
  /** Draw loss.svg with a logarithmic loss axis. */
  plotLog: boolean;
  /** Evaluate on the validation split (and checkpoint) every N iterations. */
  evalEvery: number;
  /** Characters of the validation split each evaluation reads (fixed windows); 0 = all of it. */
  evalChars: number;
  /** Print a progress line every N iterations (when stderr is not a terminal, or with --json). */
  printEvery: number;
  /** Print a short sample preview on stderr every N iterations; 0 = never. */
  sampleEvery: number;
  /** Temperature of the previews (0 = argmax). */
  sampleTemperature: number;
  /** Characters (code points) per preview. */
  sampleLen: number;
  checkpointDir: string;
  seed: number;
  /** On a NaN or exploding loss, roll back to the last evaluation with half the learning rate. */
  recover: boolean;
}

export const TRAIN_DEFAULTS: TrainConfig = {
  seqLength: 64, // the study's recipe (char-rnn and torch-rnn use 50)
  batchSize: 32, // the study's: more updates a minute than char-rnn's 50 at the same GFLOP/s
  valFrac: 0.1, // torch-rnn and nanoGPT hold out the last 10%
  iters: 0,
  epochs: 10, // the bundled corpus reaches 1.466 nats/char in 10 epochs (4 min on 2 cores, native kernels) with the defaults (README)
  time: 0,
  lrDecay: 1, // off; char-rnn uses 0.97 after epoch 10
  lrDecayAfter: 10, // char-rnn's learning_rate_decay_after
  lrSchedule: 'cosine', // the study: decaying to the end of the run (or of --time) beats a constant rate; --lr-decay < 1 alone selects 'step'
  lrDecayEvery: 1, // char-rnn decays at the end of every epoch
  warmupIters: null, // AUTO_WARMUP
  minLr: null, // nanoGPT's rule: a tenth of the learning rate (Chinchilla)
  lrDecayIters: 0, // the run's length, as nanoGPT sets lr_decay_iters = max_iters
  patience: 0, // off: a run stops on its budget, as in char-rnn
  keep: 0, // off: latest.json and best.json are enough for most runs, and numbered files fill disks
  plotLog: false, // linear: the first drop from ln V is part of the story; --plot-log shows the tail
  evalEvery: 200, // about twice an epoch of the bundled corpus at the default batch
  // Evaluation under 5% of a run: forward only, an evaluated character still costs 0.35-0.55 of
  // a trained one (wasm, 2 x 128, measured), so 100,000 every 200 iterations of 2,500 took 10% of
  // the default run; 30,000 takes 3-4% with the final evaluation of the whole split. (A 1 GB
  // corpus's whole 100 MB split would take minutes an evaluation.)
  evalChars: 30_000,
  printEvery: 10,
  sampleEvery: 0,
  sampleTemperature: 1, // as `charrnn sample`: a preview shows what sampling the checkpoint will give
  sampleLen: 200, // a few lines of text: enough to judge, short enough not to bury the progress
  checkpointDir: 'checkpoints',
  seed: 123, // char-rnn's default seed
  recover: false, // stop and keep the last checkpoint, as char-rnn does; --recover to roll back
};

/**
 * The warmup when --warmup-iters is not given: the default rates (Adagrad 0.1, Adam 8e-3) are high
 * for fresh weights (at batch 50, Adagrad's 0.1 from the first step stalls on the unigram
 * plateau); 100 iterations are ~3% of a 3-minute run. A run shorter than 10 x that warms up for a
 * tenth of it (a 50-iteration run: 5).
 */
export const AUTO_WARMUP = { iters: 100, maxShare: 0.1 };

/**
 * The schedule when none is named: 'step' when --lr-decay is below 1, so char-rnn's flags keep
 * working alone; else `otherwise`: the default (cosine) for a new run, 'none' for a checkpoint
 * written before schedules had names (it resumes as it ran).
 */
export function impliedSchedule(lrDecay: number, otherwise: LrScheduleKind = TRAIN_DEFAULTS.lrSchedule): LrScheduleKind {
  return lrDecay !== 1 ? 'step' : otherwise;
}

/** How the engine runs (not part of the model or the run's numbers beyond float rounding). */
export interface EngineConfig {
  kernels: 'auto' | 'native' | 'wasm' | 'js';
  /** Threads for the native and wasm kernels; 0 = one per core. */
  threads: number;
}

export const ENGINE_DEFAULTS: EngineConfig = {
  kernels: 'auto', // native (C++ addon) when it is built, else wasm (WebAssembly SIMD); 'js' is the reference
  threads: 0,
};

/** Sampling. */
export interface SampleConfig {
  checkpoint: string;
  /** Characters (code points) to generate. */
  len: number;
  /** Divides the logits: < 1 is more conservative, > 1 more surprising. */
  temperature: number;
  prime: string;
  echo: boolean;
  argmax: boolean;
  seed: number;
  /** Sample from the k most likely characters only; 0 = all. */
  topK: number;
  /** Nucleus: sample from the most likely characters holding this much of the mass; 1 = all. */
  topP: number;
  /** Independent samples (or the best texts of a beam search). */
  num: number;
  /** Between samples, with backslash escapes (\n, \t, \r, \\). */
  separator: string;
  /** Beam width; 0 = sample instead. */
  beam: number;
  /** GNMT length-penalty exponent of beam search; 0 = rank by the plain sum of log-probabilities. */
  lengthNorm: number;
  /** Prime characters outside the vocabulary: an error, or dropped with a warning. */
  unknown: 'error' | 'skip';
}

export const SAMPLE_DEFAULTS: SampleConfig = {
  checkpoint: 'checkpoints/latest.json',
  len: 500, // nanoGPT's max_new_tokens
  temperature: 1,
  prime: '',
  echo: true, // char-rnn echoes the prime text before the sample
  argmax: false,
  seed: 123,
  topK: 0, // off: plain sampling, as char-rnn
  topP: 1, // off
  num: 1,
  separator: '\\n\\n', // a blank line between samples
  beam: 0, // off
  lengthNorm: 0, // without --stop every hypothesis has --len characters: nothing to normalise
  unknown: 'error', // a silently changed prime would condition the model on another text
};

/** `charrnn explain`: the page of one text through one checkpoint. */
export const EXPLAIN_DEFAULTS = {
  checkpoint: 'checkpoints/latest.json',
  out: 'explain.html',
  // ~0.25 KB of page per character for the default 2 x 128 LSTM (h and c of every unit,
  // quantised, deflated; explain/quantise.ts): 20,000 characters keep the page a few MB
  chars: 20_000,
  top: 5, // guesses shown per character
};
