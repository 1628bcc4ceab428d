// A naive, independent forward pass of the charrnn model, written from the equations with
// scalar loops over plain number arrays (one stream, one step, one unit at a time). It shares
// nothing with src/ but the parameter layout (tensor names and shapes), which is the contract
// it checks the engine against.
//
//   rnn  (min-char-rnn):  h = tanh(x Wx + h Wh + b)
//   lstm (gates i,f,o,g): i,f,o = sigmoid(.), g = tanh(.) of x Wx + h Wh + b;
//                         c = f*c + i*g;  h = o*tanh(c)
//   gru  (PyTorch r,z,n): r = sigmoid(x Wx_r + b_r + h Wh_r + bh_r)
//                         z = sigmoid(x Wx_z + b_z + h Wh_z + bh_z)
//                         n = tanh(x Wx_n + b_n + r*(h Wh_n + bh_n));  h = (1-z)*n + z*h
//   logits = h_top out.W + out.b;  p = softmax(logits);  loss = -sum log p[target]
//
// Shape legend: B streams, T steps, D input width, E embedding, H hidden, V vocab.

import type { CellKind } from '../../src/config';

type Mat = number[][];

export interface NaiveLayer {
  Wx: Mat; // [D][G]
  Wh: Mat; // [H][G]
  b: number[]; // [G]
  bh: number[] | null; // [G] gru only
}

export interface NaiveNet {
  kind: CellKind;
  V: number;
  H: number;
  embed: Mat | null; // [V][E]
  layers: NaiveLayer[];
  outW: Mat; // [H][V]
  outB: number[]; // [V]
}

function toMat(flat: ArrayLike<number>, rows: number, cols: number): Mat {
  const m: Mat = [];
  for (let r = 0; r < rows; r++) {
    const row: number[] = [];
    for (let c = 0; c < cols; c++) row.push(flat[r * cols + c]);
    m.push(row);
  }
  return m;
}

