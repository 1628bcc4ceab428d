// The activations' storage in the explain page: 8-bit within the budget, 4-bit beyond; h on a
// fixed scale of 1, c on each unit's largest |value|; every value within half a step; the
// deflate + base64 packing round-trips.
//
// Shape legend: N characters, H hidden, S state traces.

import { inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/engine/rng';
import { ACTIVATION_BUDGET, bytesOf, dequantise, levelsFor, packBytes, quantiseStates } from '../src/explain/quantise';
import type { StateTrace } from '../src/explain/run';

function traces(rng: Rng, H: number, N: number): StateTrace[] {
  const h = new Float32Array(H * N).map(() => Math.tanh(3 * rng.normal()));
  const c = new Float32Array(H * N).map((_, i) => rng.normal() * (1 + (Math.floor(i / N) % 4) * 5)); // scales differ per unit
  return [
    { layer: 0, state: 'h', values: h },
    { layer: 0, state: 'c', values: c },
  ];
}

describe('quantised activations', () => {
  it('8-bit up to the budget, 4-bit beyond', () => {
    expect(levelsFor(ACTIVATION_BUDGET)).toBe(127);
    expect(levelsFor(ACTIVATION_BUDGET + 1)).toBe(7);
  });

  it.each([127, 7])('levels %i: h on scale 1, c on its largest |value|, every value within half a step', (levels) => {
    const H = 6;
    const N = 500;
    const st = traces(new Rng('q' + levels), H, N);
    const q = quantiseStates(st, H, N, levels);
    expect(q.levels).toBe(levels);
    st.forEach((s, k) => {
      for (let u = 0; u < H; u++) {
        const scale = q.scales[k * H + u];
        let max = 0;
        for (let i = 0; i < N; i++) max = Math.max(max, Math.abs(s.values[u * N + i]));
        expect(scale).toBeCloseTo(s.state === 'h' ? 1 : max, 6);
        for (let i = 0; i < N; i++) {
          const qv = q.bytes[(k * H + u) * N + i];
          expect(Math.abs(qv)).toBeLessThanOrEqual(levels);
          expect(Math.abs(dequantise(qv, scale, levels) - s.values[u * N + i])).toBeLessThanOrEqual(scale / (2 * levels) + 1e-6);
        }
      }
    });
  });

  it('deflate + base64 round-trips the bytes', () => {
    const q = quantiseStates(traces(new Rng('pack'), 4, 300), 4, 300);
    const back = new Int8Array(inflateRawSync(Buffer.from(packBytes(bytesOf(q.bytes)), 'base64')));
    expect(Array.from(back)).toEqual(Array.from(q.bytes));
  });
});
