// Parity with Karpathy's min-char-rnn (https://gist.github.com/karpathy/d4dee566867f8291f086):
// a line-by-line transcription of its lossFun and Adagrad loop (column vectors, Wxh (H,V),
// Whh (H,H), Why (V,H), bh, by; loss summed over the chunk; dparams clipped to [-5, 5];
// Adagrad lr 0.1 eps 1e-8; hprev carried; p advances by seq_length and wraps to 0 with a
// fresh hprev), against charrnn configured the same way (rnn, 1 layer, hidden 100, one-hot,
// batch 1, seq 25, adagrad 0.1, clip 5, summed loss), from the same initial weights.
//
// Shape legend: H hidden, V vocab, T seq_length.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Dtype, Vec } from '../src/engine/arena';
import { Batcher } from '../src/data/batcher';
import type { ModelConfig, OptimConfig } from '../src/config';
import { corpusFromText } from '../src/data/corpus';
import type { KernelKind } from '../src/engine/kernels';
import { Model } from '../src/engine/model';
import { Rng } from '../src/engine/rng';
import { Trainer } from '../src/train/step';
import { F32_KERNELS, SHAKESPEARE, kernelsMissing } from './helpers/engine';

type Col = number[]; // column vector
type Mat = number[][]; // [row][col]

const H = 100;
const SEQ = 25;
const LR = 0.1;
const STEPS = 50;

const zeros = (r: number, c: number): Mat => Array.from({ length: r }, () => new Array(c).fill(0));
const matvec = (A: Mat, x: Col): Col => A.map((row) => row.reduce((s, a, j) => s + a * x[j], 0));
const matTvec = (A: Mat, x: Col): Col => {
  const out = new Array(A[0].length).fill(0);
  for (let i = 0; i < A.length; i++) for (let j = 0; j < A[0].length; j++) out[j] += A[i][j] * x[i];
  return out;
};
const addOuter = (D: Mat, a: Col, b: Col): void => {
  for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) D[i][j] += a[i] * b[j];
};
/** lossFun's result: the gradients clipped to [-5, 5] to mitigate exploding gradients. */
function clipped(loss: number, dWxh: Mat, dWhh: Mat, dWhy: Mat, dbh: Col, dby: Col, h: Col) {
  const clip = (x: number) => Math.min(5, Math.max(-5, x));
  const cm = (m: Mat) => m.map((r) => r.map(clip));
  return { loss, dWxh: cm(dWxh), dWhh: cm(dWhh), dWhy: cm(dWhy), dbh: dbh.map(clip), dby: dby.map(clip), h };
}

class MinCharRnn {
  Wxh: Mat;
  Whh: Mat;
  Why: Mat;
  bh: Col;
  by: Col;
  private mem: { Wxh: Mat; Whh: Mat; Why: Mat; bh: Col; by: Col };
  private n = 0;
  private p = 0;
  private hprev: Col = [];

  constructor(
    readonly data: number[],
    readonly V: number,
    rng: Rng,
  ) {
    const randn = (r: number, c: number): Mat => Array.from({ length: r }, () => Array.from({ length: c }, () => rng.normal() * 0.01));
    this.Wxh = randn(H, V); // input to hidden
    this.Whh = randn(H, H); // hidden to hidden
    this.Why = randn(V, H); // hidden to output
    this.bh = new Array(H).fill(0);
    this.by = new Array(V).fill(0);
    this.mem = { Wxh: zeros(H, V), Whh: zeros(H, H), Why: zeros(V, H), bh: new Array(H).fill(0), by: new Array(V).fill(0) };
  }

