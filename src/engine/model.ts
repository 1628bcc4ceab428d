// The character model: (one-hot | embedding) -> L recurrent layers -> linear -> softmax.
// A Model owns the arena: parameters, gradients and optimizer state (one flat layout) and one
// Workspace of activations per batch shape (B, T) it was built for: training uses (B, T),
// sampling (1, 1). All of them are views into one buffer, allocated once.
//
// Shape legend: B batch, T steps, E embedding, H hidden, V vocab, L layers, P parameters.
// Tensor names: embed (V,E) if E > 0; per layer n: l{n}.Wx (D,G), l{n}.Wh (H,G), l{n}.b (G),
// GRU also l{n}.bh (G); out.W (H,V), out.b (V). D = E, or V for one-hot, for layer 0; H above.

import { Arena, Counter, type Allocator, type Dtype, type Vec } from './arena';
import { fillNormal, fillUniform } from './cells/cell';
import { CELLS } from './cells';
import type { ModelConfig, OptimizerKind } from '../config';
import { createBackend, type Backend, type KernelChoice } from './kernels';
import type { Kernels } from './kernels/types';
import { Layer } from './cells/layer';
import { ParamBuffer, ParamLayout, type TensorSpec } from './params';
import type { Rng } from './rng';
import { fillDropoutMask, maskSeed } from './dropout';

export interface BatchShape {
  B: number;
  T: number;
}

export interface ModelOptions {
  config: ModelConfig;
  vocabSize: number;
  /** One workspace per shape, in this order. */
  shapes: BatchShape[];
  /** Optimizer whose state slots to allocate (none when only sampling or evaluating). */
  optimizer?: OptimizerKind | null;
  dtype?: Dtype;
  kernels?: KernelChoice;
  threads?: number;
}

/** Number of state buffers (each of the parameters' layout) an optimizer keeps. */
export function optimizerSlots(kind: OptimizerKind | null | undefined): number {
  return kind === 'adam' ? 2 : kind === 'adagrad' || kind === 'rmsprop' ? 1 : 0;
}

/** The tensors of a model, in their order in the flat buffer. */
export function paramSpecs(config: ModelConfig, V: number): TensorSpec[] {
  const { hidden: H, layers, embed: E } = config;
  const cell = CELLS[config.model];
  const specs: TensorSpec[] = [];
  if (E > 0) specs.push({ name: 'embed', shape: [V, E] });
  for (let l = 0; l < layers; l++) specs.push(...cell.params(`l${l}.`, l === 0 ? (E > 0 ? E : V) : H, H));
  specs.push({ name: 'out.W', shape: [H, V] }, { name: 'out.b', shape: [V] });
  return specs;
}

export class Model {
  readonly layout: ParamLayout;
  readonly params!: ParamBuffer;
  readonly grads!: ParamBuffer;
  readonly slots!: ParamBuffer[];
  readonly workspaces!: Workspace[];
  readonly k: Kernels;
  readonly V: number;
  /** Bytes of the arena. */
  readonly bytes: number;
  /** Where the arena lives and which kernels run on it (read for headers: describeBackend). */
  readonly backend: Backend;

  constructor(
    readonly config: ModelConfig,
    opts: ModelOptions,
  ) {
    const dtype = opts.dtype ?? 'f32';
    this.V = opts.vocabSize;
    this.layout = new ParamLayout(paramSpecs(config, this.V));
    // Allocate twice with the same code: once to count the bytes, once for real.
    const counter = new Counter(dtype);
    this.carve(counter, opts);
    this.bytes = counter.bytes;
    this.backend = createBackend({ kind: opts.kernels ?? 'js', dtype, bytes: counter.bytes, threads: opts.threads });
    this.k = this.backend.kernels;
    this.carve(new Arena(dtype, this.backend.buffer, this.backend.base), opts);
  }

  private carve(alloc: Allocator, opts: ModelOptions): void {
    const self = this as { -readonly [K in keyof Model]: Model[K] };
    self.params = new ParamBuffer(this.layout, alloc);
    self.grads = new ParamBuffer(this.layout, alloc);
    self.slots = Array.from({ length: optimizerSlots(opts.optimizer) }, () => new ParamBuffer(this.layout, alloc));
    self.workspaces = opts.shapes.map((s) => new Workspace(this, s.B, s.T, alloc));
  }

