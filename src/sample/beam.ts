// Beam search over characters: the W most probable continuations are extended together, one
// per stream of a Workspace of B = W, T = 1, so each step is one forward of W rows (about the
// cost of one row: the weights are read once). After each step the best W of the W x V
// extensions survive and the streams' states are reordered to match (Workspace.gatherState).
//
// Score of a text: the sum of the natural-log probabilities of its characters under the model
// (no temperature). Every hypothesis has exactly `len` characters unless a stop string ends it
// early; hypotheses of different lengths are compared by score / ((5 + len) / 6)^alpha (GNMT's
// length penalty; alpha = --length-norm, 0 = the plain sum). A hypothesis that ends with a stop
// string is finished: it leaves the beam (which shrinks) for the pool of results.
//
// The pieces, each readable alone: TopHeap (topheap.ts) keeps the best W extensions of a step;
// History records every kept extension as (character, parent column) and walks a text back
// from its last character; ResultPool keeps the best N finished texts. beamSearch runs them.
//
// Shape legend: W beam width (streams), V vocab, N results, S steps (len).
// Nothing is allocated per step: the history (S, W) and the candidate heap (W) are made once.

import type { Ids } from '../data/corpus';
import type { Workspace } from '../engine/model';
import type { StopMatcher } from './stops';
import { TopHeap } from './topheap';

export interface BeamOptions {
  /** Characters to generate (each result has exactly this many unless a stop string ended it). */
  len: number;
  /** Results wanted, <= W. */
  num: number;
  /** GNMT length-penalty exponent; 0 ranks by the plain sum of log-probabilities. */
  lengthNorm: number;
  stops: StopMatcher | null;
  /** The ids before the generated text a stop string may begin in (default: the context). */
  stopContext?: Ids;
}

export interface BeamResult {
  ids: Int32Array;
  /** Sum of the natural-log probabilities of the characters. */
  logProb: number;
  /** What results are ranked by: logProb / ((5 + length) / 6)^alpha. */
  score: number;
  /** Whether a stop string ended it. */
  stopped: boolean;
}

/** GNMT's length penalty lp(n) = ((5 + n) / 6)^alpha. */
export function lengthPenalty(n: number, alpha: number): number {
  return alpha === 0 ? 1 : Math.pow((5 + n) / 6, alpha);
}

/**
 * Every kept extension, by step t and column j (its rank at that step): its last character
 * and the column of its parent at step t - 1 (-1 at step 0). A text is a walk back from one entry.
 */
class History {
  private readonly char: Int32Array; // (S, W)
  private readonly parent: Int32Array; // (S, W)

  constructor(
    steps: number,
    private readonly W: number,
  ) {
    this.char = new Int32Array(steps * W);
    this.parent = new Int32Array(steps * W);
  }

  record(t: number, j: number, ch: number, parentCol: number): void {
    this.char[t * this.W + j] = ch;
    this.parent[t * this.W + j] = parentCol;
  }

  /**
   * The last characters of the text ending at (t, j), newest first, into out[0..n) for n up to
   * `max` (fewer when the text is shorter). Returns n.
   */
  tail(out: Int32Array, t: number, j: number, max: number): number {
    let n = 0;
    while (n < max && t >= 0) {
      out[n++] = this.char[t * this.W + j];
      j = this.parent[t * this.W + j];
      t--;
    }
    return n;
  }

  /** The whole text ending at (t, j), first character first. */
  text(t: number, j: number): Int32Array {
    const ids = new Int32Array(t + 1);
    this.tail(ids, t, j, t + 1);
    return ids.reverse();
  }
}

/** The best `num` finished texts so far, best first; a text is named by its history entry. */
class ResultPool {
  size = 0;
  private readonly score: Float64Array; // (N)
  private readonly logProb: Float64Array; // (N)
  private readonly step: Int32Array; // (N)
  private readonly col: Int32Array; // (N)
  private readonly stopped: Uint8Array; // (N)

  constructor(readonly num: number) {
    this.score = new Float64Array(num);
    this.logProb = new Float64Array(num);
    this.step = new Int32Array(num);
    this.col = new Int32Array(num);
    this.stopped = new Uint8Array(num);
  }

  get full(): boolean {
    return this.size === this.num;
  }

  /** The score a text must beat to enter a full pool. */
  get worstScore(): number {
    return this.score[this.num - 1];
  }

  add(score: number, logProb: number, step: number, col: number, stopped: boolean): void {
    if (this.full && !(score > this.worstScore)) return; // equal scores: the earlier one stays
    let i = this.full ? this.num - 1 : this.size++;
    for (; i > 0 && score > this.score[i - 1]; i--) this.move(i - 1, i);
    this.score[i] = score;
    this.logProb[i] = logProb;
    this.step[i] = step;
    this.col[i] = col;
    this.stopped[i] = stopped ? 1 : 0;
  }

  results(history: History): BeamResult[] {
    const out: BeamResult[] = [];
    for (let i = 0; i < this.size; i++) {
      const ids = history.text(this.step[i], this.col[i]);
      out.push({ ids, logProb: this.logProb[i], score: this.score[i], stopped: this.stopped[i] === 1 });
    }
    return out;
  }

