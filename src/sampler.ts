// Sampling: the model's cells run one step at a time at batch 1 (a Workspace with B = T = 1),
// the state carried from step to step. Nothing is allocated per character.
//
// Shape legend: V vocab.

import type { Vocab } from './data';
import type { Model, Workspace } from './model';
import type { Rng } from './rng';

export interface PickOptions {
  /** Divides the logits; 0 means argmax. */
  temperature: number;
  argmax: boolean;
}

/**
 * Index drawn from the distribution `p` (non-negative, summing to `total`) with one uniform
 * coin: walk the CDF; rounding can leave the coin past the end, so fall back to the last
 * index with non-zero probability.
 */
export function sampleIndex(p: ArrayLike<number>, total: number, coin: number): number {
  const target = coin * total;
  let acc = 0;
  let last = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] <= 0) continue;
    acc += p[i];
    last = i;
    if (target < acc) return i;
  }
  return last;
}

export class Sampler {
  readonly ws: Workspace;
  private readonly scratch: Float64Array; // (V) tempered probabilities

  constructor(
    readonly model: Model,
    readonly vocab: Vocab,
    readonly rng: Rng,
    workspace = 0,
  ) {
    this.ws = model.workspaces[workspace];
    if (this.ws.B !== 1 || this.ws.T !== 1) throw new Error('the sampler needs a workspace of B = T = 1');
    this.scratch = new Float64Array(model.V);
  }

  reset(): void {
    this.ws.resetState();
  }

  /** Advance the state by one character; the next character's probabilities are in probs(). */
  feed(id: number): void {
    this.ws.inputs[0] = id;
    this.ws.forward(1, { withTargets: false });
  }

  /** Probabilities of the next character, (V). */
  probs(): ArrayLike<number> {
    return this.ws.probs;
  }

  /** Choose the next character from the current probabilities. */
  pick(o: PickOptions): number {
    const p = this.ws.probs;
    const V = this.model.V;
    if (o.argmax || o.temperature === 0) {
      let best = 0;
      for (let i = 1; i < V; i++) if (p[i] > p[best]) best = i;
      return best;
    }
    if (o.temperature === 1) return sampleIndex(p, 1, this.rng.uniform());
    // softmax(logits / T) = p^(1/T) / sum: from the probabilities, stabilised by the largest
    const s = this.scratch;
    const inv = 1 / o.temperature;
    let max = 0;
    for (let i = 0; i < V; i++) if (p[i] > max) max = p[i];
    let total = 0;
    for (let i = 0; i < V; i++) {
      s[i] = p[i] > 0 ? Math.exp(Math.log(p[i] / max) * inv) : 0;
      total += s[i];
    }
    return sampleIndex(s, total, this.rng.uniform());
  }
}
