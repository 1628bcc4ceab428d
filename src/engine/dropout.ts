// Dropout masks: one draw from the run's generator per layer and step, expanded by a counter hash.
//
// Shape legend: B batch, T steps, H hidden; a mask is (T, B, H), each value 0 or 1/(1-p).
//
// Why not one rng.uniform() per value: seedrandom's alea costs ~13 ns a double, and a 2 x 256
// model at B32 T64 needs a million mask values a step: about 30% of the step's time went there.
// A counter hash (value i is a pure function of the seed and i) costs ~2 ns a value, needs no
// state, and gives the same mask in any order or split, so it stays reproducible: the seed comes
// from the one seeded generator, and a resumed run continues that generator exactly.

import type { Vec } from './arena';
import type { Rng } from './rng';

/** A 32-bit seed from the run's generator: the only draw a mask costs. */
export function maskSeed(rng: Rng): number {
  return Math.floor(rng.uniform() * 4294967296) >>> 0;
}

/** 32 well-mixed bits from (seed, i): murmur3's finaliser over a Weyl sequence, twice. */
export function hash32(seed: number, i: number): number {
  let x = (seed + Math.imul(i, 0x9e3779b9)) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  x ^= x >>> 16;
  x = Math.imul(x ^ seed ^ (x >>> 15), 0x2c1b3c6d);
  x = Math.imul(x ^ (x >>> 12), 0x297a2d39);
  return (x ^ (x >>> 15)) >>> 0;
}

/**
 * mask(n) = 0 with probability p, else 1/(1-p) (inverted dropout: no rescaling at test time).
 * Each hash gives two values: a value is dropped when its 16 bits fall below p * 2^16, so p is
 * rounded to a multiple of 2^-16 (0.1 drops 0.100006 of the values).
 */
export function fillDropoutMask(mask: Vec, seed: number, p: number, n: number): void {
  const keep = 1 / (1 - p);
  const cut = Math.round(p * 65536);
  const pairs = n >>> 1;
  for (let j = 0; j < pairs; j++) {
    const x = hash32(seed, j);
    mask[2 * j] = (x & 0xffff) < cut ? 0 : keep;
    mask[2 * j + 1] = x >>> 16 < cut ? 0 : keep;
  }
  if (n & 1) mask[n - 1] = (hash32(seed, pairs) & 0xffff) < cut ? 0 : keep;
}
