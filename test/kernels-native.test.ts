// The native kernels (the C++ addon) against the reference, for every instruction set this CPU
// runs (AVX-512F, AVX2+FMA, baseline): every kernel against jsKernels in float64 on random
// shapes (odd sizes, 1, large; the checks of helpers/kernel-checks.ts, shared with wasm), and
// 1, 2 and 3 threads giving the same bits with every split forced. Skipped, by name and with
// the reason, when the addon is not built (no C++ compiler at install).
//
// Shape legend: B batch, H hidden, V vocab; M, K, N generic matrix sizes; row-major.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Arena } from '../src/engine/arena';
import { jsKernels } from '../src/engine/kernels/js';
import { createNativeBackend, nativeIsas, tuneNative, type NativeBackend, type NativeIsa } from '../src/engine/kernels/native';
import { NATIVE_MISSING, NATIVE_SKIP_NOTE } from './helpers/engine';
import { bitsEqual, expectLayerLoopsEqual, f64, kernelChecks, lstmLayerLoops, randInt, rng, worst } from './helpers/kernel-checks';

const BYTES = 96 << 20;
const isas: NativeIsa[] = NATIVE_MISSING ? ['base'] : nativeIsas();

describe.skipIf(NATIVE_MISSING !== null)(`native kernels${NATIVE_SKIP_NOTE}`, () => {
  it('run on this CPU with at least the baseline build, best first', () => {
    expect(isas[isas.length - 1]).toBe('base');
    const be = createNativeBackend(1 << 16, 1);
    try {
      expect(be.isa).toBe(isas[0]);
      expect(be.kernels.name).toBe('native');
      expect(be.base % 64).toBe(0);
      expect(be.buffer.byteLength).toBeGreaterThanOrEqual(be.base + (1 << 16));
    } finally {
      be.close();
    }
  });

  describe.each(isas)('%s build', (isa) => {
    let be: NativeBackend;
    beforeAll(() => {
      be = createNativeBackend(BYTES, 1, { isa });
    });
    afterAll(() => be.close());
    it('is the build asked for', () => expect(be.isa).toBe(isa));
    kernelChecks('native', () => be);
  });

  describe.each(isas)('%s build on 1, 2 and 3 threads', (isa) => {
    const bes: NativeBackend[] = [];
    let old: ReturnType<typeof tuneNative>;
    beforeAll(() => {
      for (const t of [1, 2, 3]) bes.push(createNativeBackend(BYTES / 2, t, { isa }));
      old = tuneNative({ splitMinMacs: 0, splitMinElems: 0 }); // split everything that can be
    });
    afterAll(() => {
      tuneNative(old);
      for (const be of bes) be.close();
    });

    /** Runs fn on every backend with the same random inputs (fill) and returns what it returned. */
    function onEach<T>(seed: number, fn: (be: NativeBackend, fill: (n: number, scale?: number) => Float32Array, ints: (n: number) => Int32Array) => T): T[] {
      return bes.map((be) => {
        const r = rng(seed);
        const arena = new Arena('f32', be.buffer, be.base);
        const fill = (n: number, scale = 1) => {
          const v = arena.floats(n) as Float32Array;
          for (let i = 0; i < n; i++) v[i] = (r() * 2 - 1) * scale;
          return v;
        };
        return fn(be, fill, (n) => arena.ints(n));
      });
    }

    it('products: model-sized and small odd shapes, bit-identical and right', () => {
      const cases: [number, number, number][] = [
        [2500, 128, 512], [50, 512, 2048], [2500, 128, 65], [128, 2500, 65], [50, 128, 512], [1, 128, 512], [2, 300, 70],
        [3, 5, 200], [20, 37, 10], [13, 50, 3], [300, 9, 24], [16, 300, 5],
      ];
      for (let s = 0; s < 30; s++) cases.push([randInt(1, 90), randInt(0, 300), randInt(1, 150)]);
      cases.forEach(([M, K, N], s) => {
        for (const kind of ['nn', 'tn', 'nt'] as const) {
          const acc = kind === 'tn' || s % 2 === 0;
          const outs = onEach(s, (be, fill) => {
            const out = fill(M * N);
            const a = fill(M * K);
            const b = fill(K * N);
            const want = f64(out);
            if (kind === 'nn') {
              be.kernels.matmul(out, a, b, M, K, N, acc);
              jsKernels.matmul(want, f64(a), f64(b), M, K, N, acc);
            } else if (kind === 'tn') {
              be.kernels.matmulTN(out, a, b, M, K, N);
              jsKernels.matmulTN(want, f64(a), f64(b), M, K, N);
            } else {
              be.kernels.matmulNT(out, a, b, M, K, N, acc);
              jsKernels.matmulNT(want, f64(a), f64(b), M, K, N, acc);
            }
            return { out, err: worst(out, want, null, 2e-6 * Math.sqrt(K + 1), 1) };
          });
          const what = `${kind} ${M}x${K}x${N} acc=${acc}`;
          expect(outs[0].err, what).toBeLessThanOrEqual(1);
          for (const o of outs.slice(1)) expect(bitsEqual(o.out, outs[0].out), what).toBe(true);
        }
      });
    });

    it('matmulBias: the same bits as fillRows then matmul with acc, on every thread count', () => {
      const cases: [number, number, number][] = [[2048, 64, 512], [512, 128, 65], [1, 128, 512], [3, 40, 70], [13, 0, 33], [50, 300, 2048], [37, 17, 45]];
      cases.forEach(([M, K, N], s) => {
        const outs = onEach(900 + s, (be, fill) => {
          const a = fill(M * K), w = fill(K * N), bias = fill(N);
          const fused = fill(M * N), plain = fill(M * N); // start as noise: both must overwrite it
          be.kernels.matmulBias!(fused, a, w, bias, M, K, N);
          be.kernels.fillRows(plain, bias, M, N);
          be.kernels.matmul(plain, a, w, M, K, N, true);
          return { fused, plain, bias };
        });
        for (const o of outs) {
          expect(bitsEqual(o.fused, outs[0].plain), `${M}x${K}x${N}`).toBe(true);
          expect(bitsEqual(o.plain, outs[0].plain), `${M}x${K}x${N} fill + matmul`).toBe(true);
        }
        if (K === 0) expect(outs[0].fused.subarray(0, N)).toEqual(outs[0].bias); // no product: the bias alone
      });
    });

    it('matmulTNSum: the same bits as sumRows then matmulTN, on every thread count and split', () => {
      // column parts (64x512x512), rows split (512x300x64: parts below the first must not sum),
      // few rows (3x40x70: B not packed), K = 0, odd N (partial panels), several k and n blocks
      const cases: [number, number, number][] = [[64, 512, 512], [128, 512, 65], [512, 300, 64], [3, 40, 70], [13, 0, 33], [37, 17, 45], [200, 600, 2100]];
      cases.forEach(([M, K, N], s) => {
        const outs = onEach(950 + s, (be, fill) => {
          const a = fill(K * M), b = fill(K * N);
          const out = fill(M * N), sums = fill(N); // accumulated into: the same start for both
          const out2 = Float32Array.from(out), sums2 = Float32Array.from(sums);
          be.kernels.matmulTNSum(out, a, b, sums, M, K, N);
          const o = fill(M * N), d = fill(N);
          o.set(out2);
          d.set(sums2);
          be.kernels.sumRows(d, b, K, N);
          be.kernels.matmulTN(o, a, b, M, K, N);
          return { out, sums, o, d, start: sums2 };
        });
        for (const r of outs) {
          expect(bitsEqual(r.sums, outs[0].d), `${M}x${K}x${N} sums`).toBe(true);
          expect(bitsEqual(r.out, outs[0].o), `${M}x${K}x${N} product`).toBe(true);
        }
        if (K > 0) expect(bitsEqual(outs[0].sums, outs[0].start)).toBe(false); // the sums moved
      });
    });

    it('recurrent cells, softmax, tanh, mul, sumRows and the row kernels split: bit-identical', () => {
      for (const [B, H] of [[2, 3], [5, 8], [50, 128], [7, 33], [64, 512]]) {
        const results = onEach(B * 100 + H, (be, fill, ints) => {
          const k = be.kernels;
          const n = B * H;
          const h = fill(n), c = fill(n), gates = fill(4 * n, 3), cPrev = fill(n);
          k.lstmForward(h, c, gates, cPrev, B, H);
          const dg = fill(4 * n), dc = fill(n), dh = fill(n);
          k.lstmBackward(dg, dc, dh, gates, c, cPrev, B, H);
          const gh = fill(n), xg = fill(3 * n, 3), hg = fill(3 * n, 3), hPrev = fill(n);
          k.gruForward(gh, xg, hg, hPrev, B, H);
          const dxg = fill(3 * n), dhg = fill(3 * n), dhPrev = fill(n), dh2 = fill(n);
          k.gruBackward(dxg, dhg, dhPrev, dh2, xg, hg, hPrev, B, H);
          const t = fill(n, 4);
          k.tanh(t, n);
          const da = fill(n);
          k.tanhBackward(da, dh2, t, n);
          const m = fill(n);
          k.mul(m, m, dh, n);
          const db = fill(H);
          k.sumRows(db, dh, B, H);
          const probs = fill(n, 5);
          const targets = ints(B);
          for (let i = 0; i < B; i++) targets[i] = (i * 7) % H;
          const loss = k.softmaxXent(probs, targets, B, H);
          // rows of a table: fill, gather (both ways), scatter with repeated ids (split by columns)
          const filled = fill(n);
          k.fillRows(filled, db, B, H);
          const table = fill(5 * H);
          const ids = ints(B);
          for (let i = 0; i < B; i++) ids[i] = (i * 3) % 5;
          const gathered = fill(n);
          k.gatherRows(gathered, ids, table, B, H, false);
          const added = fill(n);
          k.gatherRows(added, ids, table, B, H, true);
          k.scatterRows(table, added, ids, B, H);
          return { arrays: [h, c, gates, dg, dc, gh, xg, dxg, dhg, dhPrev, t, da, m, db, probs, filled, gathered, added, table], loss };
        });
        for (const r of results.slice(1)) {
          r.arrays.forEach((x, i) => expect(bitsEqual(x, results[0].arrays[i]), `B=${B} H=${H} output ${i}`).toBe(true));
          expect(r.loss).toBe(results[0].loss);
        }
      }
    });
  });

  describe.each(isas)('%s build: the LSTM layer loops', (isa) => {
    const bes: NativeBackend[] = [];
    let old: ReturnType<typeof tuneNative>;
    beforeAll(() => {
      for (const t of [1, 2, 3]) bes.push(createNativeBackend(BYTES / 4, t, { isa }));
      old = tuneNative({ splitMinMacs: 0, splitMinElems: 0 }); // split every layer whose H allows it
    });
    afterAll(() => {
      tuneNative(old);
      for (const be of bes) be.close();
    });

    it('equal the per-step loops of cells/lstm.ts bit for bit on 1, 2 and 3 threads (batch rows split, or units in 32s)', () => {
      // [B, H, steps]. B >= 8 with H <= 256 (Wh within ROW_SPLIT_MAX_WH) splits the batch rows:
      // 16 x 128, 8 x 100 (H not a multiple of the vector), 9 x 64 (parts of 4 and 5 rows), 33 x 192,
      // 24 x 256. Else the units: H 32 is one unit, 96 three (a part each on 3 threads), 100 not a
      // multiple of 32 (one part), 8 x 512 (Wh beyond the row split). 33 x 512 is a step big enough
      // (LAYER_MAX_MACS) for the per-call splits, as B < 4 (sampling) is.
      for (const [B, H, steps] of [
        [1, 32, 3], [1, 64, 3], [3, 128, 5], [1, 512, 3], [4, 128, 3], [16, 128, 7], [5, 96, 4], [4, 100, 3], [2, 256, 6],
        [33, 192, 2], [33, 512, 2], [8, 100, 3], [9, 64, 4], [24, 256, 3], [8, 512, 2], [7, 64, 3],
      ]) {
        expectLayerLoopsEqual(bes.map((be) => lstmLayerLoops(be, B, H, steps)), B, H, steps);
      }
    });
  });

  it('weightsBegin/End: packed weights are reused within a pass (same bits) and dropped after it', () => {
    const be = createNativeBackend(8 << 20, 2);
    try {
      const k = be.kernels;
      const arena = new Arena('f32', be.buffer, be.base);
      const r = rng(77);
      const fill = (n: number) => {
        const v = arena.floats(n) as Float32Array;
        for (let i = 0; i < n; i++) v[i] = r() * 2 - 1;
        return v;
      };
      for (const [M, K, N] of [[50, 128, 512], [7, 300, 45], [32, 512, 128]]) {
        const a = fill(M * K), w = fill(K * N), wt = fill(N * K);
        const plain = [fill(M * N), fill(M * N)];
        k.matmul(plain[0], a, w, M, K, N, false);
        k.matmulNT(plain[1], a, wt, M, K, N, false);
        const held = [fill(M * N), fill(M * N), fill(M * N), fill(M * N)];
        k.weightsBegin!();
        for (let rep = 0; rep < 2; rep++) {
          k.matmul(held[2 * rep], a, w, M, K, N, false); // the second call reads the packed copy
          k.matmulNT(held[2 * rep + 1], a, wt, M, K, N, false);
        }
        k.weightsEnd!();
        for (let i = 0; i < 4; i++) expect(bitsEqual(held[i], plain[i % 2]), `${M}x${K}x${N} call ${i}`).toBe(true);
        // new weights, a new pass: the old packed copy is not used
        for (let i = 0; i < w.length; i++) w[i] = -w[i];
        k.weightsBegin!();
        k.matmul(held[0], a, w, M, K, N, false);
        k.weightsEnd!();
        for (let i = 0; i < held[0].length; i++) expect(held[0][i]).toBe(plain[0][i] === 0 ? 0 : -plain[0][i]);
      }
    } finally {
      be.close();
    }
  });

  it('a backend with an unknown instruction set is refused with the reason', () => {
    expect(() => createNativeBackend(1024, 1, { isa: 'sse9' as NativeIsa })).toThrow(/instruction set 'sse9'/);
  });
});
