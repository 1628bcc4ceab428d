// Every default of charrnn lives here, once, with the reason for it (the CLI reads them). The CLI help, the
// README flag tables and the checkpoint's stored configuration all come from these objects.

export type CellKind = 'rnn' | 'lstm' | 'gru';
export type OptimizerKind = 'adagrad' | 'rmsprop' | 'adam' | 'sgd';
export type Reduction = 'mean' | 'sum';

export const CELL_KINDS: readonly CellKind[] = ['rnn', 'lstm', 'gru'];
export const OPTIMIZER_KINDS: readonly OptimizerKind[] = ['adagrad', 'rmsprop', 'adam', 'sgd'];

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
  hidden: 128, // char-rnn's rnn_size: trains on a laptop CPU in minutes
  layers: 2, // char-rnn's num_layers
  embed: 0, // one-hot input, as char-rnn
  dropout: 0, // off: tiny models on ~1 MB corpora barely overfit
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
  // min-char-rnn's 0.1 suits its batch-1, 100-unit RNN; at batch 50, for LSTM and GRU and for
  // a 128-unit RNN, 0.1 stalls on the unigram plateau (3.3 nats/char after 200 iterations on
  // tinyshakespeare) while 0.03 reaches 2.4 (measured; README, "Defaults")
  adagrad: 0.03,
  rmsprop: 2e-3, // char-rnn's default
  adam: 2e-3, // torch-rnn's default
  sgd: 1, // plain SGD on the mean per-character loss needs a large step
};

export const OPTIM_DEFAULTS: OptimConfig = {
  optimizer: 'adagrad', // min-char-rnn's optimizer
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
  /** Evaluate on the validation split (and checkpoint) every N iterations. */
  evalEvery: number;
  /** Print a progress line every N iterations (when stderr is not a terminal, or with --json). */
  printEvery: number;
  /** Print a short sample preview on stderr every N iterations; 0 = never. */
  sampleEvery: number;
  checkpointDir: string;
  seed: number;
  /** On a NaN or exploding loss, roll back to the last evaluation with half the learning rate. */
  recover: boolean;
}

export const TRAIN_DEFAULTS: TrainConfig = {
  seqLength: 50, // char-rnn and torch-rnn
  batchSize: 50, // char-rnn and torch-rnn
  valFrac: 0.1, // torch-rnn and nanoGPT hold out the last 10%
  iters: 0,
  epochs: 10, // the bundled corpus reaches about 1.5 nats/char in 10 epochs at the default size
  time: 0,
  lrDecay: 1, // off; char-rnn uses 0.97 after epoch 10
  lrDecayAfter: 10, // char-rnn's learning_rate_decay_after
  evalEvery: 200, // about twice an epoch of the bundled corpus at the default batch
  printEvery: 10,
  sampleEvery: 0,
  checkpointDir: 'checkpoints',
  seed: 123, // char-rnn's default seed
  recover: false, // stop and keep the last checkpoint, as char-rnn does; --recover to roll back
};

/** How the engine runs (not part of the model or the run's numbers beyond float rounding). */
export interface EngineConfig {
  kernels: 'js' | 'wasm';
  /** Worker threads for the wasm kernels; 0 = one per core. */
  threads: number;
}

export const ENGINE_DEFAULTS: EngineConfig = {
  kernels: 'wasm', // WebAssembly SIMD; 'js' is the plain TypeScript reference
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
}

export const SAMPLE_DEFAULTS: SampleConfig = {
  checkpoint: 'checkpoints/latest.json',
  len: 500, // nanoGPT's max_new_tokens
  temperature: 1,
  prime: '',
  echo: true, // char-rnn echoes the prime text before the sample
  argmax: false,
  seed: 123,
};
