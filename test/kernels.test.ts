// The wasm kernels against the reference (jsKernels run in float64 on copies of the same
// float32 inputs), on random shapes including odd sizes and sizes 1, for every variant that
// is built (plain SIMD, relaxed-SIMD FMA), and 2 threads against 1 (bit-identical).
// Needs `npm run build` (dist/kernels.wasm, dist/worker.js).
//
// Shape legend: B batch, H hidden, V vocab; M, K, N generic matrix sizes; row-major.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Arena } from '../src/engine/arena';
import { jsKernels } from '../src/engine/kernels/js';
import { createWasmBackend, type SimdVariant, type Tuning, type WasmBackend } from '../src/engine/kernels/wasm';
import { bitsEqual, expectLayerLoopsEqual, f64, fillRandom, kernelChecks, lstmLayerLoops, randInt, rng, worst, type PathTuning } from './helpers/kernel-checks';

const BYTES = 96 << 20;

const variants: SimdVariant[] = existsSync(join(__dirname, '..', 'dist', 'kernels-relaxed.wasm'))
  ? ['plain', 'relaxed']
  : ['plain'];

/** Each product through every code path: the default heuristics, B always packed, B always read in place. */
const paths: [string, PathTuning][] = (
  [
    ['default paths', {}],
    ['packed B', { rawRowsBelow: 0, rawBMaxFloats: 0 }],
    ['B in place', { rawRowsBelow: 1e9, rawBMaxFloats: 1e9 }],
  ] as [string, Partial<Tuning>][]
).map(([path, tuning]) => [
  path,
  (be) => {
    const old = (be as WasmBackend).tune(tuning);
    return () => (be as WasmBackend).tune(old);
  },
]);

describe.each(variants)('wasm kernels (%s SIMD)', (simd) => {
  let be: WasmBackend;
  beforeAll(() => {
    be = createWasmBackend(BYTES, 1, { simd });
  });
  afterAll(() => be.close());

  it('reports the variant and the arena region', () => {
    expect(be.simd).toBe(simd);
    expect(be.base % 64).toBe(0);
    expect(be.buffer.byteLength).toBeGreaterThanOrEqual(be.base + BYTES);
    expect(be.kernels.name).toBe('wasm');
  });

  kernelChecks('wasm', () => be, paths);
});