  /**
   * Lock-step: take charrnn's current weights and Adagrad memory (not hprev, p or n, which
   * stay the transcription's own). Wx = Wxh^T (V,H), Wh = Whh^T (H,H), out.W = Why^T (H,V).
   */
  syncFrom(p: Record<string, ArrayLike<number>>, m: Record<string, ArrayLike<number>>): void {
    const { V } = this;
    for (const [dst, src] of [
      [this, p],
      [this.mem, m],
    ] as const) {
      for (let v = 0; v < V; v++) for (let j = 0; j < H; j++) dst.Wxh[j][v] = src['l0.Wx'][v * H + j];
      for (let k = 0; k < H; k++) for (let j = 0; j < H; j++) dst.Whh[j][k] = src['l0.Wh'][k * H + j];
      for (let j = 0; j < H; j++) for (let v = 0; v < V; v++) dst.Why[v][j] = src['out.W'][j * V + v];
      for (let j = 0; j < H; j++) dst.bh[j] = src['l0.b'][j];
      for (let v = 0; v < V; v++) dst.by[v] = src['out.b'][v];
    }
  }

  /** Largest |charrnn - transcription| over the weights and, when given, the Adagrad memory (relative to max(1, |value|)). */
  diff(p: Record<string, ArrayLike<number>>, m?: Record<string, ArrayLike<number>>): number {
    const { V } = this;
    let w = 0;
    const d = (a: number, b: number) => (w = Math.max(w, Math.abs(a - b) / Math.max(1, Math.abs(b))));
    for (const [ref, src] of m ? ([[this, p], [this.mem, m]] as const) : ([[this, p]] as const)) {
      for (let v = 0; v < V; v++) for (let j = 0; j < H; j++) d(src['l0.Wx'][v * H + j], ref.Wxh[j][v]);
      for (let k = 0; k < H; k++) for (let j = 0; j < H; j++) d(src['l0.Wh'][k * H + j], ref.Whh[j][k]);
      for (let j = 0; j < H; j++) for (let v = 0; v < V; v++) d(src['out.W'][j * V + v], ref.Why[v][j]);
      for (let j = 0; j < H; j++) d(src['l0.b'][j], ref.bh[j]);
      for (let v = 0; v < V; v++) d(src['out.b'][v], ref.by[v]);
    }
    return w;
  }

  lossFun(inputs: number[], targets: number[], hprev: Col) {
    const { V, Wxh, Whh, Why, bh, by } = this;
    const xs: Col[] = [];
    const hs = new Map<number, Col>();
    const ps: Col[] = [];
    hs.set(-1, hprev.slice());
    let loss = 0;
    for (let t = 0; t < inputs.length; t++) {
      xs[t] = new Array(V).fill(0); // encode in 1-of-k representation
      xs[t][inputs[t]] = 1;
      const a1 = matvec(Wxh, xs[t]);
      const a2 = matvec(Whh, hs.get(t - 1)!);
      hs.set(t, a1.map((v, i) => Math.tanh(v + a2[i] + bh[i]))); // hidden state
      const ys = matvec(Why, hs.get(t)!).map((v, i) => v + by[i]); // unnormalized log probabilities
      const e = ys.map(Math.exp);
      const sum = e.reduce((s, v) => s + v, 0);
      ps[t] = e.map((v) => v / sum); // probabilities for next chars
      loss += -Math.log(ps[t][targets[t]]); // softmax (cross-entropy loss)
    }
    // backward pass: compute gradients going backwards
    const dWxh = zeros(H, V);
    const dWhh = zeros(H, H);
    const dWhy = zeros(V, H);
    const dbh = new Array(H).fill(0);
    const dby = new Array(V).fill(0);
    let dhnext: Col = new Array(H).fill(0);
    for (let t = inputs.length - 1; t >= 0; t--) {
      const dy = ps[t].slice();
      dy[targets[t]] -= 1; // backprop into y
      addOuter(dWhy, dy, hs.get(t)!);
      dy.forEach((v, i) => (dby[i] += v));
      const dh = matTvec(Why, dy).map((v, i) => v + dhnext[i]); // backprop into h
      const ht = hs.get(t)!;
      const dhraw = dh.map((v, i) => (1 - ht[i] * ht[i]) * v); // backprop through tanh nonlinearity
      dhraw.forEach((v, i) => (dbh[i] += v));
      addOuter(dWxh, dhraw, xs[t]);
      addOuter(dWhh, dhraw, hs.get(t - 1)!);
      dhnext = matTvec(Whh, dhraw);
    }
    return clipped(loss, dWxh, dWhh, dWhy, dbh, dby, hs.get(inputs.length - 1)!);
  }