  private move(from: number, to: number): void {
    this.score[to] = this.score[from];
    this.logProb[to] = this.logProb[from];
    this.step[to] = this.step[from];
    this.col[to] = this.col[from];
    this.stopped[to] = this.stopped[from];
  }
}

/** Whether a text ends with a stop string: its newest ids from the history, then the prime's. */
class StopCheck {
  private readonly tail: Int32Array; // (longest stop string) newest first

  constructor(
    private readonly stops: StopMatcher,
    private readonly before: Ids,
  ) {
    this.tail = new Int32Array(stops.maxLen);
  }

  /** The text ending at history (t, j) ends with a stop string (it may reach into the prime). */
  at(history: History, t: number, j: number): boolean {
    const { tail, before } = this;
    let n = history.tail(tail, t, j, tail.length);
    for (let i = before.length - 1; n < tail.length && i >= 0; i--) tail[n++] = before[i];
    return this.stops.matchesTail(tail, n);
  }
}

/** forward() options of every step, made once. */
const INFERENCE = { withTargets: false } as const;

/** The live hypotheses: row b of the workspace continues the text at history column col[b]. */
interface Beam {
  live: number;
  scores: Float64Array; // (W) log-probability of each live row's text
  col: Int32Array; // (W) history column of each live row at the last step
}

/** Step 1: offer every extension (row b, character v) of the live rows to the heap. */
function expand(heap: TopHeap, beam: Beam, probs: ArrayLike<number>, V: number): void {
  heap.clear();
  for (let b = 0; b < beam.live; b++) {
    const sb = beam.scores[b];
    const base = b * V;
    // once the heap is full, p must beat exp(worst - sb) to enter: skip the log of the rest
    let pMin = heap.full ? Math.exp(heap.worstScore - sb) : 0;
    for (let v = 0; v < V; v++) {
      const p = probs[base + v];
      if (p <= 0 || p * (1 + 1e-9) < pMin) continue;
      heap.offer(sb + Math.log(p), base + v);
      if (heap.full) pMin = Math.exp(heap.worstScore - sb);
    }
  }
}

/**
 * The `num` best texts of `len` characters after `context` (the prime; at least one id), best
 * first. Fewer when fewer distinct texts exist (V^len < num).
 */
export function beamSearch(ws: Workspace, context: Ids, o: BeamOptions): BeamResult[] {
  const W = ws.B;
  const V = ws.model.V;
  const { len, num, lengthNorm: alpha } = o;
  if (ws.T !== 1) throw new Error('beam search needs a workspace of T = 1');
  if (num > W) throw new Error('beam search: num > width');
  if (context.length === 0) throw new Error('beam search needs a context');

  // Every stream reads the prime: the rows are equal, and only row 0 is live at first.
  ws.resetState();
  for (let i = 0; i < context.length; i++) {
    ws.inputs.fill(context[i]);
    ws.forward(1, INFERENCE);
  }
  if (len === 0) return [{ ids: new Int32Array(0), logProb: 0, score: 0, stopped: false }];

  const heap = new TopHeap(W);
  const history = new History(len, W);
  const pool = new ResultPool(num);
  const stopCheck = o.stops ? new StopCheck(o.stops, o.stopContext ?? context) : null;
  const beam: Beam = { live: 1, scores: new Float64Array(W), col: new Int32Array(W) };
  const next: Beam = { live: 0, scores: new Float64Array(W), col: new Int32Array(W) };
  const rows = new Int32Array(W); // gather index: new row <- old row

  for (let t = 0; t < len; t++) {
    expand(heap, beam, ws.probs, V);
    heap.sortBest();
    // record the best W; the finished go to the pool, the rest become the live rows, best first
    const last = t === len - 1;
    next.live = 0;
    for (let j = 0; j < heap.size; j++) {
      const e = heap.order[j];
      const score = heap.score[e];
      const parent = Math.floor(heap.key[e] / V);
      const ch = heap.key[e] - parent * V;
      history.record(t, j, ch, t > 0 ? beam.col[parent] : -1);
      const stopped = stopCheck !== null && stopCheck.at(history, t, j);
      if (stopped || last) pool.add(score / lengthPenalty(t + 1, alpha), score, t, j, stopped);
      else {
        const b = next.live++;
        rows[b] = parent;
        ws.inputs[b] = ch;
        next.scores[b] = score;
        next.col[b] = j;
      }
    }
    if (last || next.live === 0) break;
    beam.live = next.live;
    beam.scores.set(next.scores);
    beam.col.set(next.col);
    rows.fill(0, beam.live); // idle rows: any state, any input
    ws.inputs.fill(0, beam.live, W);
    // with the plain sum, scores only fall: once the pool is full and its worst beats the best
    // live row, nothing can change the results
    if (alpha === 0 && pool.full && pool.worstScore >= beam.scores[0]) break;
    // reorder the states and advance every row by its new character
    ws.gatherState(rows);
    ws.forward(1, INFERENCE);
  }
  return pool.results(history);
}
