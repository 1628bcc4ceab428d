// Sampler.pick in-process: draws follow the tempered / top-k / top-p distribution (chi-square
// over 20,000 draws from a fixed distribution written into the workspace), top-k 1 is argmax,
// top-p 1 and top-k V are plain sampling draw for draw, and the partial selections agree with
// a full sort, ties included, up to V = 70,000.
//
// Shape legend: V vocab, k kept.

import { afterAll, describe, expect, it } from 'vitest';
import { Vocab } from '../src/data/corpus';
import type { Model } from '../src/engine/model';
import { Rng } from '../src/engine/rng';
import { Sampler, selectNucleus, selectTop, type PickOptions } from '../src/sample/sampler';
import { F32_KERNELS, makeModel, WASM_MISSING } from './helpers/engine';
import type { KernelKind } from '../src/engine/kernels';

const models: Model[] = [];
afterAll(() => models.forEach((m) => m.close()));

/**
 * A Sampler over a float32 model of vocabulary V whose next-character distribution is
 * softmax(`logits`): the output weights are zero and the output bias holds the logits, so one
 * real forward (feed) leaves them, and their probabilities, where pick() reads them.
 */
function samplerWithLogits(logits: number[], seed: number | string = 1, kernels: KernelKind = 'js'): Sampler {
  const V = logits.length;
  const model = makeModel({ kind: 'rnn', H: 2, L: 1, E: 0, V }, [{ B: 1, T: 1 }], { dtype: 'f32', kernels });
  models.push(model);
  model.params.t['out.W'].fill(0);
  model.params.t['out.b'].set(logits);
  const vocab = new Vocab(Array.from({ length: V }, (_, i) => 0x4e00 + i));
  const s = new Sampler(model, vocab, new Rng(seed));
  s.reset();
  s.feed(0);
  return s;
}

/** The same, with next-character probabilities `p` (log p as the logits; 0 is impossible). */
function samplerWith(p: number[], seed: number | string = 1): Sampler {
  return samplerWithLogits(p.map(Math.log), seed);
}

/** The distribution pick() should draw from, computed the slow and obvious way. */
function expected(p: number[], o: PickOptions): number[] {
  const T = o.temperature;
  let q = p.map((x) => (x > 0 ? Math.pow(x, 1 / T) : 0));
  const order = q.map((_, i) => i).sort((a, b) => q[b] - q[a] || a - b);
  const keep = new Set<number>();
  const k = o.topK && o.topK > 0 ? Math.min(o.topK, order.length) : order.length;
  const kept = order.slice(0, k).filter((i) => q[i] > 0);
  const massK = kept.reduce((s, i) => s + q[i], 0);
  let acc = 0;
  for (const i of kept) {
    keep.add(i);
    acc += q[i];
    if (acc >= (o.topP ?? 1) * massK) break;
  }
  q = q.map((x, i) => (keep.has(i) ? x : 0));
  const total = q.reduce((a, b) => a + b, 0);
  return q.map((x) => x / total);
}

/** Pearson's chi-square of counts against probabilities over the symbols with p > 0; 0-probability symbols must never appear. */
function chiSquare(counts: number[], probs: number[], n: number): { chi2: number; df: number; impossible: number } {
  let chi2 = 0;
  let df = -1;
  let impossible = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] === 0) impossible += counts[i];
    else {
      const e = n * probs[i];
      chi2 += ((counts[i] - e) * (counts[i] - e)) / e;
      df++;
    }
  }
  return { chi2, df, impossible };
}

/** Upper 0.1% point of chi-square with df degrees of freedom (Wilson-Hilferty), generous. */
function chi2Critical(df: number): number {
  const z = 3.09;
  const h = 2 / (9 * df);
  return df * Math.pow(1 - h + z * Math.sqrt(h), 3);
}

const P = [0.3, 0.05, 0.2, 0, 0.15, 0.1, 0.12, 0.05, 0.03];