  /** One Adagrad update of one value, mem already updated. */
  protected adagrad(param: number, dparam: number, mem: number): number {
    return param + (-LR * dparam) / Math.sqrt(mem + 1e-8); // adagrad update
  }

  /** One iteration of the main loop; returns the loss of the chunk. */
  iterate(): number {
    const { data } = this;
    if (this.p + SEQ + 1 >= data.length || this.n === 0) {
      this.hprev = new Array(H).fill(0); // reset RNN memory
      this.p = 0; // go from start of data
    }
    const inputs = data.slice(this.p, this.p + SEQ);
    const targets = data.slice(this.p + 1, this.p + SEQ + 1);
    const r = this.lossFun(inputs, targets, this.hprev);
    this.hprev = r.h;
    // perform parameter update with Adagrad
    const upd = (param: Mat, dparam: Mat, mem: Mat) => {
      for (let i = 0; i < param.length; i++) {
        for (let j = 0; j < param[0].length; j++) {
          mem[i][j] += dparam[i][j] * dparam[i][j];
          param[i][j] = this.adagrad(param[i][j], dparam[i][j], mem[i][j]);
        }
      }
    };
    const col = (v: Col): Mat => v.map((x) => [x]);
    upd(this.Wxh, r.dWxh, this.mem.Wxh);
    upd(this.Whh, r.dWhh, this.mem.Whh);
    upd(this.Why, r.dWhy, this.mem.Why);
    const bh = col(this.bh);
    const mbh = col(this.mem.bh);
    upd(bh, col(r.dbh), mbh);
    this.bh = bh.map((r) => r[0]);
    this.mem.bh = mbh.map((r) => r[0]);
    const by = col(this.by);
    const mby = col(this.mem.by);
    upd(by, col(r.dby), mby);
    this.by = by.map((r) => r[0]);
    this.mem.by = mby.map((r) => r[0]);
    this.p += SEQ; // move data pointer
    this.n += 1; // iteration counter
    return r.loss;
  }
}

