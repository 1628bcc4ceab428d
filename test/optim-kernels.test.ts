// The optimizer on the native and wasm kernels (Kernels.clip and Kernels.update) against the
// loops of engine/optim.ts in JavaScript: the same bits, for every optimizer, on 1, 2 and 3
// threads with the split forced, so where the update runs never changes a run's numbers. The
// native half is skipped, by name and with the reason, when the addon is not built.
//
// Shape legend: P values in the flat parameter buffer.

import { describe, expect, it } from 'vitest';
import { OPTIMIZER_KINDS, type OptimizerKind } from '../src/config';
import { Arena } from '../src/engine/arena';
import type { Backend } from '../src/engine/kernels/index';
import { createNativeBackend, tuneNative } from '../src/engine/kernels/native';
import { createWasmBackend } from '../src/engine/kernels/wasm';
import { clipByValue, optimizerStep } from '../src/engine/optim';
import { Rng } from '../src/engine/rng';
import { NATIVE_MISSING, NATIVE_SKIP_NOTE } from './helpers/engine';

const SLOTS: Record<OptimizerKind, number> = { sgd: 0, adagrad: 1, rmsprop: 1, adam: 2 };

/** P random values: parameters near 0, gradients over several scales (some past the clip), slots >= 0 where squares live. */
function fill(v: Float32Array, rng: Rng, scale: number, positive = false): void {
  for (let i = 0; i < v.length; i++) {
    const x = (rng.uniform() * 2 - 1) * scale * 10 ** Math.floor(rng.uniform() * 4 - 2);
    v[i] = positive ? Math.abs(x) : x;
  }
}

function optimizerTests(create: (bytes: number, threads: number) => Backend, forceSplit: () => () => void): void {
  for (const threads of [1, 2, 3]) {
    it.each(OPTIMIZER_KINDS.map((k) => [k]))(`%s: clip and 5 updates (the last 3 clipping, then zeroing, in their own pass) equal the JavaScript loops bit for bit, ${threads} thread(s)`, (kind) => {
      const P = 100_003; // odd, above the size at which the work is split
      const be = create(4 * P * 8 + 4096, threads);
      const restore = forceSplit();
      try {
        const arena = new Arena('f32', be.buffer, be.base);
        const [p, g, s0, s1] = [0, 1, 2, 3].map(() => arena.floats(P) as Float32Array);
        const rng = new Rng(7);
        fill(p, rng, 1);
        fill(s0, rng, 1, kind !== 'adam');
        fill(s1, rng, 1, true);
        const slots = [s0, s1].slice(0, SLOTS[kind]);
        const ref = [p, g, ...slots].map((v) => Float32Array.from(v));
        const start = Float32Array.from(p);
        const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, 4 * P).equals(Buffer.from(b.buffer, b.byteOffset, 4 * P));
        for (let step = 1; step <= 5; step++) {
          fill(g, rng, 3);
          ref[1].set(g);
          clipByValue(ref[1], 2);
          if (step <= 2) {
            // the clip kernel, then the update
            clipByValue(g, 2, be.kernels);
            expect(same(g, ref[1])).toBe(true);
            optimizerStep(kind, p, g, slots, 0.01, step, be.kernels);
          } else {
            // clipped inside the update's pass (0.3: not a float32, the clip kernel's rounding
            // of the bound matters), zeroed after on the last step, else left clipped
            if (step === 4) {
              for (const v of [g, ref[1]]) for (let i = 0; i < P; i += 7) v[i] = i % 2 ? 0.31 : -0.5;
              clipByValue(ref[1], 0.3);
            }
            optimizerStep(kind, p, g, slots, 0.01, step, be.kernels, { clip: step === 4 ? 0.3 : 2, zeroGrad: step === 5 });
            if (step === 5) expect(g.some((x) => x !== 0)).toBe(false);
            else expect(same(g, ref[1])).toBe(true);
          }
          optimizerStep(kind, ref[0], ref[1], ref.slice(2), 0.01, step);
        }
        expect(same(p, ref[0])).toBe(true);
        slots.forEach((s, i) => expect(same(s, ref[2 + i])).toBe(true));
        // the comparison is not vacuous: the updates moved the weights
        expect(same(p, start)).toBe(false);
      } finally {
        restore();
        be.close();
      }
    });
  }

  it('uses the kernels (without them the update falls back to the loops, as on js)', () => {
    const be = create(4096, 1);
    try {
      expect(typeof be.kernels.update).toBe('function');
      expect(typeof be.kernels.clip).toBe('function');
    } finally {
      be.close();
    }
  });
}

describe.skipIf(NATIVE_MISSING !== null)(`the optimizer on the native kernels${NATIVE_SKIP_NOTE}`, () => {
  optimizerTests(createNativeBackend, () => {
    const old = tuneNative({ splitMinElems: 0 });
    return () => tuneNative(old);
  });
});

describe('the optimizer on the wasm kernels', () => {
  // P = 100,003 is above the module's split size (2^16), so 2 and 3 threads split the values
  optimizerTests(createWasmBackend, () => () => {});
});