describe('Sampler.pick draws from the right distribution (20,000 draws, chi-square at 0.1%)', () => {
  const cases: [string, PickOptions][] = [
    ['plain', { temperature: 1, argmax: false }],
    ['temperature 0.6', { temperature: 0.6, argmax: false }],
    ['temperature 1.7', { temperature: 1.7, argmax: false }],
    ['top-k 3', { temperature: 1, argmax: false, topK: 3 }],
    ['top-p 0.7', { temperature: 1, argmax: false, topP: 0.7 }],
    ['top-p 0.55', { temperature: 1, argmax: false, topP: 0.55 }],
    ['temperature 2, top-p 0.6', { temperature: 2, argmax: false, topP: 0.6 }],
    ['temperature 0.8, top-k 5, top-p 0.8', { temperature: 0.8, argmax: false, topK: 5, topP: 0.8 }],
    // top-2 renormalised is (0.6, 0.4): the nucleus of 0.55 is the first alone (of the full
    // distribution it would be both)
    ['top-k 2, top-p 0.55: the nucleus is of the renormalised top-k', { temperature: 1, argmax: false, topK: 2, topP: 0.55 }],
  ];
  for (const [name, o] of cases) {
    it(name, () => {
      const s = samplerWith(P, `freq:${name}`);
      const n = 20_000;
      const counts = new Array(P.length).fill(0);
      for (let i = 0; i < n; i++) counts[s.pick(o)]++;
      const q = expected(Array.from(s.ws.probs), o); // the probabilities as the model holds them (float32)
      const { chi2, df, impossible } = chiSquare(counts, q, n);
      expect(impossible, `draws of characters outside the kept set: ${counts}`).toBe(0);
      if (df > 0) expect(chi2, `counts ${counts} vs ${q.map((x) => (x * n).toFixed(0))}`).toBeLessThan(chi2Critical(df));
      else expect(counts.filter((c) => c > 0)).toHaveLength(1);
    });
  }

  it('the expected distributions are truncated as documented', () => {
    expect(expected(P, { temperature: 1, argmax: false, topK: 3 }).map((x) => +x.toFixed(6))).toEqual([
      0.461538, 0, 0.307692, 0, 0.230769, 0, 0, 0, 0,
    ]);
    // top-p 0.7: 0.3 + 0.2 + 0.15 = 0.65 < 0.7, + 0.12 -> kept {0, 2, 4, 6}
    expect(expected(P, { temperature: 1, argmax: false, topP: 0.7 }).filter((x) => x > 0)).toHaveLength(4);
  });

  it('a sample of the test itself fails when the distribution is wrong (the test can fail)', () => {
    const s = samplerWith(P, 'wrong');
    const n = 20_000;
    const counts = new Array(P.length).fill(0);
    for (let i = 0; i < n; i++) counts[s.pick({ temperature: 1, argmax: false, topK: 4 })]++;
    const wrong = expected(P, { temperature: 1, argmax: false, topK: 3 });
    const r = chiSquare(counts, wrong, n);
    expect(r.impossible).toBeGreaterThan(0);
  });
});

describe('temperature divides the logits, not the float32 probabilities', () => {
  // logits (0, -120): p = e^-120 = 8e-53 is 0 in float32 (the smallest is 1.4e-45), yet at
  // T = 100 the character has softmax(0, -1.2) = 23%.
  const q = 1 / (1 + Math.exp(1.2));
  for (const kernels of F32_KERNELS) {
    it.skipIf(kernels === 'wasm' && WASM_MISSING)(`a probability that underflowed is ${(q * 100).toFixed(1)}% at T = 100 (${kernels})`, () => {
      const s = samplerWithLogits([0, -120], 'underflow', kernels);
      expect(s.probs()[1]).toBe(0); // the premise: underflowed at T = 1
      const n = 4000;
      let ones = 0;
      for (let i = 0; i < n; i++) ones += s.pick({ temperature: 100, argmax: false });
      const sd = Math.sqrt(n * q * (1 - q));
      expect(Math.abs(ones - n * q), `${ones} of ${n} drew the underflowed character, expected ${(n * q).toFixed(0)}`).toBeLessThan(5 * sd);
      // and at T = 1 it stays impossible
      for (let i = 0; i < 1000; i++) expect(s.pick({ temperature: 1, argmax: false })).toBe(0);
    });
  }
});