/**
 * The same transcription with every floating-point sum written out as a loop whose order of
 * additions is the order charrnn's js kernels use (src/kernels/js.ts through layer.ts,
 * cells/rnn.ts, model.ts Workspace.forward/backward, train/step.ts, optim.ts), so that in float64
 * both compute bit for bit the same numbers and a free run stays together for 50 steps despite
 * the chaotic early dynamics. Everything else (data pointer, reset, hprev, clip, Adagrad) is
 * the base class's, i.e. min-char-rnn's. The orders, with the charrnn code they mirror:
 *
 * forward, per step t (x = one-hot inputs[t], h' = hs[t-1]):
 *  - hidden pre-activation a[j] = (bh[j] + Wxh[j][x]) + Whh[j][0] h'[0] + Whh[j][1] h'[1] + ...
 *    left to right, k ascending: project() does fillRows(b) then gatherRows(Wx[x], acc), i.e.
 *    b + Wx[x] (np.dot(Wxh, x) is that column times 1, exact); rnnCell.forward then matmul(acc)
 *    adds h'[k] Wh[k][j] for k ascending, skipping h'[k] === 0 (mirrored; after a reset adding
 *    a 0 product is exact anyway). min-char-rnn instead adds Wxh x + (Whh h' summed) + bh.
 *  - logits y[v] = by[v] + Why[v][0] h[0] + Why[v][1] h[1] + ..., k ascending (fillRows(out.b),
 *    matmul(acc), same zero skip).
 *  - softmax (softmaxXent): m = max y; e[v] = exp(y[v] - m); sum = e[0] + e[1] + ... v
 *    ascending; p[v] = e[v] * (1 / sum), a multiplication by the reciprocal, not a division.
 *  - loss: -log p[target] summed over t ascending, as min-char-rnn (charrnn computes each term
 *    as log(sum) - (y[target] - m); the two differ by an ulp or so, and the loss feeds nothing
 *    back, so this is the only place the two runs are not bit-identical).
 * backward (scale 1 for the summed loss):
 *  - dy = p; dy[target] -= 1 (softmaxXentBackward: p * 1, then - 1).
 *  - dh from the output: d[j] = 0 + dy[0] Why[0][j] + dy[1] Why[1][j] + ..., v ascending, no
 *    zero skip (matmulNT: s = 0; s += ...; out = s).
 *  - dh = d + dhnext: rnnCell.backward's matmulNT(acc) computes the dot product s first and then
 *    out + s into the buffer already holding d, so (Why^T dy) + dhnext as min-char-rnn writes it;
 *    at t = T-1 charrnn takes d alone, and d + 0 === d.
 *  - dhraw[j] = (1 - h[j] h[j]) dh[j] (tanhBackward, same product).
 *  - dhnext[k] = 0 + Whh[0][k] dhraw[0] + Whh[1][k] dhraw[1] + ..., j ascending (matmulNT over
 *    Wh = Whh^T, inner index ascending from s = 0).
 *  - the parameter gradients are NOT accumulated inside the backward time loop as in
 *    min-char-rnn (t descending) but over t ASCENDING from zero, because charrnn accumulates
 *    them once per chunk after the time loop: dWhy[v][k] += dy_t[v] h_t[k] (matmulTN over the
 *    time rows, k ascending, skipping h_t[k] === 0), dby[v] += dy_t[v] (sumRows), dbh[j] +=
 *    dhraw_t[j] (sumRows), dWxh[j][inputs[t]] += dhraw_t[j] (scatterRows; the other columns of
 *    min-char-rnn's outer product with the one-hot x only add zeros), dWhh[j][k] += dhraw_t[j]
 *    h_{t-1}[k] (matmulTN over h_0..h_{T-1}, skipping h_{t-1}[k] === 0).
 * clip, after all gradients: clipByValue's x > 5 ? 5 : x < -5 ? -5 : x, which is np.clip.
 * update (optimizerStep 'adagrad'): mem += g g; p -= (lr g) / sqrt(mem + 1e-8). min-char-rnn's
 *  p += (-lr g) / sqrt(mem + 1e-8) is the same float (negation is exact, p + (-u) === p - u),
 *  but it is written as optim.ts writes it.
 */
class MinCharRnnOrdered extends MinCharRnn {
  protected override adagrad(param: number, dparam: number, mem: number): number {
    return param - (LR * dparam) / Math.sqrt(mem + 1e-8); // optim.ts
  }

