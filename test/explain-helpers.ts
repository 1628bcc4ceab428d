// Helpers of the explain tests: read the data back out of a page, and recompute the model's
// probabilities and states with the naive float64 forward of test/helpers/naive.ts.
//
// Shape legend: N characters, K guesses, V vocab, L layers, H hidden, S state traces.

import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { base64ToF32, type Checkpoint } from './cli-helpers';
import { naiveNetFrom, naiveStep } from './helpers/naive';

/** The JSON block of a page, as written. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function pageData(file: string): any {
  const html = readFileSync(file, 'utf8');
  const m = /<script type="application\/json" id="data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error(`no data block in ${file}`);
  return JSON.parse(m[1]);
}

/** One of the page's deflated, base64 typed arrays. */
export function unpack<T>(b64: string, Ctor: new (b: ArrayBuffer) => T): T {
  const b = inflateRawSync(Buffer.from(b64, 'base64'));
  const copy = new Uint8Array(b.length);
  copy.set(b);
  return new Ctor(copy.buffer);
}

export interface NaiveTrace {
  /** probs[i]: the distribution that predicts character i (i >= 1), (V). */
  probs: number[][];
  /** h[l][i], c[l][i]: the state after reading character i, (H). */
  h: number[][][];
  c: number[][][];
}

/** The checkpoint's model run naively (float64, one step at a time) over the ids. */
export function naiveTrace(ck: Checkpoint, ids: number[]): NaiveTrace {
  const { model, hidden: H, layers: L, embed: E } = ck.model;
  const V = ck.vocab.length;
  const t: Record<string, Float32Array> = {};
  for (const [name, tj] of Object.entries(ck.tensors as Record<string, { data: string }>)) t[name] = base64ToF32(tj.data);
  const net = naiveNetFrom(model, V, H, L, E, t);
  let h = Array.from({ length: L }, () => new Array(H).fill(0));
  let c = Array.from({ length: L }, () => new Array(H).fill(0));
  const out: NaiveTrace = { probs: [[]], h: Array.from({ length: L }, () => []), c: Array.from({ length: L }, () => []) };
  for (let i = 0; i < ids.length; i++) {
    let x: number[] = net.embed ? net.embed[ids[i]].slice() : Array.from({ length: V }, (_, v) => (v === ids[i] ? 1 : 0));
    const hn: number[][] = [];
    const cn: number[][] = [];
    for (let l = 0; l < L; l++) {
      const [a, b] = naiveStep(model, net.layers[l], H, x, h[l], c[l]);
      hn.push(a);
      cn.push(b);
      out.h[l].push(a);
      out.c[l].push(b);
      x = a;
    }
    h = hn;
    c = cn;
    const logits = Array.from({ length: V }, (_, v) => x.reduce((s, xi, j) => s + xi * net.outW[j][v], 0) + net.outB[v]);
    const mx = Math.max(...logits);
    const e = logits.map((z) => Math.exp(z - mx));
    const sum = e.reduce((a, b) => a + b, 0);
    out.probs.push(e.map((z) => z / sum));
  }
  out.probs.pop(); // the distribution after the last character predicts nothing in the text
  return out;
}

/**
 * Fractions of the LSTM's i, f, o activations < 0.1 and > 0.9 over positions 0..N-2 (the steps
 * eval runs), per layer, from the naive states: pre = x Wx + h_prev Wh + b.
 */
export function naiveLstmSaturation(ck: Checkpoint, ids: number[], tr: NaiveTrace): { low: number; high: number }[][] {
  const { hidden: H, layers: L, embed: E } = ck.model;
  const V = ck.vocab.length;
  const t: Record<string, Float32Array> = {};
  for (const [name, tj] of Object.entries(ck.tensors as Record<string, { data: string }>)) t[name] = base64ToF32(tj.data);
  const net = naiveNetFrom('lstm', V, H, L, E, t);
  const out: { low: number; high: number }[][] = [];
  for (let l = 0; l < L; l++) {
    const counts = [0, 1, 2].map(() => ({ low: 0, high: 0 }));
    const Lr = net.layers[l];
    for (let i = 0; i < ids.length - 1; i++) {
      const x = l > 0 ? tr.h[l - 1][i] : net.embed ? net.embed[ids[i]] : Array.from({ length: V }, (_, v) => (v === ids[i] ? 1 : 0));
      const hp = i > 0 ? tr.h[l][i - 1] : new Array(H).fill(0);
      for (let q = 0; q < 3; q++) {
        for (let j = 0; j < H; j++) {
          let pre = Lr.b[q * H + j];
          for (let d = 0; d < x.length; d++) pre += x[d] * Lr.Wx[d][q * H + j];
          for (let d = 0; d < H; d++) pre += hp[d] * Lr.Wh[d][q * H + j];
          const a = 1 / (1 + Math.exp(-pre));
          if (a < 0.1) counts[q].low++;
          else if (a > 0.9) counts[q].high++;
        }
      }
    }
    const n = (ids.length - 1) * H;
    out.push(counts.map((c) => ({ low: c.low / n, high: c.high / n })));
  }
  return out;
}
