// Every default of charrnn lives here, once, with the reason for it. The CLI help, the
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
  adagrad: 0.1, // min-char-rnn's value; Adagrad is invariant to the gradient's scale
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