/** Reads the weights by tensor name (row-major, shapes as documented in src/model.ts). */
export function naiveNetFrom(
  kind: CellKind,
  V: number,
  H: number,
  L: number,
  E: number,
  t: Record<string, ArrayLike<number>>,
): NaiveNet {
  const G = kind === 'lstm' ? 4 * H : kind === 'gru' ? 3 * H : H;
  const layers: NaiveLayer[] = [];
  for (let l = 0; l < L; l++) {
    const D = l === 0 ? (E > 0 ? E : V) : H;
    layers.push({
      Wx: toMat(t[`l${l}.Wx`], D, G),
      Wh: toMat(t[`l${l}.Wh`], H, G),
      b: Array.from(t[`l${l}.b`]),
      bh: kind === 'gru' ? Array.from(t[`l${l}.bh`]) : null,
    });
  }
  return {
    kind,
    V,
    H,
    embed: E > 0 ? toMat(t.embed, V, E) : null,
    layers,
    outW: toMat(t['out.W'], H, V),
    outB: Array.from(t['out.b']),
  };
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** sum_d x[d] * W[d][col] */
function dotCol(x: number[], W: Mat, col: number): number {
  let s = 0;
  for (let d = 0; d < x.length; d++) s += x[d] * W[d][col];
  return s;
}

/** One step of one layer for one stream. Returns the new [h, c]. */
export function naiveStep(kind: CellKind, Lr: NaiveLayer, H: number, x: number[], h: number[], c: number[]): [number[], number[]] {
  const hn: number[] = new Array(H).fill(0);
  const cn: number[] = new Array(H).fill(0);
  for (let j = 0; j < H; j++) {
    if (kind === 'rnn') {
      hn[j] = Math.tanh(dotCol(x, Lr.Wx, j) + dotCol(h, Lr.Wh, j) + Lr.b[j]);
    } else if (kind === 'lstm') {
      const pre = (q: number): number => dotCol(x, Lr.Wx, q * H + j) + dotCol(h, Lr.Wh, q * H + j) + Lr.b[q * H + j];
      const ig = sigmoid(pre(0));
      const fg = sigmoid(pre(1));
      const og = sigmoid(pre(2));
      const gg = Math.tanh(pre(3));
      cn[j] = fg * c[j] + ig * gg;
      hn[j] = og * Math.tanh(cn[j]);
    } else {
      const bh = Lr.bh!;
      const xp = (q: number): number => dotCol(x, Lr.Wx, q * H + j) + Lr.b[q * H + j];
      const hp = (q: number): number => dotCol(h, Lr.Wh, q * H + j) + bh[q * H + j];
      const r = sigmoid(xp(0) + hp(0));
      const z = sigmoid(xp(1) + hp(1));
      const n = Math.tanh(xp(2) + r * hp(2));
      hn[j] = (1 - z) * n + z * h[j];
    }
  }
  return [hn, cn];
}

export interface NaiveResult {
  /** probs[(t*B + b)*V + v], the engine's (T,B,V) time-major layout. */
  probs: number[];
  /** Summed cross-entropy over all T*B predictions (nats). */
  loss: number;
  /** Final state per layer: h[l][b][j], c[l][b][j]. */
  h: number[][][];
  c: number[][][];
}

/**
 * Runs B independent streams for T steps. inputs/targets are (T,B) time-major. h0/c0 are per
 * layer per stream (zeros when omitted).
 */
export function naiveForward(
  net: NaiveNet,
  inputs: ArrayLike<number>,
  targets: ArrayLike<number> | null,
  B: number,
  T: number,
  h0?: number[][][],
  c0?: number[][][],
): NaiveResult {
  const { kind, V, H, layers } = net;
  const L = layers.length;
  const h: number[][][] = [];
  const c: number[][][] = [];
  for (let l = 0; l < L; l++) {
    h.push([]);
    c.push([]);
    for (let b = 0; b < B; b++) {
      h[l].push(h0 ? h0[l][b].slice() : new Array(H).fill(0));
      c[l].push(c0 ? c0[l][b].slice() : new Array(H).fill(0));
    }
  }
  const probs: number[] = new Array(T * B * V).fill(0);
  let loss = 0;
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const id = inputs[t * B + b];
      let x: number[];
      if (net.embed) x = net.embed[id].slice();
      else {
        x = new Array(V).fill(0);
        x[id] = 1;
      }
      for (let l = 0; l < L; l++) {
        const [hn, cn] = naiveStep(kind, layers[l], H, x, h[l][b], c[l][b]);
        h[l][b] = hn;
        c[l][b] = cn;
        x = hn;
      }
      const logits: number[] = [];
      for (let v = 0; v < V; v++) logits.push(dotCol(x, net.outW, v) + net.outB[v]);
      const mx = Math.max(...logits);
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(logits[v] - mx);
      for (let v = 0; v < V; v++) probs[(t * B + b) * V + v] = Math.exp(logits[v] - mx) / sum;
      if (targets) loss += -(logits[targets[t * B + b]] - mx - Math.log(sum));
    }
  }
  return { probs, loss, h, c };
}

/** Splits a Workspace.loadState vector into naive h0/c0 (per layer h (B,H) then c (B,H) for lstm). */
export function splitState(state: ArrayLike<number>, kind: CellKind, L: number, B: number, H: number): { h0: number[][][]; c0: number[][][] } {
  const h0: number[][][] = [];
  const c0: number[][][] = [];
  const per = B * H * (kind === 'lstm' ? 2 : 1);
  for (let l = 0; l < L; l++) {
    h0.push([]);
    c0.push([]);
    for (let b = 0; b < B; b++) {
      const hr: number[] = [];
      const cr: number[] = [];
      for (let j = 0; j < H; j++) {
        hr.push(state[l * per + b * H + j]);
        cr.push(kind === 'lstm' ? state[l * per + B * H + b * H + j] : 0);
      }
      h0[l].push(hr);
      c0[l].push(cr);
    }
  }
  return { h0, c0 };
}
