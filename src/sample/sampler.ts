// Sampling: the model's cells run one step at a time at batch 1 (a Workspace with B = T = 1),
// the state carried from step to step. Nothing is allocated per character: the tempered and
// truncated distribution and the index array of top-k / top-p live in scratch arrays made once.
//
// The pipeline of pick(): logits -> temperature -> top-k -> top-p -> renormalise -> one
// uniform draw, walking the CDF in vocabulary order. Temperature divides the logits, kept
// from each step's forward in float64: a character whose float32 probability underflowed to 0
// is still possible at a high temperature. At T = 1 the model's probabilities are used as they are. Truncation only zeroes entries, so
// --top-p 1 and --top-k V draw exactly what plain sampling draws with the same seed.
//
// Shape legend: V vocab, n candidates (characters with non-zero probability), k kept.

import type { Vocab } from '../data/corpus';
import type { Model, Workspace } from '../engine/model';
import type { Rng } from '../engine/rng';

export interface PickOptions {
  /** Divides the logits; 0 means argmax. */
  temperature: number;
  argmax: boolean;
  /** Keep only the k most likely characters; 0 (or >= V) keeps all, 1 is argmax. */
  topK?: number;
  /** Keep the smallest set of most likely characters whose mass is >= topP of the rest; 1 keeps all. */
  topP?: number;
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

/** The most likely index of p[0..V); ties go to the lowest index. */
export function argmaxIndex(p: ArrayLike<number>, V: number): number {
  let best = 0;
  for (let i = 1; i < V; i++) if (p[i] > p[best]) best = i;
  return best;
}

// ---- partial selection on an index array, allocation-free ----
// The order is total: a before b when s[a] > s[b], or when equal and a < b. So the kept set is
// unique (ties broken towards lower ids) whatever order the partitions leave behind.

function before(s: ArrayLike<number>, a: number, b: number): boolean {
  return s[a] > s[b] || (s[a] === s[b] && a < b);
}

/**
 * Partition idx[lo..hi) (hi - lo >= 2) around a median-of-three pivot: afterwards idx[lo..q)
 * come before the pivot, idx[q] is the pivot, idx(q..hi) come after it. Returns q.
 */
function partition(idx: Int32Array, s: ArrayLike<number>, lo: number, hi: number): number {
  const last = hi - 1;
  const mid = (lo + hi) >>> 1;
  let t: number;
  // order idx[lo], idx[mid], idx[last]; the median (at mid) becomes the pivot, moved to last
  if (before(s, idx[mid], idx[lo])) ((t = idx[mid]), (idx[mid] = idx[lo]), (idx[lo] = t));
  if (before(s, idx[last], idx[mid])) ((t = idx[last]), (idx[last] = idx[mid]), (idx[mid] = t));
  if (before(s, idx[mid], idx[lo])) ((t = idx[mid]), (idx[mid] = idx[lo]), (idx[lo] = t));
  ((t = idx[mid]), (idx[mid] = idx[last]), (idx[last] = t));
  const pivot = idx[last];
  let q = lo;
  for (let j = lo; j < last; j++) {
    if (before(s, idx[j], pivot)) ((t = idx[j]), (idx[j] = idx[q]), (idx[q] = t), q++);
  }
  ((t = idx[q]), (idx[q] = idx[last]), (idx[last] = t));
  return q;
}

/** Rearrange idx[0..n) so that idx[0..k) are the k first in the order (quickselect, O(n) expected). */
export function selectTop(idx: Int32Array, s: ArrayLike<number>, n: number, k: number): void {
  let lo = 0;
  let hi = n;
  // invariant: idx[0..lo) come before idx[lo..hi), which come before idx[hi..n); lo <= k <= hi
  while (hi - lo > 1) {
    const q = partition(idx, s, lo, hi);
    if (q === k || q === k - 1) return;
    if (q > k) hi = q;
    else lo = q + 1;
  }
}

/**
 * The nucleus: rearrange idx[0..n) and return m, the size of the smallest prefix in the order
 * whose mass is >= `frac` of the mass of all n (the rest when rounding never gets there).
 * O(n) expected.
 */
export function selectNucleus(idx: Int32Array, s: ArrayLike<number>, n: number, frac: number): number {
  let need = 0;
  for (let j = 0; j < n; j++) need += s[idx[j]];
  need *= frac;
  let lo = 0;
  let hi = n;
  // invariant: idx[0..lo) come first and hold less than the original need (need is what is
  // left of it); the answer m is in (lo, hi]
  while (hi - lo > 1) {
    const q = partition(idx, s, lo, hi);
    let upper = 0;
    for (let j = lo; j < q; j++) upper += s[idx[j]];
    if (upper >= need) hi = q;
    else {
      upper += s[idx[q]];
      if (upper >= need) return q + 1;
      need -= upper;
      lo = q + 1;
    }
  }
  return hi;
}

export class Sampler {
  readonly ws: Workspace;
  private readonly scratch: Float64Array; // (V) tempered, then truncated, probabilities
  private readonly idx: Int32Array; // (V) candidate ids for top-k / top-p
  private readonly logits: Float64Array; // (V) of the last step, before the softmax
  /** forward() options of every step, made once (not an object per character). */
  private readonly step: { withTargets: false; logits: Float64Array };

