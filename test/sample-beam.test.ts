// Beam search in-process, checked against exhaustive enumeration: on a bigram model built so
// that greedy decoding is not the most probable text, a wider beam finds the true best; a
// beam as wide as the number of texts returns all of them in exact order (for rnn, lstm and
// gru, so the reordering of h and c between steps is right); width 1 is argmax; stop strings
// finish hypotheses and --length-norm ranks them as documented.
//
// Shape legend: V vocab, W beam width, S steps (len).

import { afterAll, describe, expect, it } from 'vitest';
import { beamSearch, lengthPenalty, type BeamResult } from '../src/sample/beam';
import { Vocab } from '../src/data/corpus';
import type { Model } from '../src/engine/model';
import { Rng } from '../src/engine/rng';
import { Sampler } from '../src/sample/sampler';
import { StopMatcher } from '../src/sample/stops';
import { setBigram, TRAP_CHARS, TRAP_TABLE } from './helpers/bigram';
import { CELLS, makeModel, randomizeParams, type SmallModel } from './helpers/engine';

const open: Model[] = [];
afterAll(() => open.forEach((m) => m.close()));

const trapShape: SmallModel = { kind: 'rnn', H: 4, L: 1, E: 0, V: 4 };
const trapVocab = new Vocab(Array.from(TRAP_CHARS, (c) => c.codePointAt(0)!));

/** A model of `shape` with one workspace of B = W, T = 1 (and one of B = T = 1 for the reference). */
function build(shape: SmallModel, W: number, init: (m: Model) => void, dtype: 'f32' | 'f64' = 'f32'): Model {
  const m = makeModel(shape, [{ B: W, T: 1 }, { B: 1, T: 1 }], { dtype });
  open.push(m);
  init(m);
  return m;
}

/** Sum of natural-log probabilities of `ids` after `context`, at batch 1 (the reference). */
function logProbOf(m: Model, context: number[], ids: number[]): number {
  const s = new Sampler(m, trapVocab, new Rng(0), 1);
  s.reset();
  for (const id of context) s.feed(id);
  let sum = 0;
  for (const id of ids) {
    sum += s.logProb(id);
    s.feed(id);
  }
  return sum;
}

/** Every text of length `len` over V characters, with its log-probability, best first. */
function enumerate(m: Model, context: number[], len: number): { ids: number[]; logProb: number }[] {
  const V = m.V;
  const out: { ids: number[]; logProb: number }[] = [];
  for (let code = 0; code < Math.pow(V, len); code++) {
    const ids: number[] = [];
    for (let i = 0, c = code; i < len; i++, c = Math.floor(c / V)) ids.unshift(c % V);
    out.push({ ids, logProb: logProbOf(m, context, ids) });
  }
  return out.sort((a, b) => b.logProb - a.logProb);
}

function greedy(m: Model, context: number[], len: number): number[] {
  const s = new Sampler(m, trapVocab, new Rng(0), 1);
  s.reset();
  for (const id of context) s.feed(id);
  const ids: number[] = [];
  for (let i = 0; i < len; i++) {
    const id = s.pick({ temperature: 1, argmax: true });
    ids.push(id);
    s.feed(id);
  }
  return ids;
}

const search = (m: Model, context: number[], len: number, num: number, extra: { lengthNorm?: number; stops?: StopMatcher | null } = {}): BeamResult[] =>
  beamSearch(m.workspaces[0], Int32Array.from(context) as unknown as Uint8Array, { len, num, lengthNorm: extra.lengthNorm ?? 0, stops: extra.stops ?? null });

const A = 0; // 'a'

describe('beam search on a model where greedy decoding is not the most probable text', () => {
  it('the trap works: greedy text is less probable than the best text (exhaustive)', () => {
    const m = build(trapShape, 1, (x) => setBigram(x, TRAP_TABLE));
    for (const len of [2, 3, 4]) {
      const all = enumerate(m, [A], len);
      const g = greedy(m, [A], len);
      expect(g[0]).toBe(1); // 'b' first
      expect(logProbOf(m, [A], g)).toBeLessThan(all[0].logProb - 0.5);
      expect(all[0].ids[0]).toBe(2); // the best starts with 'c'
    }
  });

  it('width 1 is greedy decoding (argmax)', () => {
    const m = build(trapShape, 1, (x) => setBigram(x, TRAP_TABLE));
    for (const len of [1, 2, 5, 12]) {
      const [r] = search(m, [A], len, 1);
      expect([...r.ids]).toEqual(greedy(m, [A], len));
    }
  });

  it('width 2 and 3 find the true best text of lengths 1 to 5 (exhaustive check)', () => {
    for (const W of [2, 3]) {
      const m = build(trapShape, W, (x) => setBigram(x, TRAP_TABLE));
      for (let len = 1; len <= 5; len++) {
        const all = enumerate(m, [A], len);
        const [best] = search(m, [A], len, 1);
        expect([...best.ids], `W ${W} len ${len}`).toEqual(all[0].ids);
        expect(best.logProb).toBeCloseTo(all[0].logProb, 5);
        expect(best.score).toBe(best.logProb);
        if (len >= 2) expect(best.ids[0]).toBe(2);
      }
    }
  });

  it('--num N: the N best, distinct, best first, each scored right', () => {
    const m = build(trapShape, 6, (x) => setBigram(x, TRAP_TABLE));
    const rs = search(m, [A], 3, 4);
    expect(rs).toHaveLength(4);
    expect(new Set(rs.map((r) => r.ids.join())).size).toBe(4);
    for (let i = 0; i < rs.length; i++) {
      expect(rs[i].ids).toHaveLength(3);
      expect(rs[i].logProb).toBeCloseTo(logProbOf(m, [A], [...rs[i].ids]), 5);
      if (i > 0) expect(rs[i].score).toBeLessThanOrEqual(rs[i - 1].score);
    }
  });
});