  /** Fresh weights from the generator, in layout order (so the same seed gives the same model). */
  init(rng: Rng): void {
    const { config, V } = this;
    const t = this.params.t;
    this.params.flat.fill(0);
    if (config.embed > 0) fillNormal(t.embed, 1, rng); // PyTorch's nn.Embedding: N(0, 1)
    const cell = CELLS[config.model];
    for (let l = 0; l < config.layers; l++) {
      const D = l === 0 ? (config.embed > 0 ? config.embed : V) : config.hidden;
      cell.init(t, `l${l}.`, D, config.hidden, rng);
    }
    if (config.model === 'rnn') fillNormal(t['out.W'], 0.01, rng); // min-char-rnn
    else fillUniform(t['out.W'], 1 / Math.sqrt(config.hidden), rng); // PyTorch's nn.Linear
  }

  /** Number of trainable values. */
  get paramCount(): number {
    return this.layout.count;
  }

  close(): void {
    this.backend.close();
  }
}

/** Activations and state for one batch shape. inputs/targets are filled by the caller. */
export class Workspace {
  readonly inputs: Int32Array; // (T, B) token ids, time-major
  readonly targets: Int32Array; // (T, B) next-token ids
  readonly emb: Vec | null; // (T, B, E) embedded inputs
  readonly dEmb: Vec | null; // (T, B, E)
  readonly layers: Layer[];
  readonly masks: Vec[]; // (T, B, H) per layer: dropout masks, 0 or 1/(1-p); empty without dropout
  readonly drops: Vec[]; // (T, B, H) per layer: outputs after dropout
  readonly dDrops: Vec[]; // (T, B, H) per layer: gradient of the dropped outputs
  readonly probs: Vec; // (T, B, V) logits, then probabilities, then dlogits (in place)
  /** Steps of the last forward whose final state still has to be carried into slot 0. */
  private pending = 0;
  /** Whether the last forward applied dropout (backward must follow the same path). */
  private dropped = false;

  constructor(
    readonly model: Model,
    readonly B: number,
    readonly T: number,
    alloc: Allocator,
  ) {
    const { config, V } = model;
    const { hidden: H, embed: E } = config;
    this.inputs = alloc.ints(T * B);
    this.targets = alloc.ints(T * B);
    this.emb = E > 0 ? alloc.floats(T * B * E) : null;
    this.dEmb = E > 0 ? alloc.floats(T * B * E) : null;
    this.layers = [];
    for (let l = 0; l < config.layers; l++) {
      const D = l === 0 ? (E > 0 ? E : V) : H;
      this.layers.push(new Layer(config.model, l, D, H, B, T, model.params, model.grads, alloc));
    }
    const p = config.dropout;
    this.masks = p > 0 ? this.layers.map(() => alloc.floats(T * B * H)) : [];
    this.drops = p > 0 ? this.layers.map(() => alloc.floats(T * B * H)) : [];
    this.dDrops = p > 0 ? this.layers.map(() => alloc.floats(T * B * H)) : [];
    this.probs = alloc.floats(T * B * V);
  }

  /** Move the final state of the last chunk into slot 0 (truncated BPTT carries it). */
  private settle(): void {
    if (this.pending > 0) for (const L of this.layers) L.carry(this.pending);
    this.pending = 0;
  }

  /** Zero the hidden (and cell) state of every layer: the streams start over. */
  resetState(): void {
    this.pending = 0;
    for (const L of this.layers) L.resetState();
  }

  get stateSize(): number {
    return this.layers.reduce((s, L) => s + L.stateSize, 0);
  }

  /** Copy the carried state (every layer's h, and c) into `into`. */
  saveState(into: Vec): void {
    this.settle();
    let at = 0;
    for (const L of this.layers) {
      L.saveState(into, at);
      at += L.stateSize;
    }
  }

  loadState(from: ArrayLike<number>): void {
    this.pending = 0;
    let at = 0;
    for (const L of this.layers) {
      L.loadState(from, at);
      at += L.stateSize;
    }
  }

  /**
   * Reorder the streams of the carried state in place: stream b continues what stream rows[b]
   * was (beam search keeps its best hypotheses). Inference only: the last forward's
   * activations are overwritten, so no backward may follow. Allocates nothing.
   */
  gatherState(rows: ArrayLike<number>): void {
    this.settle();
    for (const L of this.layers) L.gatherState(rows);
  }