  override lossFun(inputs: number[], targets: number[], hprev: Col) {
    const { V, Wxh, Whh, Why, bh, by } = this;
    const T = inputs.length;
    const hs = new Map<number, Col>();
    const ps: Col[] = [];
    hs.set(-1, hprev.slice());
    let loss = 0;
    for (let t = 0; t < T; t++) {
      const hp = hs.get(t - 1)!;
      const h: Col = new Array(H);
      for (let j = 0; j < H; j++) {
        let a = bh[j] + Wxh[j][inputs[t]]; // bh + Wxh x, x one-hot
        for (let k = 0; k < H; k++) if (hp[k] !== 0) a += Whh[j][k] * hp[k]; // + Whh h
        h[j] = Math.tanh(a); // hidden state
      }
      hs.set(t, h);
      const ys: Col = new Array(V); // unnormalized log probabilities
      for (let v = 0; v < V; v++) {
        let y = by[v];
        for (let k = 0; k < H; k++) if (h[k] !== 0) y += Why[v][k] * h[k];
        ys[v] = y;
      }
      let max = -Infinity;
      for (let v = 0; v < V; v++) if (ys[v] > max) max = ys[v];
      const e = ys.map((y) => Math.exp(y - max));
      let sum = 0;
      for (let v = 0; v < V; v++) sum += e[v];
      const inv = 1 / sum;
      ps[t] = e.map((x) => x * inv); // probabilities for next chars
      loss += -Math.log(ps[t][targets[t]]); // softmax (cross-entropy loss)
    }
    // backward pass: the chain through time goes backwards ...
    const dys: Col[] = [];
    const dhraws: Col[] = [];
    let dhnext: Col = new Array(H).fill(0);
    for (let t = T - 1; t >= 0; t--) {
      const dy = ps[t].slice();
      dy[targets[t]] -= 1; // backprop into y
      const ht = hs.get(t)!;
      const dhraw: Col = new Array(H);
      for (let j = 0; j < H; j++) {
        let d = 0;
        for (let v = 0; v < V; v++) d += Why[v][j] * dy[v]; // Why^T dy
        const dh = d + dhnext[j]; // backprop into h
        dhraw[j] = (1 - ht[j] * ht[j]) * dh; // backprop through tanh nonlinearity
      }
      const next: Col = new Array(H);
      for (let k = 0; k < H; k++) {
        let s = 0;
        for (let j = 0; j < H; j++) s += Whh[j][k] * dhraw[j]; // Whh^T dhraw
        next[k] = s;
      }
      dhnext = next;
      dys[t] = dy;
      dhraws[t] = dhraw;
    }
    // ... and the parameter gradients are summed over the chunk with t ascending.
    const dWxh = zeros(H, V);
    const dWhh = zeros(H, H);
    const dWhy = zeros(V, H);
    const dbh = new Array(H).fill(0);
    const dby = new Array(V).fill(0);
    for (let t = 0; t < T; t++) {
      const dy = dys[t];
      const dhraw = dhraws[t];
      const ht = hs.get(t)!;
      const hp = hs.get(t - 1)!;
      for (let v = 0; v < V; v++) for (let k = 0; k < H; k++) if (ht[k] !== 0) dWhy[v][k] += dy[v] * ht[k];
      for (let v = 0; v < V; v++) dby[v] += dy[v];
      for (let j = 0; j < H; j++) dbh[j] += dhraw[j];
      for (let j = 0; j < H; j++) dWxh[j][inputs[t]] += dhraw[j];
      for (let j = 0; j < H; j++) for (let k = 0; k < H; k++) if (hp[k] !== 0) dWhh[j][k] += dhraw[j] * hp[k];
    }
    return clipped(loss, dWxh, dWhh, dWhy, dbh, dby, hs.get(T - 1)!);
  }
}

const TEXT = readFileSync(SHAKESPEARE, 'utf8');

interface Variant {
  /** Use the summation-ordered transcription (MinCharRnnOrdered). */
  ordered?: boolean;
  /** Change charrnn's initial weights after the copy (sensitivity checks). */
  perturb?: (t: Record<string, Vec>) => void;
  /** charrnn's learning rate (the transcription always uses LR). */
  lr?: number;
}