describe('a beam as wide as the number of texts returns all of them, in exact order', () => {
  for (const kind of CELLS) {
    it(`${kind}: V = 3, len 4 (81 texts), two layers, float64`, () => {
      const shape: SmallModel = { kind, H: 5, L: 2, E: 0, V: 3 };
      const m = build(shape, 81, (x) => randomizeParams(x, new Rng(`beam-all-${kind}`), 1.2), 'f64');
      const context = [1, 0, 2];
      const all = enumerate(m, context, 4);
      const rs = search(m, context, 4, 81);
      expect(rs).toHaveLength(81);
      expect(rs.map((r) => [...r.ids])).toEqual(all.map((a) => a.ids));
      for (let i = 0; i < 81; i++) expect(rs[i].logProb).toBeCloseTo(all[i].logProb, 9);
      // and a narrower beam's best is the true best here too
      const m3 = build(shape, 3, (x) => randomizeParams(x, new Rng(`beam-all-${kind}`), 1.2), 'f64');
      expect([...search(m3, context, 4, 1)[0].ids]).toEqual(all[0].ids);
    });
  }

  it('fewer distinct texts than --num: all of them, no duplicates', () => {
    const m = build(trapShape, 8, (x) => setBigram(x, TRAP_TABLE));
    expect(search(m, [A], 1, 8)).toHaveLength(4);
  });
});

describe('beam search with stop strings', () => {
  /** Exhaustive: texts that end at their first stop match, or reach len without one. */
  function finishedTexts(m: Model, context: number[], len: number, stops: number[][], alpha: number) {
    const all: { ids: number[]; logProb: number; score: number; stopped: boolean }[] = [];
    const endsWithStop = (ids: number[]) => {
      const text = [...context, ...ids];
      return stops.some((s) => s.length <= text.length && s.every((c, i) => text[text.length - s.length + i] === c) && s.length <= text.length);
    };
    const grow = (ids: number[]) => {
      if (ids.length > 0 && endsWithStop(ids)) {
        const lp = logProbOf(m, context, ids);
        all.push({ ids, logProb: lp, score: lp / lengthPenalty(ids.length, alpha), stopped: true });
        return;
      }
      if (ids.length === len) {
        const lp = logProbOf(m, context, ids);
        all.push({ ids, logProb: lp, score: lp / lengthPenalty(len, alpha), stopped: false });
        return;
      }
      for (let v = 0; v < m.V; v++) grow([...ids, v]);
    };
    grow([]);
    return all.sort((a, b) => b.score - a.score);
  }

  for (const alpha of [0, 0.6, 2]) {
    it(`a wide beam ranks finished and full-length texts as the exhaustive search does (length-norm ${alpha})`, () => {
      const m = build(trapShape, 256, (x) => setBigram(x, TRAP_TABLE));
      // stop at "ab" or "d" (the match may begin in the prime: "a" + generated "b")
      const matcher = new StopMatcher(['ab', 'd'], trapVocab);
      const want = finishedTexts(m, [A], 4, [[0, 1], [3]], alpha);
      const rs = search(m, [A], 4, 10, { lengthNorm: alpha, stops: matcher });
      expect(rs.map((r) => [...r.ids])).toEqual(want.slice(0, 10).map((w) => w.ids));
      for (let i = 0; i < rs.length; i++) {
        expect(rs[i].stopped).toBe(want[i].stopped);
        expect(rs[i].score).toBeCloseTo(want[i].score, 5);
      }
      expect(rs.some((r) => r.stopped) && rs.some((r) => !r.stopped)).toBe(true);
    });
  }

  it('length normalisation changes the winner: short stopped texts lose their edge', () => {
    const m = build(trapShape, 256, (x) => setBigram(x, TRAP_TABLE));
    const matcher = new StopMatcher(['ab', 'd'], trapVocab);
    const plain = search(m, [A], 4, 1, { stops: matcher })[0];
    const normed = search(m, [A], 4, 1, { stops: matcher, lengthNorm: 3 })[0];
    expect(plain.ids.length).toBeLessThan(normed.ids.length);
  });
});
