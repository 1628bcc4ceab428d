// One training step (batch -> forward -> backward through time -> clip -> update) and the
// evaluation of a text with the state carried through it. The loop around them (schedule,
// evaluation, checkpoints, reports, stopping) is train.ts.
//
// Shape legend: B streams, T steps per chunk, V vocab.

import type { Vec } from '../engine/arena';
import { fillChunk, type Batcher } from '../data/batcher';
import { allStreams, type EvalStreams } from './evalset';
import type { OptimConfig } from '../config';
import type { Ids } from '../data/corpus';
import type { Model, Workspace } from '../engine/model';
import { clipByNorm, optimizerStep, type StepGrad } from '../engine/optim';
import type { Rng } from '../engine/rng';

export interface StepResult {
  /** Mean cross-entropy of the batch, nats/char (before the update). */
  loss: number;
  /** Global gradient norm before clipping (NaN when not computed). */
  gradNorm: number;
}

export class Trainer {
  readonly ws: Workspace;
  /** Updates done so far (Adam's bias correction counts from 1). */
  iter = 0;
  /** The gradients are all zero already (the last update zeroed them): forwardBackward skips its fill. */
  private gradsZero = false;
  private readonly savedState: Vec; // (L, B, H[, 2]) training state kept aside during evaluation
  private readonly slots: Vec[]; // the optimizer's state buffers, (P) each
  private readonly gradSteps: StepGrad; // --clip and the zeroing, around every update

  constructor(
    readonly model: Model,
    readonly batcher: Batcher,
    readonly optim: OptimConfig,
    readonly rng: Rng,
    workspace = 0,
  ) {
    this.ws = model.workspaces[workspace];
    this.savedState = new Float64Array(this.ws.stateSize);
    this.slots = model.slots.map((s) => s.flat);
    this.gradSteps = { clip: optim.clip, zeroGrad: true };
  }

  /** One update: forward/backward, clip, update. */
  step(lr: number): StepResult {
    const loss = this.forwardBackward();
    const gradNorm = this.clip();
    this.update(lr);
    return { loss, gradNorm };
  }

  /** The next batch through the model and back: the gradients of its loss; returns its mean loss, nats/char. */
  forwardBackward(): number {
    const { ws, model, optim } = this;
    const { B, T } = ws;
    if (this.batcher.next(ws.inputs, ws.targets)) ws.resetState(); // streams wrapped: new epoch
    if (!this.gradsZero) model.grads.flat.fill(0);
    this.gradsZero = false;
    const loss = ws.forward(T, { train: true, rng: this.rng });
    ws.backward(T, optim.reduction === 'mean' ? 1 / (B * T) : 1);
    return loss / (B * T);
  }

  /** --clip-norm; returns the global norm before clipping (NaN without it). --clip is the update's. */
  clip(): number {
    return this.optim.clipNorm > 0 ? clipByNorm(this.model.grads.flat, this.optim.clipNorm) : NaN;
  }

  /**
   * --clip, then the optimizer's update of the weights at rate `lr`, then the gradients zeroed
   * for the next step: one pass over them on the kernels that have an update (native, wasm).
   */
  update(lr: number): void {
    this.iter++;
    optimizerStep(this.optim.optimizer, this.model.params.flat, this.model.grads.flat, this.slots, lr, this.iter, this.model.k, this.gradSteps);
    this.gradsZero = true;
  }

  /** Evaluate on `data` (all of it, or the streams given) with the training workspace, keeping the training state intact. */
  evaluate(data: Ids, streams: EvalStreams = allStreams(data.length, this.ws.B)): { loss: number; count: number } {
    this.ws.saveState(this.savedState);
    const r = evaluateStreams(this.ws, data, streams);
    this.ws.loadState(this.savedState);
    return r;
  }
}

/**
 * Mean cross-entropy (nats/char) of a model on a text: the text is cut into the workspace's B
 * streams, the state starts at zero and is carried from chunk to chunk through each stream,
 * and every character but the first of each stream is predicted (all but < B of the text).
 */
export function evaluateText(ws: Workspace, data: Ids): { loss: number; count: number } {
  return evaluateStreams(ws, data, allStreams(data.length, ws.B));
}

/** Mean cross-entropy of the B streams of `data` given (evalset.ts), the state carried through each. */
export function evaluateStreams(ws: Workspace, data: Ids, streams: EvalStreams): { loss: number; count: number } {
  const { B, T } = ws;
  const { starts, len } = streams;
  if (len < 1) return { loss: NaN, count: 0 };
  ws.resetState();
  let sum = 0;
  for (let start = 0; start < len; start += T) {
    const steps = Math.min(T, len - start);
    fillChunk(ws.inputs, ws.targets, data, B, len, start, steps, starts);
    sum += ws.forward(steps);
  }
  ws.resetState();
  return { loss: sum / (B * len), count: B * len };
}
