// Dropout masks from a counter hash (src/engine/dropout.ts): the right fraction dropped, the
// right scale kept, independent values, the same mask from the same seed, one draw per mask.

import { describe, expect, it } from 'vitest';
import { fillDropoutMask, hash32, maskSeed } from '../src/engine/dropout';
import { Rng } from '../src/engine/rng';

const N = 1 << 18;

/** |observed - expected| within 5 binomial standard deviations. */
function expectRate(count: number, n: number, p: number): void {
  const sd = Math.sqrt(n * p * (1 - p));
  expect(Math.abs(count - n * p), `${count} of ${n} against p = ${p}`).toBeLessThan(5 * sd + 1);
}

describe('dropout masks', () => {
  for (const p of [0.05, 0.1, 0.25, 0.5, 0.9]) {
    it(`p = ${p}: values are 0 or 1/(1-p), a fraction p of them 0`, () => {
      const mask = new Float32Array(N + 1); // odd length: the last value comes from its own hash
      fillDropoutMask(mask, 987654321, p, N + 1);
      const keep = Math.fround(1 / (1 - p));
      let zeros = 0;
      for (const v of mask) {
        if (v === 0) zeros++;
        else expect(v).toBe(keep);
      }
      expectRate(zeros, N + 1, p);
    });
  }

  it('neighbours, both halves of a hash, and the next seed are independent', () => {
    const p = 0.3;
    const a = new Float32Array(N);
    const b = new Float32Array(N);
    fillDropoutMask(a, 7, p, N);
    fillDropoutMask(b, 8, p, N);
    let pairs = 0; // value i and i+1: the two halves of one hash for even i, two hashes for odd i
    let evenPairs = 0;
    let seeds = 0;
    for (let i = 0; i + 1 < N; i++) {
      if (a[i] === 0 && a[i + 1] === 0) {
        pairs++;
        if (i % 2 === 0) evenPairs++;
      }
    }
    for (let i = 0; i < N; i++) if (a[i] === 0 && b[i] === 0) seeds++;
    expectRate(pairs, N - 1, p * p);
    expectRate(evenPairs, N / 2, p * p);
    expectRate(seeds, N, p * p);
  });

  it('the hash spreads its bits: each output bit set about half the time over a counter', () => {
    const ones = new Array(32).fill(0);
    const n = 1 << 16;
    for (let i = 0; i < n; i++) {
      const x = hash32(0, i);
      for (let bit = 0; bit < 32; bit++) ones[bit] += (x >>> bit) & 1;
    }
    for (const c of ones) expectRate(c, n, 0.5);
  });

  it('the same seed gives the same mask; a mask costs one draw of the run generator', () => {
    const rng = new Rng(42);
    const ref = new Rng(42);
    const s1 = maskSeed(rng);
    ref.uniform();
    expect(rng.uniform()).toBe(ref.uniform()); // exactly one draw consumed
    const a = new Float32Array(1001);
    const b = new Float32Array(1001);
    fillDropoutMask(a, s1, 0.2, 1001);
    fillDropoutMask(b, s1, 0.2, 1001);
    expect(Array.from(a)).toEqual(Array.from(b));
    fillDropoutMask(b, (s1 + 1) >>> 0, 0.2, 1001);
    expect(Array.from(a)).not.toEqual(Array.from(b));
    expect(Number.isInteger(s1) && s1 >= 0 && s1 < 2 ** 32).toBe(true);
  });
});