describe('Sampler.pick: equivalences', () => {
  it('top-k 1 is argmax (ties go to the lowest id), at any temperature and top-p', () => {
    const rng = new Rng('argmax');
    for (let trial = 0; trial < 200; trial++) {
      const V = 1 + Math.floor(rng.uniform() * 40);
      const raw = Array.from({ length: V }, () => (rng.uniform() < 0.3 ? 0.5 : rng.uniform()));
      const sum = raw.reduce((a, b) => a + b, 0);
      const p = raw.map((x) => x / sum);
      const s = samplerWith(p);
      const f32 = Array.from(s.ws.probs);
      const best = f32.indexOf(Math.max(...f32));
      expect(s.pick({ temperature: 1, argmax: true })).toBe(best);
      expect(s.pick({ temperature: 0, argmax: false })).toBe(best);
      expect(s.pick({ temperature: 1, argmax: false, topK: 1 })).toBe(best);
      expect(s.pick({ temperature: 0.5, argmax: false, topK: 1, topP: 0.3 })).toBe(best);
      models.pop()!.close();
    }
  });

  it('top-p 1 and top-k >= V draw exactly what plain sampling draws with the same seed', () => {
    for (const T of [1, 0.7]) {
      const plain = samplerWith(P, 'same');
      const p1 = samplerWith(P, 'same');
      const kV = samplerWith(P, 'same');
      for (let i = 0; i < 5000; i++) {
        const a = plain.pick({ temperature: T, argmax: false });
        expect(p1.pick({ temperature: T, argmax: false, topP: 1 })).toBe(a);
        expect(kV.pick({ temperature: T, argmax: false, topK: P.length })).toBe(a);
      }
    }
  });

  it('top-p keeps at least the most likely character however small p is', () => {
    const s = samplerWith(P);
    for (let i = 0; i < 100; i++) expect(s.pick({ temperature: 1, argmax: false, topP: 1e-9 })).toBe(0);
  });

  it('a large vocabulary (V = 70,000): top-k 50 and top-p 0.5 draw only from the kept set', () => {
    const V = 70_000;
    const rng = new Rng('bigV');
    const raw = Array.from({ length: V }, () => Math.pow(rng.uniform(), 8));
    const sum = raw.reduce((a, b) => a + b, 0);
    const s = samplerWith(
      raw.map((x) => x / sum),
      'bigV',
    );
    const p = Array.from(s.ws.probs);
    const order = p.map((_, i) => i).sort((a, b) => p[b] - p[a] || a - b);
    const top50 = new Set(order.slice(0, 50));
    const total = p.reduce((a, b) => a + b, 0);
    let acc = 0;
    const nucleus = new Set<number>();
    for (const i of order) {
      nucleus.add(i);
      acc += p[i];
      if (acc >= 0.5 * total) break;
    }
    for (let i = 0; i < 300; i++) {
      expect(top50.has(s.pick({ temperature: 1, argmax: false, topK: 50 }))).toBe(true);
      expect(nucleus.has(s.pick({ temperature: 1, argmax: false, topP: 0.5 }))).toBe(true);
    }
  });
});

describe('partial selection agrees with a full sort', () => {
  const rng = new Rng('select');
  const sorted = (s: Float64Array, n: number) =>
    Array.from({ length: n }, (_, i) => i).sort((a, b) => s[b] - s[a] || a - b);

  it('selectTop: the k first in (probability desc, id asc) order, ties and all', () => {
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(rng.uniform() * (trial < 290 ? 60 : 5000));
      const levels = 1 + Math.floor(rng.uniform() * 6); // few distinct values: many ties
      const s = Float64Array.from({ length: n }, () => Math.floor(rng.uniform() * levels) / levels + (trial % 2 ? rng.uniform() * 1e-3 : 0));
      const k = 1 + Math.floor(rng.uniform() * n);
      const idx = Int32Array.from({ length: n }, (_, i) => i);
      selectTop(idx, s, n, k);
      expect([...idx.subarray(0, k)].sort((a, b) => a - b)).toEqual(sorted(s, n).slice(0, k).sort((a, b) => a - b));
    }
  });

  it('selectNucleus: the smallest prefix of that order holding the mass', () => {
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(rng.uniform() * 80);
      const s = Float64Array.from({ length: n }, () => Math.floor(rng.uniform() * 5) + 1);
      const total = s.reduce((a, b) => a + b, 0);
      const frac = rng.uniform();
      const need = total * frac; // as selectNucleus computes it (the total, of integers, is exact)
      const idx = Int32Array.from({ length: n }, (_, i) => i);
      const m = selectNucleus(idx, s, n, frac);
      const order = sorted(s, n);
      let acc = 0;
      let want = 0;
      while (acc < need) acc += s[order[want++]];
      expect(m).toBe(want);
      expect([...idx.subarray(0, m)].sort((a, b) => a - b)).toEqual(order.slice(0, m).sort((a, b) => a - b));
    }
  });
});
