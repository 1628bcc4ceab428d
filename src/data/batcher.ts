// Batching as in char-rnn and torch-rnn: the split is cut into B contiguous streams; each
// batch is the next T characters of every stream, so the hidden state can be carried from one
// batch to the next (truncated BPTT). When the streams run out they wrap around to the start
// (a new epoch) and the state must be reset.
//
// Shape legend: B streams (batch), T steps; inputs/targets are (T, B), time-major.

import type { Ids } from './corpus';
import { UserError } from '../io/errors';

export class Batcher {
  /** Characters per stream that can be inputs (each needs the next one as its target). */
  readonly streamLen: number;
  /** Full batches per epoch (the last partial chunk of each stream is left out in training). */
  readonly batchesPerEpoch: number;
  /** Index of the next batch within the epoch. */
  pos = 0;
  epoch = 0;

  constructor(
    readonly data: Ids,
    readonly B: number,
    readonly T: number,
  ) {
    this.streamLen = Math.floor((data.length - 1) / B);
    this.batchesPerEpoch = batchesPerEpoch(data.length, B, T);
    if (this.batchesPerEpoch < 1) {
      throw new UserError(
        `the training text (${data.length} characters) is shorter than one batch of ` +
          `--batch-size ${B} x --seq-length ${T} (+1); use a smaller --batch-size or --seq-length, or more text`,
      );
    }
  }

  /**
   * Write the next batch into inputs/targets (T*B each). Returns true when the streams have
   * wrapped around to the start, i.e. the caller must reset the hidden state first.
   */
  next(inputs: Int32Array, targets: Int32Array): boolean {
    let wrapped = false;
    if (this.pos >= this.batchesPerEpoch) {
      this.pos = 0;
      this.epoch++;
      wrapped = true;
    }
    fillChunk(inputs, targets, this.data, this.B, this.streamLen, this.pos * this.T, this.T);
    this.pos++;
    return wrapped;
  }

  /** Fractional epochs done, for reports and schedules. */
  get epochFloat(): number {
    return this.epoch + this.pos / this.batchesPerEpoch;
  }
}

/** Full batches of B x T an epoch of `chars` training characters (the Batcher's rule, for a checkpoint's record too). */
export function batchesPerEpoch(chars: number, B: number, T: number): number {
  return Math.floor(Math.floor((chars - 1) / B) / T);
}

/**
 * inputs[t*B+b] = data[s_b + start + t], targets the character after it, t < steps; stream b
 * begins at s_b = starts[b] when given (evaluation windows), else at b * streamLen.
 */
export function fillChunk(
  inputs: Int32Array,
  targets: Int32Array,
  data: Ids,
  B: number,
  streamLen: number,
  start: number,
  steps: number,
  starts?: ArrayLike<number>,
): void {
  for (let b = 0; b < B; b++) {
    const base = (starts ? starts[b] : b * streamLen) + start;
    for (let t = 0; t < steps; t++) {
      inputs[t * B + b] = data[base + t];
      targets[t * B + b] = data[base + t + 1];
    }
  }
}
