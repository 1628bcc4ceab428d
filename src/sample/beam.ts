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
// Shape legend: W beam width (streams), V vocab, N results, S steps (len).
// Nothing is allocated per step: the history (S, W) and the candidate heap (W) are made once.

import type { Ids } from '../data/corpus';
import type { Workspace } from '../engine/model';
import type { StopMatcher } from './stops';

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
 * The `num` best texts of `len` characters after `context` (the prime; at least one id), best
 * first. Fewer when fewer distinct texts exist (V^len < num).
 */
export function beamSearch(ws: Workspace, context: Ids, o: BeamOptions): BeamResult[] {
  const W = ws.B;
  const V = ws.model.V;
  const { len, num, lengthNorm: alpha, stops } = o;
  const before = o.stopContext ?? context;
  if (ws.T !== 1) throw new Error('beam search needs a workspace of T = 1');
  if (num > W) throw new Error('beam search: num > width');
  if (context.length === 0) throw new Error('beam search needs a context');

  // Every stream reads the prime: the rows are equal, and only row 0 is live at first.
  ws.resetState();
  for (let i = 0; i < context.length; i++) {
    ws.inputs.fill(context[i]);
    ws.forward(1, { withTargets: false });
  }
  if (len === 0) return [{ ids: new Int32Array(0), logProb: 0, score: 0, stopped: false }];

  const probs = ws.probs;
  const scores = new Float64Array(W); // log-probability of each live row's text
  const col = new Int32Array(W); // history column of each live row at the last step
  const nextCol = new Int32Array(W);
  const rows = new Int32Array(W); // gather index: new row <- old row
  // history: at step t, column j holds a candidate's last character and its parent's column at t-1
  const histChar = new Int32Array(len * W);
  const histParent = new Int32Array(len * W);
  // the candidate heap: the worst of the best W so far at the root
  const hScore = new Float64Array(W);
  const hKey = new Float64Array(W); // row * V + char: ties go to the lower key
  const order = new Int32Array(W); // heap entries sorted best first
  // the pool of results: the best `num` finished hypotheses, best first
  const pScore = new Float64Array(num);
  const pLog = new Float64Array(num);
  const pStep = new Int32Array(num);
  const pCol = new Int32Array(num);
  const pStopped = new Uint8Array(num);
  let pool = 0;
  const tail = new Int32Array(stops ? stops.maxLen : 0); // a candidate's last ids, newest first

  let live = 1;
  let size = 0;
  // a before b: higher score, then lower key (deterministic)
  const better = (sa: number, ka: number, sb: number, kb: number) => sa > sb || (sa === sb && ka < kb);

  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let w = i; // the worst of i and its children goes up
      if (l < size && better(hScore[w], hKey[w], hScore[l], hKey[l])) w = l;
      if (r < size && better(hScore[w], hKey[w], hScore[r], hKey[r])) w = r;
      if (w === i) return;
      swapHeap(i, w);
      i = w;
    }
  };
  const swapHeap = (i: number, j: number) => {
    const s = hScore[i];
    hScore[i] = hScore[j];
    hScore[j] = s;
    const k = hKey[i];
    hKey[i] = hKey[j];
    hKey[j] = k;
  };
  const offer = (score: number, key: number) => {
    if (size < W) {
      let i = size++;
      hScore[i] = score;
      hKey[i] = key;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!better(hScore[p], hKey[p], hScore[i], hKey[i])) break;
        swapHeap(i, p);
        i = p;
      }
    } else if (better(score, key, hScore[0], hKey[0])) {
      hScore[0] = score;
      hKey[0] = key;
      siftDown(0);
    }
  };
  const addToPool = (score: number, logProb: number, step: number, c: number, stopped: boolean) => {
    if (pool === num && !(score > pScore[num - 1])) return; // equal scores: the earlier one stays
    let i = pool < num ? pool++ : num - 1;
    while (i > 0 && score > pScore[i - 1]) {
      pScore[i] = pScore[i - 1];
      pLog[i] = pLog[i - 1];
      pStep[i] = pStep[i - 1];
      pCol[i] = pCol[i - 1];
      pStopped[i] = pStopped[i - 1];
      i--;
    }
    pScore[i] = score;
    pLog[i] = logProb;
    pStep[i] = step;
    pCol[i] = c;
    pStopped[i] = stopped ? 1 : 0;
  };
  /** Whether the text ending at history (t, c) ends with a stop string (it may reach into the prime). */
  const stopsAt = (t: number, c: number): boolean => {
    let n = 0;
    while (n < tail.length && t >= 0) {
      tail[n++] = histChar[t * W + c];
      c = histParent[t * W + c];
      t--;
    }
    for (let i = before.length - 1; n < tail.length && i >= 0; i--) tail[n++] = before[i];
    return stops!.matchesTail(tail, n);
  };

  for (let t = 0; t < len; t++) {
    // 1. the best W extensions of the live rows
    size = 0;
    for (let b = 0; b < live; b++) {
      const sb = scores[b];
      const base = b * V;
      // once the heap is full, p must beat exp(worst - sb) to enter: skip the log of the rest
      let pMin = size === W ? Math.exp(hScore[0] - sb) : 0;
      for (let v = 0; v < V; v++) {
        const p = probs[base + v];
        if (p <= 0 || p * (1 + 1e-9) < pMin) continue;
        offer(sb + Math.log(p), base + v);
        if (size === W) pMin = Math.exp(hScore[0] - sb);
      }
    }
    // 2. best first (W is small: insertion sort of the heap's entries)
    for (let i = 0; i < size; i++) {
      let j = i;
      while (j > 0 && better(hScore[i], hKey[i], hScore[order[j - 1]], hKey[order[j - 1]])) {
        order[j] = order[j - 1];
        j--;
      }
      order[j] = i;
    }
    // 3. record them; the finished go to the pool, the rest become the live rows, best first
    const last = t === len - 1;
    let next = 0;
    for (let i = 0; i < size; i++) {
      const e = order[i];
      const parent = Math.floor(hKey[e] / V);
      const ch = hKey[e] - parent * V;
      histChar[t * W + i] = ch;
      histParent[t * W + i] = t > 0 ? col[parent] : -1;
      const stopped = stops !== null && stopsAt(t, i);
      if (stopped || last) addToPool(hScore[e] / lengthPenalty(t + 1, alpha), hScore[e], t, i, stopped);
      else {
        rows[next] = parent;
        ws.inputs[next] = ch;
        scores[next] = hScore[e]; // step 1 is done with the old scores
        nextCol[next] = i;
        next++;
      }
    }
    if (last || next === 0) break;
    col.set(nextCol);
    for (let b = next; b < W; b++) {
      rows[b] = 0; // idle rows: any state, any input
      ws.inputs[b] = 0;
    }
    live = next;
    // with the plain sum, scores only fall: once the pool is full and its worst beats the best
    // live row, nothing can change the results
    if (alpha === 0 && pool === num && pScore[num - 1] >= scores[0]) break;
    // 4. reorder the states and advance every row by its new character
    ws.gatherState(rows);
    ws.forward(1, { withTargets: false });
  }

  const out: BeamResult[] = [];
  for (let i = 0; i < pool; i++) {
    const ids = new Int32Array(pStep[i] + 1);
    for (let t = pStep[i], c = pCol[i]; t >= 0; t--) {
      ids[t] = histChar[t * W + c];
      c = histParent[t * W + c];
    }
    out.push({ ids, logProb: pLog[i], score: pScore[i], stopped: pStopped[i] === 1 });
  }
  return out;
}