function setup(chars: number, dtype: Dtype, kernels: KernelKind, variant: Variant = {}) {
  const text = TEXT.slice(0, chars);
  // min-char-rnn's vocabulary, sorted: chars = sorted(set(data))
  const chars_ = [...new Set(text)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  const ix = new Map(chars_.map((c, i) => [c, i]));
  const data = Array.from(text, (c) => ix.get(c)!);
  const V = chars_.length;
  const ref = new (variant.ordered ? MinCharRnnOrdered : MinCharRnn)(data, V, new Rng('min-char-rnn'));

  const corpus = corpusFromText(text);
  expect(corpus.vocab.size).toBe(V);
  expect(Array.from(corpus.ids)).toEqual(data);
  const config: ModelConfig = { model: 'rnn', hidden: H, layers: 1, embed: 0, dropout: 0 };
  const model = new Model(config, { config, vocabSize: V, shapes: [{ B: 1, T: SEQ }], optimizer: 'adagrad', dtype, kernels });
  const t = model.params.t;
  // Copy the initial weights: Wx = Wxh^T (V,H), Wh = Whh^T (H,H), out.W = Why^T (H,V).
  for (let v = 0; v < V; v++) for (let j = 0; j < H; j++) t['l0.Wx'][v * H + j] = ref.Wxh[j][v];
  for (let k = 0; k < H; k++) for (let j = 0; j < H; j++) t['l0.Wh'][k * H + j] = ref.Whh[j][k];
  for (let j = 0; j < H; j++) for (let v = 0; v < V; v++) t['out.W'][j * V + v] = ref.Why[v][j];
  t['l0.b'].fill(0);
  t['out.b'].fill(0);
  variant.perturb?.(t);
  const optim: OptimConfig = { optimizer: 'adagrad', lr: LR, clip: 5, clipNorm: 0, reduction: 'sum' };
  const trainer = new Trainer(model, new Batcher(corpus.ids, 1, SEQ), optim, new Rng(1));
  return { ref, model, trainer, V };
}

/**
 * 50 steps of both. free: each runs on its own from the same initial weights. lockstep: before
 * every step the transcription takes charrnn's weights and Adagrad memory, so each step is
 * compared from the same state (the updated weights and memory are compared after it).
 */
function parity(chars: number, dtype: Dtype, kernels: KernelKind, mode: 'free' | 'lockstep', variant: Variant = {}) {
  const { ref, model, trainer } = setup(chars, dtype, kernels, variant);
  const losses: number[] = []; // relative error of each step's loss
  let wdiff = 0; // largest relative difference of weights / memory after a step (lockstep) or at the end (free)
  let wraps = 0;
  for (let step = 0; step < STEPS; step++) {
    if (trainer.batcher.pos >= trainer.batcher.batchesPerEpoch) wraps++;
    if (mode === 'lockstep') ref.syncFrom(model.params.t, model.slots[0].t);
    const want = ref.iterate();
    const got = trainer.step(variant.lr ?? LR).loss * SEQ; // charrnn reports nats per character
    losses.push(Math.abs(got - want) / want);
    if (mode === 'lockstep') wdiff = Math.max(wdiff, ref.diff(model.params.t, model.slots[0].t));
  }
  if (mode === 'free') wdiff = ref.diff(model.params.t, model.slots[0].t);
  model.close();
  return { losses, worst: Math.max(...losses), wdiff, wraps };
}

const results: string[] = [];

// Why a lock-step mode: min-char-rnn's first Adagrad steps move every weight by about +-lr
// (g / sqrt(g^2 + 1e-8)), the loss jumps to 6-9 nats/char, and in that regime the trajectory is
// chaotic: two float64 implementations that differ only in summation order (1e-16) drift apart
// by ~30x per step (1e-13 at step 5, 1e-7 at step 9, O(1) at step 15; measured). So the free run
// of the plain transcription is compared for its first steps, and all 50 steps (including the
// wrap) in lock-step. The free run over all 50 steps is done against MinCharRnnOrdered, the same
// transcription with charrnn's order of additions, which float64 js kernels match bit for bit.
describe('min-char-rnn parity: 50 Adagrad steps', () => {
  it('float64, first 5000 characters, lock-step: every loss, every updated weight and memory', () => {
    const r = parity(5000, 'f64', 'js', 'lockstep');
    results.push(`f64 js 5000 lock-step: loss rel ${r.worst.toExponential(2)}, weights/mem rel ${r.wdiff.toExponential(2)}`);
    expect(r.worst).toBeLessThan(1e-12);
    expect(r.wdiff).toBeLessThan(1e-11);
  });

  it('float64, first 1000 characters, lock-step (the streams wrap at step 40: hprev and p reset)', () => {
    const r = parity(1000, 'f64', 'js', 'lockstep');
    results.push(`f64 js 1000 lock-step (wrap): loss rel ${r.worst.toExponential(2)}, weights/mem rel ${r.wdiff.toExponential(2)}`);
    expect(r.wraps).toBe(1);
    expect(r.worst).toBeLessThan(1e-12);
    expect(r.wdiff).toBeLessThan(1e-11);
  });

  it('float64, first 5000 characters, free run: the first steps agree before the chaos', () => {
    const r = parity(5000, 'f64', 'js', 'free');
    const first = Math.max(...r.losses.slice(0, 6));
    results.push(`f64 js 5000 free: loss rel steps 0-5 ${first.toExponential(2)}, per step ${r.losses.map((x) => x.toExponential(0)).join(' ')}`);
    expect(first).toBeLessThan(1e-11);
    expect(r.losses.length).toBe(STEPS);
  });

  // Free run, all 50 steps, against the transcription with charrnn's summation order. Measured:
  // the weights and Adagrad memory after 50 steps are bit-identical (with and without the wrap),
  // and the losses differ by at most an ulp or two (1.7e-16 relative), because the transcription
  // keeps min-char-rnn's -log(p[target]) where charrnn computes log(sum) - (y - max).
  it.each([
    [5000, 0],
    [1000, 1], // the streams wrap at step 40: hprev and p reset
  ])('float64, first %i characters, free run of all 50 steps against the summation-ordered transcription', (chars, wraps) => {
    const r = parity(chars, 'f64', 'js', 'free', { ordered: true });
    results.push(`f64 js ${chars} free (ordered transcription): loss rel ${r.worst.toExponential(2)}, final weights/mem rel ${r.wdiff.toExponential(2)}`);
    expect(r.wraps).toBe(wraps);
    expect(r.losses.length).toBe(STEPS);
    expect(r.worst).toBeLessThan(1e-12);
    expect(r.wdiff, 'weights and Adagrad memory after 50 steps are bit-identical').toBe(0);
  });

  // The free run has teeth: the chaos that forced the lock-step mode above makes a change of
  // 1e-9 in one initial weight, or in the learning rate, show as a loss difference of O(0.1)
  // within the 50 steps (measured: it passes 1e-5 at step 7 in both cases, worst 0.43 / 0.35).
  it.each([
    ['one initial weight of Whh + 1e-9', { perturb: (t: Record<string, Vec>) => (t['l0.Wh'][0] += 1e-9) }],
    ['lr * (1 + 1e-9)', { lr: LR * (1 + 1e-9) }],
  ] as [string, Variant][])('float64 free run fails with %s', (what, variant) => {
    const r = parity(5000, 'f64', 'js', 'free', { ordered: true, ...variant });
    const first = r.losses.findIndex((x) => x > 1e-5);
    results.push(`f64 js 5000 free, ${what}: loss rel ${r.worst.toExponential(2)}, first step > 1e-5: ${first + 1}`);
    expect(r.worst).toBeGreaterThan(1e-5);
  });

  describe.each(F32_KERNELS)('float32 %s kernels', (kernels) => {
    it.skipIf(kernelsMissing(kernels))('first 5000 characters, lock-step: every loss', () => {
      const r = parity(5000, 'f32', kernels, 'lockstep');
      results.push(`f32 ${kernels} 5000 lock-step: loss rel ${r.worst.toExponential(2)}, weights/mem rel ${r.wdiff.toExponential(2)}`);
      expect(r.worst).toBeLessThan(1e-5);
    });

    // For information: float32 rounding (1e-7) goes through the same chaos, so a free run
    // against the float64 transcription leaves 1e-5 after a few steps (measured: step 6 js,
    // step 5 wasm) and is O(0.1) apart by step 12. Only the first step is asserted.
    it.skipIf(kernelsMissing(kernels))('first 5000 characters, free run against the ordered transcription (informational)', () => {
      const r = parity(5000, 'f32', kernels, 'free', { ordered: true });
      const first = r.losses.findIndex((x) => x > 1e-5);
      results.push(
        `f32 ${kernels} 5000 free (ordered transcription): first step > 1e-5: ${first < 0 ? 'none' : first + 1}, ` +
          `worst ${r.worst.toExponential(2)}, per step ${r.losses.map((x) => x.toExponential(0)).join(' ')}`,
      );
      expect(r.losses[0]).toBeLessThan(1e-5);
    });
  });

  it('summary', () => {
    console.log('min-char-rnn parity:\n  ' + results.join('\n  '));
    expect(results.length).toBeGreaterThanOrEqual(8);
  });
});