  constructor(
    readonly model: Model,
    readonly vocab: Vocab,
    /** Replaceable: each of several samples draws from a generator of its own. */
    public rng: Rng,
    workspace = 0,
  ) {
    this.ws = model.workspaces[workspace];
    if (this.ws.B !== 1 || this.ws.T !== 1) throw new Error('the sampler needs a workspace of B = T = 1');
    this.scratch = new Float64Array(model.V);
    this.idx = new Int32Array(model.V);
    this.logits = new Float64Array(model.V);
    this.step = { withTargets: false, logits: this.logits };
  }

  reset(): void {
    this.ws.resetState();
  }

  /** Advance the state by one character; the next character's probabilities are in probs(). */
  feed(id: number): void {
    this.ws.inputs[0] = id;
    this.ws.forward(1, this.step);
  }

  /** Probabilities of the next character, (V). */
  probs(): ArrayLike<number> {
    return this.ws.probs;
  }

  /** Natural log of the model's probability of `id` as the next character (no temperature, no truncation). */
  logProb(id: number): number {
    return Math.log(this.ws.probs[id]);
  }

  /** Choose the next character from the current probabilities. One uniform draw unless argmax. */
  pick(o: PickOptions): number {
    const p = this.ws.probs;
    const V = this.model.V;
    const k = o.topK ?? 0;
    const topP = o.topP ?? 1;
    if (o.argmax || o.temperature === 0 || k === 1) return argmaxIndex(p, V);
    const truncate = (k > 0 && k < V) || topP < 1;
    if (!truncate && o.temperature === 1) return sampleIndex(p, 1, this.rng.uniform());
    const s = this.scratch;
    if (o.temperature === 1) s.set(p);
    else temper(s, this.logits, V, o.temperature);
    if (truncate) this.truncate(s, V, k, topP);
    return this.draw(s, V);
  }

  /** Renormalise and draw from s. (Sums and the coin stay inside: a double passed or returned
   * between functions the compiler does not inline is boxed, an allocation per character.) */
  private draw(s: Float64Array, V: number): number {
    // summed in vocabulary order, the order sampleIndex walks, so the coin's target is reachable
    let total = 0;
    for (let i = 0; i < V; i++) total += s[i];
    return sampleIndex(s, total, this.rng.uniform());
  }

  /** Zero all but the top-k of s, then all but the nucleus of what is left. */
  private truncate(s: Float64Array, V: number, k: number, topP: number): void {
    const idx = this.idx;
    let n = 0;
    for (let i = 0; i < V; i++) if (s[i] > 0) idx[n++] = i;
    let m = n;
    if (k > 0 && k < n) {
      selectTop(idx, s, n, k);
      m = k;
    }
    if (topP < 1 && m > 1) m = selectNucleus(idx, s, m, topP);
    for (let j = m; j < n; j++) s[idx[j]] = 0;
  }
}

/** s = softmax(logits / T), unnormalised: exp((x - max) / T), in float64 (the largest is 1). */
function temper(s: Float64Array, logits: Float64Array, V: number, temperature: number): void {
  const inv = 1 / temperature;
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (logits[i] > max) max = logits[i];
  for (let i = 0; i < V; i++) s[i] = Math.exp((logits[i] - max) * inv);
}
