// One training step (batch -> forward -> backward through time -> clip -> update) and the
// evaluation of a text with the state carried through it. The loop around them (schedule,
// evaluation, checkpoints, reports, stopping) is train.ts.
//
// Shape legend: B streams, T steps per chunk, V vocab.

import type { Vec } from '../engine/arena';
import { Batcher, fillChunk } from '../data/batcher';
import type { OptimConfig } from '../config';
import type { Ids } from '../data/corpus';
import type { Model, Workspace } from '../engine/model';
import { clipByNorm, clipByValue, optimizerStep } from '../engine/optim';
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
  private readonly savedState: Vec; // (L, B, H[, 2]) training state kept aside during evaluation
  private readonly slots: Vec[]; // the optimizer's state buffers, (P) each

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
  }

  step(lr: number): StepResult {
    const { ws, model, optim } = this;
    const { B, T } = ws;
    if (this.batcher.next(ws.inputs, ws.targets)) ws.resetState(); // streams wrapped: new epoch
    const g = model.grads.flat;
    g.fill(0);
    const loss = ws.forward(T, { train: true, rng: this.rng });
    ws.backward(T, optim.reduction === 'mean' ? 1 / (B * T) : 1);
    const gradNorm = optim.clipNorm > 0 ? clipByNorm(g, optim.clipNorm) : NaN;
    if (optim.clip > 0) clipByValue(g, optim.clip);
    this.iter++;
    optimizerStep(optim.optimizer, model.params.flat, g, this.slots, lr, this.iter);
    return { loss: loss / (B * T), gradNorm };
  }

  /** Evaluate on `data` with the training workspace, keeping the training state intact. */
  evaluate(data: Ids): { loss: number; count: number } {
    this.ws.saveState(this.savedState);
    const r = evaluateText(this.ws, data);
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
  const { B, T } = ws;
  const streamLen = Math.floor((data.length - 1) / B);
  if (streamLen < 1) return { loss: NaN, count: 0 };
  ws.resetState();
  let sum = 0;
  for (let start = 0; start < streamLen; start += T) {
    const steps = Math.min(T, streamLen - start);
    fillChunk(ws.inputs, ws.targets, data, B, streamLen, start, steps);
    sum += ws.forward(steps);
  }
  ws.resetState();
  return { loss: sum / (B * streamLen), count: B * streamLen };
}