describe('wasm kernels on 2 threads', () => {
  let one: WasmBackend;
  let two: WasmBackend;
  beforeAll(() => {
    one = createWasmBackend(BYTES, 1);
    two = createWasmBackend(BYTES, 2);
  });
  afterAll(() => {
    one.close();
    two.close();
    two.close(); // twice is fine
  });

  /** Runs the same product on both backends (same inputs) and returns both outputs. */
  function both(kind: 'nn' | 'tn' | 'nt', M: number, K: number, N: number, acc: boolean, seed: number): [Float32Array, Float32Array] {
    const outs: Float32Array[] = [];
    for (const be of [one, two]) {
      const r = rng(seed);
      const arena = new Arena('f32', be.buffer, be.base);
      const fill = (n: number) => {
        const v = arena.floats(n) as Float32Array;
        for (let i = 0; i < n; i++) v[i] = r() * 2 - 1;
        return v;
      };
      const out = fill(M * N);
      const a = fill(M * K);
      const b = fill(K * N);
      if (kind === 'nn') be.kernels.matmul(out, a, b, M, K, N, acc);
      else if (kind === 'tn') be.kernels.matmulTN(out, a, b, M, K, N);
      else be.kernels.matmulNT(out, a, b, M, K, N, acc);
      outs.push(out);
    }
    return [outs[0], outs[1]];
  }

  it('splits the model-sized products and gives bit-identical results', () => {
    const cases: ['nn' | 'tn' | 'nt', number, number, number, boolean][] = [
      ['nn', 2500, 128, 512, false], // input product
      ['nn', 50, 512, 2048, true], // recurrent product, H = 512
      ['nn', 2500, 128, 65, false], // output layer, odd N
      ['tn', 128, 2500, 512, true], // weight gradient
      ['tn', 128, 2500, 65, true],
      ['nt', 2500, 512, 128, false], // input gradient
      ['nt', 2500, 65, 128, true],
      ['nt', 50, 2048, 512, true],
    ];
    for (const [kind, M, K, N, acc] of cases) {
      const [a, b] = both(kind, M, K, N, acc, M * 31 + K * 7 + N);
      expect(bitsEqual(a, b), `${kind} ${M}x${K}x${N}`).toBe(true);
      // and the result is right (not both wrong the same way): spot-check against float64
      expect(Number.isFinite(a[a.length - 1])).toBe(true);
    }
  });

  it('forced splits of small odd shapes are bit-identical too, and correct', () => {
    const old = two.tune({ splitMinMacs: 0, splitMinCell: 0 }); // split everything
    try {
      // row splits whose blocks fall on both sides of the few-rows threshold (12) included
      const cases: [number, number, number][] = [[20, 37, 10], [13, 50, 3], [24, 9, 24], [16, 300, 5]];
      for (let s = 0; s < 40; s++) cases.push([randInt(1, 60), randInt(0, 40), randInt(1, 60)]);
      cases.forEach(([M, K, N], s) => {
        for (const kind of ['nn', 'tn', 'nt'] as const) {
          const acc = s % 2 === 0;
          const [a, b] = both(kind, M, K, N, acc, s);
          expect(bitsEqual(a, b), `${kind} ${M}x${K}x${N} acc=${acc}`).toBe(true);
        }
      });
    } finally {
      two.tune(old);
    }
  });

  it('splits the recurrent cells by rows, bit-identical to one thread', () => {
    const old = two.tune({ splitMinCell: 0 }); // split every cell step
    try {
      for (const [B, H] of [[2, 3], [5, 8], [50, 128], [7, 33]]) {
        const results: Float32Array[][] = [];
        for (const be of [one, two]) {
          const r = rng(B * 100 + H);
          const arena = new Arena('f32', be.buffer, be.base);
          const fill = (n: number, sc = 1) => {
            const v = arena.floats(n) as Float32Array;
            for (let i = 0; i < n; i++) v[i] = (r() * 2 - 1) * sc;
            return v;
          };
          const n = B * H;
          const h = fill(n), c = fill(n), gates = fill(4 * n, 3), cPrev = fill(n);
          be.kernels.lstmForward(h, c, gates, cPrev, B, H);
          const dg = fill(4 * n), dc = fill(n), dh = fill(n);
          be.kernels.lstmBackward(dg, dc, dh, gates, c, cPrev, B, H);
          const gh = fill(n), xg = fill(3 * n, 3), hg = fill(3 * n, 3), hPrev = fill(n);
          be.kernels.gruForward(gh, xg, hg, hPrev, B, H);
          const dxg = fill(3 * n), dhg = fill(3 * n), dhPrev = fill(n), dh2 = fill(n);
          be.kernels.gruBackward(dxg, dhg, dhPrev, dh2, xg, hg, hPrev, B, H);
          results.push([h, c, gates, dg, dc, gh, xg, dxg, dhg, dhPrev]);
        }
        results[0].forEach((x, i) => expect(bitsEqual(x, results[1][i]), `B=${B} H=${H} output ${i}`).toBe(true));
      }
    } finally {
      two.tune(old);
    }
  });

  it('the split product matches the reference', () => {
    const M = 64, K = 300, N = 72;
    const arena = new Arena('f32', two.buffer, two.base);
    const out = arena.floats(M * N) as Float32Array;
    const a = fillRandom(arena.floats(M * K));
    const b = fillRandom(arena.floats(K * N));
    const old = two.tune({ splitMinMacs: 0 });
    try {
      two.kernels.matmul(out, a, b, M, K, N, false);
    } finally {
      two.tune(old);
    }
    const want = new Float64Array(M * N);
    jsKernels.matmul(want, f64(a), f64(b), M, K, N, false);
    expect(worst(out, want, null, 1e-5, 1)).toBeLessThanOrEqual(1);
  });

  it('the LSTM layer loops equal the per-step loops bit for bit, on 1, 2 and 3 threads, on every product path', () => {
    const three = createWasmBackend(BYTES / 2, 3);
    const old = [two, three].map((be) => be.tune({ splitMinMacs: 0, splitMinCell: 0 })); // split every layer that may be
    try {
      // [B, H, steps]. Batch rows split (B >= 8, H <= 256): 8 x 16, 9 x 64 (parts of 4 and 5 rows,
      // few rows: Wh read in place going back), 12 x 128, 16 x 128, 16 x 192 and 16 x 256 (Wh^T
      // packed once a part, the whole scratch at 256), 33 x 100 (H not a multiple of 8). Step by
      // step: 4 x 128 (B < 8), 8 x 264 (Wh^T beyond one scratch), 1 x 32.
      const shapes = [[8, 16, 3], [9, 64, 3], [12, 128, 4], [16, 128, 5], [33, 100, 2], [4, 128, 3], [16, 192, 2], [16, 256, 2], [8, 264, 2], [1, 32, 3]];
      for (const [path, tuning] of paths) {
        for (const [B, H, steps] of shapes) {
          const runs = [one, two, three].map((be) => {
            const restore = tuning(be);
            try {
              return lstmLayerLoops(be, B, H, steps);
            } finally {
              restore();
            }
          });
          expectLayerLoopsEqual(runs, B, H, steps, `${path}: `);
        }
      }
    } finally {
      two.tune(old[0]);
      three.close();
    }
  });

  it('matmulBias: the same bits as fillRows then matmul with acc, on 1 and 2 threads and every product path', () => {
    const old = two.tune({ splitMinMacs: 0 }); // split every product
    try {
      // raw B tiles and rows (few rows, small B), packed B over several k and n blocks, K = 0, odd N
      const cases: [number, number, number][] = [[512, 64, 512], [512, 128, 65], [1, 128, 512], [3, 40, 70], [13, 0, 33], [50, 300, 600], [37, 17, 45], [9, 300, 8]];
      for (const [path, tuning] of paths) {
        cases.forEach(([M, K, N], s) => {
          const outs = [one, two].map((be) => {
            const restore = tuning(be);
            try {
              const r = rng(900 + s);
              const arena = new Arena('f32', be.buffer, be.base);
              const fill = (n: number) => {
                const v = arena.floats(n) as Float32Array;
                for (let i = 0; i < n; i++) v[i] = r() * 2 - 1;
                return v;
              };
              const a = fill(M * K), w = fill(K * N), bias = fill(N);
              const fused = fill(M * N), plain = fill(M * N); // start as noise: both must overwrite it
              be.kernels.matmulBias(fused, a, w, bias, M, K, N);
              be.kernels.fillRows(plain, bias, M, N);
              be.kernels.matmul(plain, a, w, M, K, N, true);
              return { fused, plain, bias };
            } finally {
              restore();
            }
          });
          for (const o of outs) {
            expect(bitsEqual(o.fused, outs[0].plain), `${path}: ${M}x${K}x${N}`).toBe(true);
            expect(bitsEqual(o.plain, outs[0].plain), `${path}: ${M}x${K}x${N} fill + matmul`).toBe(true);
          }
          if (K === 0) expect(outs[0].fused.subarray(0, N)).toEqual(outs[0].bias); // no product: the bias alone
        });
      }
    } finally {
      two.tune(old);
    }
  });

  it('keeps working after close()', () => {
    const be = createWasmBackend(1 << 20, 2);
    be.close();
    const arena = new Arena('f32', be.buffer, be.base);
    const out = arena.floats(4) as Float32Array;
    const a = arena.floats(4) as Float32Array;
    a.set([1, 2, 3, 4]);
    be.kernels.mul(out, a, a, 4);
    be.kernels.matmul(out, a, a, 2, 2, 2, false);
    expect(Array.from(out)).toEqual([7, 10, 15, 22]);
  });
});
