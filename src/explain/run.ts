// The model run behind `charrnn explain`: the text goes through the model exactly as
// `charrnn eval` sends it (batch 1, chunks of EVAL_T, the state carried from zero), and after
// every chunk we read what eval throws away: each character's probability, rank and the
// model's top-K guesses for it, every layer's h (and c) after each character, and how often
// the sigmoid gates sit saturated.
//
// Shape legend: N characters, K guesses, V vocab, L layers, H hidden, G gate width.
// Position i: loss, rank and guesses are about predicting character i from 0..i-1 (none for
// i = 0); the states are those after reading character i.

import { fillChunk } from '../data/batcher';
import type { Ids } from '../data/corpus';
import type { Vec } from '../engine/arena';
import type { Workspace } from '../engine/model';
import { GRU_GATES, LSTM_GATES } from '../engine/kernels/types';
import { selectTop } from '../sample/sampler';

/** One layer's h or c over the text. */
export interface StateTrace {
  layer: number;
  state: 'h' | 'c';
  values: Float32Array; // (H, N) unit-major: unit u's activations are values[u*N .. u*N+N)
}

/** How often one sigmoid gate of one layer is saturated, over all units and characters. */
export interface GateSaturation {
  layer: number;
  gate: string;
  /** Fraction of activations < 0.1. */
  low: number;
  /** Fraction of activations > 0.9. */
  high: number;
}

export interface ExplainRun {
  ids: Ids; // (N)
  /** Sum of the per-chunk losses exactly as evaluateText adds them (nats). */
  totalNats: number;
  /** Characters predicted: N - 1. */
  predicted: number;
  loss: Float64Array; // (N) -ln p(char i | before), NaN at 0
  rank: Int32Array; // (N) rank of the true character among the guesses (0 = top), -1 at 0
  topIds: Int32Array; // (N, K) the K most likely characters at i, most likely first; -1 at 0
  topP: Float32Array; // (N, K) their probabilities
  K: number;
  H: number;
  states: StateTrace[]; // per layer: h, then c for LSTM
  saturation: GateSaturation[];
}

/** Sigmoid gates whose saturation is worth reporting (the tanh candidate is not a gate). */
function sigmoidGates(kind: string): readonly string[] {
  return kind === 'lstm' ? LSTM_GATES.slice(0, 3) : kind === 'gru' ? GRU_GATES.slice(0, 2) : [];
}

/**
 * Run the workspace (B = 1) over `ids`. The total loss is computed by the same calls, in the
 * same order, as evaluateText, so it equals `charrnn eval` bit for bit.
 */
export function explainIds(ws: Workspace, ids: Ids, K: number): ExplainRun {
  if (ws.B !== 1) throw new Error(`explain needs a workspace of batch 1, got B = ${ws.B}`);
  const N = ids.length;
  const { V, config } = ws.model;
  const H = config.hidden;
  const k = Math.min(K, V);
  const run: ExplainRun = {
    ids,
    totalNats: 0,
    predicted: Math.max(N - 1, 0),
    loss: new Float64Array(N).fill(NaN),
    rank: new Int32Array(N).fill(-1),
    topIds: new Int32Array(N * k).fill(-1),
    topP: new Float32Array(N * k),
    K: k,
    H,
    states: [],
    saturation: [],
  };
  ws.layers.forEach((L, l) => {
    run.states.push({ layer: l, state: 'h', values: new Float32Array(H * N) });
    if (L.cs) run.states.push({ layer: l, state: 'c', values: new Float32Array(H * N) });
  });
  const gates = sigmoidGates(config.model);
  const counts = new Float64Array(ws.layers.length * gates.length * 2); // (L, gates, low|high)
  const idx = new Int32Array(V);
  const streamLen = N - 1;

  ws.resetState();
  let sum = 0;
  for (let start = 0; start < streamLen; start += ws.T) {
    const steps = Math.min(ws.T, streamLen - start);
    fillChunk(ws.inputs, ws.targets, ids, 1, streamLen, start, steps);
    sum += ws.forward(steps);
    for (let t = 0; t < steps; t++) {
      readGuesses(run, ws.probs, t * V, start + t + 1, ids[start + t + 1], idx, V);
      readStates(run, ws, t, start + t, N);
      countSaturation(counts, ws, t, gates.length, H);
    }
  }
  run.totalNats = sum;
  if (N > 0) {
    // the state after the last character: one more step, not part of the loss
    ws.inputs[0] = ids[N - 1];
    ws.forward(1, { withTargets: false });
    readStates(run, ws, 0, N - 1, N);
  }
  ws.resetState();

  const per = Math.max(streamLen, 0) * H;
  ws.layers.forEach((_, l) =>
    gates.forEach((gate, g) => {
      const at = (l * gates.length + g) * 2;
      run.saturation.push({ layer: l, gate, low: per ? counts[at] / per : NaN, high: per ? counts[at + 1] / per : NaN });
    }),
  );
  return run;
}

/**
 * Loss, rank and top-K guesses of character i from its distribution probs[at .. at+V).
 * Allocation-free: idx holds positions in probs (at + id) so selectTop reads probs directly.
 */
function readGuesses(run: ExplainRun, probs: Vec, at: number, i: number, target: number, idx: Int32Array, V: number): void {
  const pt = probs[at + target];
  run.loss[i] = -Math.log(pt > 0 ? pt : Number.MIN_VALUE); // an underflowed p counts as the smallest double
  let rank = 0;
  for (let j = 0; j < V; j++) if (probs[at + j] > pt || (probs[at + j] === pt && j < target)) rank++;
  run.rank[i] = rank;
  const K = run.K;
  for (let j = 0; j < V; j++) idx[j] = at + j;
  if (K < V) selectTop(idx, probs, V, K);
  // order the K kept by probability (ties: lower id first), insertion sort in place
  for (let a = 1; a < K; a++) {
    const x = idx[a];
    let b = a - 1;
    while (b >= 0 && (probs[idx[b]] < probs[x] || (probs[idx[b]] === probs[x] && idx[b] > x))) {
      idx[b + 1] = idx[b];
      b--;
    }
    idx[b + 1] = x;
  }
  for (let j = 0; j < K; j++) {
    run.topIds[i * K + j] = idx[j] - at;
    run.topP[i * K + j] = probs[idx[j]];
  }
}

/** Every layer's h (and c) after step t of the last forward, stored at position i. */
function readStates(run: ExplainRun, ws: Workspace, t: number, i: number, N: number): void {
  let s = 0;
  for (const L of ws.layers) {
    const h = L.hsAt[t + 1];
    const hv = run.states[s++].values;
    for (let u = 0; u < L.H; u++) hv[u * N + i] = h[u];
    if (L.cs) {
      const c = L.csAt[t + 1];
      const cv = run.states[s++].values;
      for (let u = 0; u < L.H; u++) cv[u * N + i] = c[u];
    }
  }
}

/** Count gate activations < 0.1 and > 0.9 at step t (the activations sit in xg after forward). */
function countSaturation(counts: Float64Array, ws: Workspace, t: number, nGates: number, H: number): void {
  for (let l = 0; l < ws.layers.length; l++) {
    const a = ws.layers[l].xgAt[t];
    for (let g = 0; g < nGates; g++) {
      let low = 0;
      let high = 0;
      for (let u = g * H; u < (g + 1) * H; u++) {
        if (a[u] < 0.1) low++;
        else if (a[u] > 0.9) high++;
      }
      counts[(l * nGates + g) * 2] += low;
      counts[(l * nGates + g) * 2 + 1] += high;
    }
  }
}