  /** Input of layer l in the last forward: the embedding, or the (dropped) output below. */
  private layerInput(l: number, steps: number): Vec | null {
    if (l === 0) return this.emb;
    return this.dropped ? this.drops[l - 1] : this.layers[l - 1].outputs(steps);
  }

  /**
   * Forward `steps` (<= T) steps of inputs, carrying the state from the previous call.
   * With train, dropout masks are drawn from rng. Leaves probabilities in `probs` and
   * returns the summed cross-entropy (nats) against targets, or 0 when withTargets is false.
   * With `logits` (M = steps x B rows of V), the logits are also copied there before the
   * softmax (sampling tempers them: a probability that underflowed in float32 has lost them).
   */
  forward(steps: number, opts: { train?: boolean; rng?: Rng; withTargets?: boolean; logits?: Float64Array } = {}): number {
    const { k } = this.model;
    k.weightsBegin?.(); // the weights stay as they are during the pass (kernels may keep them packed)
    try {
      return this.forwardPass(steps, opts);
    } finally {
      k.weightsEnd?.();
    }
  }

  private forwardPass(steps: number, opts: { train?: boolean; rng?: Rng; withTargets?: boolean; logits?: Float64Array }): number {
    const { model, B, inputs } = this;
    const { k, config, V } = model;
    const { hidden: H, embed: E } = config;
    const cell = CELLS[config.model];
    const M = steps * B;
    this.settle();
    this.dropped = !!opts.train && config.dropout > 0;

    if (E > 0) k.gatherRows(this.emb!, inputs, model.params.t.embed, M, E, false);
    for (let l = 0; l < this.layers.length; l++) {
      const L = this.layers[l];
      L.project(k, this.layerInput(l, steps), inputs, steps);
      cell.forward(L, k, steps);
      if (this.dropped) {
        const mask = this.masks[l];
        fillDropoutMask(mask, maskSeed(opts.rng!), config.dropout, M * H);
        k.mul(this.drops[l], L.outputs(steps), mask, M * H);
      }
    }
    const top = this.dropped ? this.drops[this.layers.length - 1] : this.layers[this.layers.length - 1].outputs(steps);
    k.matmulBias(this.probs, top, model.params.t['out.W'], model.params.t['out.b'], M, H, V);
    if (opts.logits) for (let i = 0; i < M * V; i++) opts.logits[i] = this.probs[i];
    const loss = k.softmaxXent(this.probs, opts.withTargets === false ? null : this.targets, M, V);
    this.pending = steps;
    return loss;
  }

  /**
   * Backward of the last forward (same steps); accumulates into model.grads (the caller zeroes
   * them once per step). scale multiplies dloss/dlogits: 1/(steps*B) for the mean loss.
   */
  backward(steps: number, scale: number): void {
    const { k } = this.model;
    k.weightsBegin?.();
    try {
      this.backwardPass(steps, scale);
    } finally {
      k.weightsEnd?.();
    }
  }

  private backwardPass(steps: number, scale: number): void {
    const { model, B, inputs } = this;
    const { k, config, V } = model;
    const { hidden: H, embed: E } = config;
    const cell = CELLS[config.model];
    const g = model.grads.t;
    const M = steps * B;
    const nL = this.layers.length;

    // forward: logits = top out.W + out.b; loss = -log softmax(logits)[target]
    k.softmaxXentBackward(this.probs, this.probs, this.targets, scale, M, V);
    const top = this.layerInput(nL, steps)!;
    k.matmulTNSum(g['out.W'], top, this.probs, g['out.b'], H, M, V);
    const dTop = this.dropped ? this.dDrops[nL - 1] : this.layers[nL - 1].dOutputs(steps);
    k.matmulNT(dTop, this.probs, model.params.t['out.W'], M, V, H, false);

    for (let l = nL - 1; l >= 0; l--) {
      const L = this.layers[l];
      // forward: drop = h * mask
      if (this.dropped) k.mul(L.dOutputs(steps), this.dDrops[l], this.masks[l], M * H);
      cell.backward(L, k, steps);
      const dx = l > 0 ? (this.dropped ? this.dDrops[l - 1] : this.layers[l - 1].dOutputs(steps)) : this.dEmb;
      L.projectBackward(k, dx, this.layerInput(l, steps), inputs, steps);
    }
    // forward: emb = embed[inputs]
    if (E > 0) k.scatterRows(g.embed, this.dEmb!, inputs, M, E);
  }
}
