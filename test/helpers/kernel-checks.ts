// The checks every pointer-kernel backend (wasm, native) passes against the reference: each
// kernel against jsKernels run in float64 on copies of the same float32 inputs, on random
// shapes including odd sizes and sizes 1 (test/kernels.test.ts for wasm, kernels-native for
// the addon). Call kernelChecks() inside a describe whose beforeAll creates the backend.
//
// Shape legend: B batch, H hidden, V vocab; M, K, N generic matrix sizes; row-major.

import { expect, it } from 'vitest';
import { Arena, type Vec } from '../../src/engine/arena';
import { jsKernels } from '../../src/engine/kernels/js';
import type { Backend } from '../../src/engine/kernels';
import type { PointerKernels } from '../../src/engine/kernels/views';


/** Deterministic random numbers (tests must fail the same way every time). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
export const rand = rng(12345);
export const randInt = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

export function fillRandom(v: Vec, scale = 1): Vec {
  for (let i = 0; i < v.length; i++) v[i] = (rand() * 2 - 1) * scale;
  return v;
}
export const f64 = (v: Vec): Float64Array => Float64Array.from(v);

/** max |got - want| / (tol * (|bound| + floor)), elementwise; <= 1 passes. */
export function worst(got: Vec, want: ArrayLike<number>, bound: ArrayLike<number> | null, tol: number, floor = 1): number {
  expect(got.length).toBe(want.length);
  let w = 0;
  for (let i = 0; i < got.length; i++) {
    const b = (bound ? Math.abs(bound[i]) : Math.abs(want[i])) + floor;
    const e = Math.abs(got[i] - want[i]) / (tol * b);
    if (Number.isNaN(e)) return Infinity;
    if (e > w) w = e;
  }
  return w;
}


/** Bit-for-bit equality of two float32 arrays (NaNs and signed zeros included). */
export const bitsEqual = (x: Float32Array, y: Float32Array): boolean => {
  const a = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const b = new Uint32Array(y.buffer, y.byteOffset, y.length);
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

export interface CheckedBackend extends Backend {
  readonly exports: Pick<PointerKernels, 'vexp' | 'vsigmoid'>;
}

/** Runs `tune` before a product test and the function it returns after it (code paths). */
export type PathTuning = (be: CheckedBackend) => () => void;

/**
 * The kernel-by-kernel checks on the backend be() returns, `name` as its messages say it
 * ('wasm', 'native'); `paths` forces each product code path in turn.
 */
export function kernelChecks(name: string, be: () => CheckedBackend, paths: [string, PathTuning][] = [['default paths', () => () => {}]]): void {
  let arena: Arena;
  /** Fresh views for each test, from the start of the arena. */
  const fresh = (): Arena => (arena = new Arena('f32', be().buffer, be().base));
  const floats = (n: number): Float32Array => arena.floats(n) as Float32Array;
  const ints = (n: number): Int32Array => arena.ints(n);

  // Shapes: every tile edge (rows mod 4, cols mod 8, k mod 4), the k block (256) and n block
  // (512) boundaries, the few-rows path (< 8 rows), sizes 1, and the model's shapes.
  const shapes: [number, number, number][] = [
    [1, 1, 1], [1, 7, 1], [2, 1, 3], [3, 5, 9], [4, 8, 8], [5, 3, 65], [7, 1, 9], [8, 8, 8],
    [9, 17, 33], [13, 300, 7], [17, 257, 520], [8, 513, 12], [50, 128, 65], [12, 64, 1030],
    [1, 128, 512], [3, 130, 70], [6, 260, 40], [64, 64, 64], [31, 33, 35], [10, 0, 10],
  ];
  for (let s = 0; s < 25; s++) shapes.push([randInt(1, 70), randInt(1, 90), randInt(1, 80)]);

  /** |a| @ |b| in float64: the scale of each product element's rounding error. */
  function absProduct(a: Float64Array, b: Float64Array, kind: 'nn' | 'tn' | 'nt', M: number, K: number, N: number): Float64Array {
    const abs = (x: Float64Array) => x.map(Math.abs);
    const out = new Float64Array(M * N);
    const k = jsKernels;
    if (kind === 'nn') k.matmul(out, abs(a), abs(b), M, K, N, false);
    else if (kind === 'tn') k.matmulTN(out, abs(a), abs(b), M, K, N);
    else k.matmulNT(out, abs(a), abs(b), M, K, N, false);
    return out;
  }

  /** Runs one product on the backend and on the float64 reference; returns the worst error. */
  function checkProduct(kind: 'nn' | 'tn' | 'nt', acc: boolean, M: number, K: number, N: number): number {
    fresh();
    const out = fillRandom(floats(M * N), 3);
    const a = fillRandom(floats(M * K));
    const b = fillRandom(floats(K * N));
    const want = f64(out);
    const bound = absProduct(f64(a), f64(b), kind, M, K, N);
    for (let i = 0; i < bound.length; i++) bound[i] += acc ? Math.abs(want[i]) : 0;
    if (kind === 'nn') {
      jsKernels.matmul(want, f64(a), f64(b), M, K, N, acc);
      be().kernels.matmul(out, a, b, M, K, N, acc);
    } else if (kind === 'tn') {
      jsKernels.matmulTN(want, f64(a), f64(b), M, K, N);
      be().kernels.matmulTN(out, a, b, M, K, N);
    } else {
      jsKernels.matmulNT(want, f64(a), f64(b), M, K, N, acc);
      be().kernels.matmulNT(out, a, b, M, K, N, acc);
    }
    return worst(out, want, bound, 2e-6 * Math.sqrt(K + 1), 1e-6);
  }

  for (const [path, tune] of paths) {
    for (const kind of ['nn', 'tn', 'nt'] as const) {
      for (const acc of kind === 'tn' ? [true] : [false, true]) {
        it(`matmul ${kind} acc=${acc} (${path}) matches the reference on ${shapes.length} shapes`, () => {
          const restore = tune(be());
          try {
            for (const [M, K, N] of shapes) {
              expect(checkProduct(kind, acc, M, K, N), `${kind} acc=${acc} M=${M} K=${K} N=${N}`).toBeLessThanOrEqual(1);
            }
          } finally {
            restore();
          }
        });
      }
    }
  }

  it('matmul leaves everything outside out(M,N) untouched', () => {
    fresh();
    const M = 5, K = 11, N = 13;
    const guard = floats(64 * 4); // out sits in the middle of a guarded region
    guard.fill(7);
    const out = guard.subarray(64, 64 + M * N);
    const a = fillRandom(floats(M * K));
    const b = fillRandom(floats(K * N));
    be().kernels.matmul(out, a, b, M, K, N, false);
    be().kernels.matmulNT(out, a, fillRandom(floats(N * K)), M, K, N, true);
    be().kernels.matmulTN(out, fillRandom(floats(K * M)), b, M, K, N);
    for (let i = 0; i < 64; i++) expect(guard[i]).toBe(7);
    for (let i = 64 + M * N; i < guard.length; i++) expect(guard[i]).toBe(7);
  });

  it('exp and sigmoid are accurate to float32 rounding and never NaN', () => {
    fresh();
    const xs: number[] = [0, -0, 1e-30, -1e-30, 1e-7, 0.5, -0.5, 1, -1, 10, -10, 80, -80, 88.5, 88.72, 89, 100, 1e4, -87, -95, -103, -104, -110, -1e4, Infinity, -Infinity];
    for (let i = 0; i < 3000; i++) xs.push((rand() * 2 - 1) * 90);
    const n = xs.length;
    const x = floats(n);
    x.set(xs);
    const e = floats(n);
    const s = floats(n);
    be().exports.vexp(e.byteOffset, x.byteOffset, n);
    be().exports.vsigmoid(s.byteOffset, x.byteOffset, n);
    for (let i = 0; i < n; i++) {
      const want = Math.exp(x[i]);
      const sig = 1 / (1 + Math.exp(-x[i]));
      expect(Number.isNaN(e[i]), `exp(${x[i]})`).toBe(false);
      if (want > 3.4e38) expect(e[i]).toBe(Infinity);
      else if (want < 1.2e-38) expect(Math.abs(e[i] - want)).toBeLessThanOrEqual(2e-45); // subnormal
      else expect(Math.abs(e[i] - want) / want, `exp(${x[i]})`).toBeLessThanOrEqual(3e-7);
      if (sig < 1.2e-38) expect(Math.abs(s[i] - sig)).toBeLessThanOrEqual(3e-45);
      else expect(Math.abs(s[i] - sig) / sig, `sigmoid(${x[i]})`).toBeLessThanOrEqual(3e-7);
    }
  });

  it('tanh and tanhBackward', () => {
    fresh();
    const xs: number[] = [0, -0, 1e-30, 1e-6, -1e-6, 0.1, 0.6249, 0.625, 0.6251, -0.625, 1, 3, 9, 9.1, 20, 50, 100, 1e30, -1e30, Infinity, -Infinity];
    for (let i = 0; i < 3000; i++) xs.push((rand() * 2 - 1) * (i % 3 === 0 ? 1 : 12));
    const n = xs.length;
    const g = floats(n);
    g.set(xs);
    const x = f64(g);
    be().kernels.tanh(g, n);
    for (let i = 0; i < n; i++) {
      const want = Math.tanh(x[i]);
      expect(Math.abs(g[i] - want), `tanh(${x[i]})`).toBeLessThanOrEqual(2.5e-7 * Math.abs(want) + 1e-45);
    }
    for (const m of [1, 3, 4, 5, 37]) {
      fresh();
      const h = fillRandom(floats(m));
      const dh = fillRandom(floats(m), 2);
      const da = fillRandom(floats(m));
      const want = new Float64Array(m);
      jsKernels.tanhBackward(want, f64(dh), f64(h), m);
      be().kernels.tanhBackward(da, dh, h, m);
      expect(worst(da, want, null, 3e-7, 1e-6)).toBeLessThanOrEqual(1);
    }
  });

  it('mul, also in place (out aliases a)', () => {
    for (const n of [1, 2, 3, 4, 5, 15, 16, 17, 33, 1001]) {
      fresh();
      const a = fillRandom(floats(n));
      const b = fillRandom(floats(n));
      const out = floats(n);
      const want = new Float64Array(n);
      jsKernels.mul(want, f64(a), f64(b), n);
      be().kernels.mul(out, a, b, n);
      expect(worst(out, want, null, 1e-7, 1e-30)).toBeLessThanOrEqual(1);
      be().kernels.mul(a, a, b, n); // in place
      expect(Array.from(a)).toEqual(Array.from(out));
    }
  });

  it('fillRows and sumRows (accumulates)', () => {
    for (const [M, N] of [[1, 1], [3, 5], [4, 16], [7, 17], [50, 65], [33, 130], [2500, 65]]) {
      fresh();
      const bias = fillRandom(floats(N));
      const out = fillRandom(floats(M * N));
      be().kernels.fillRows(out, bias, M, N);
      let bad = 0;
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) if (out[i * N + j] !== bias[j]) bad++;
      expect(bad).toBe(0);
      const d = fillRandom(floats(M * N));
      const db = fillRandom(floats(N));
      const want = f64(db);
      jsKernels.sumRows(want, f64(d), M, N);
      be().kernels.sumRows(db, d, M, N);
      expect(worst(db, want, null, 1e-7 * M, 1)).toBeLessThanOrEqual(1);
    }
  });

  it('gatherRows (acc both ways) and scatterRows with repeated ids', () => {
    for (const [M, N, R] of [[1, 1, 1], [5, 3, 2], [9, 17, 4], [50, 65, 65], [64, 128, 10]]) {
      fresh();
      const table = fillRandom(floats(R * N));
      const ids = ints(M);
      for (let i = 0; i < M; i++) ids[i] = randInt(0, R - 1);
      const idsCopy = Int32Array.from(ids);
      for (const acc of [false, true]) {
        const out = fillRandom(floats(M * N));
        const want = f64(out);
        jsKernels.gatherRows(want, idsCopy, f64(table), M, N, acc);
        be().kernels.gatherRows(out, ids, table, M, N, acc);
        expect(worst(out, want, null, 1e-7, 1e-30)).toBeLessThanOrEqual(1);
      }
      const d = fillRandom(floats(M * N));
      const dtable = fillRandom(floats(R * N));
      const want = f64(dtable);
      jsKernels.scatterRows(want, f64(d), idsCopy, M, N);
      be().kernels.scatterRows(dtable, d, ids, M, N);
      expect(worst(dtable, want, null, 1e-7 * M, 1)).toBeLessThanOrEqual(1);
    }
  });

  const bh: [number, number][] = [[1, 1], [1, 3], [2, 4], [3, 5], [4, 7], [5, 8], [50, 128], [7, 33]];

  // Sums and differences of O(1) terms: errors are measured against the terms' scale (floor 1).
  it('lstmForward (gates in place) and lstmBackward (dc in place)', () => {
    for (const [B, H] of bh) {
      fresh();
      const gates = fillRandom(floats(4 * B * H), 4);
      const cPrev = fillRandom(floats(B * H), 2);
      const h = floats(B * H);
      const c = floats(B * H);
      const want = { g: f64(gates), h: new Float64Array(B * H), c: new Float64Array(B * H) };
      jsKernels.lstmForward(want.h, want.c, want.g, f64(cPrev), B, H);
      be().kernels.lstmForward(h, c, gates, cPrev, B, H);
      expect(worst(gates, want.g, null, 4e-7, 1e-6)).toBeLessThanOrEqual(1);
      expect(worst(c, want.c, null, 5e-7, 1)).toBeLessThanOrEqual(1);
      expect(worst(h, want.h, null, 5e-7, 1)).toBeLessThanOrEqual(1);

      const dgates = fillRandom(floats(4 * B * H));
      const dc = fillRandom(floats(B * H));
      const dh = fillRandom(floats(B * H));
      const w = { dg: new Float64Array(4 * B * H), dc: f64(dc) };
      jsKernels.lstmBackward(w.dg, w.dc, f64(dh), f64(gates), f64(c), f64(cPrev), B, H);
      be().kernels.lstmBackward(dgates, dc, dh, gates, c, cPrev, B, H);
      expect(worst(dgates, w.dg, null, 1e-6, 1)).toBeLessThanOrEqual(1);
      expect(worst(dc, w.dc, null, 1e-6, 1)).toBeLessThanOrEqual(1);
    }
  });

  it('gruForward (xg in place) and gruBackward (dhPrev accumulates)', () => {
    for (const [B, H] of bh) {
      fresh();
      const xg = fillRandom(floats(3 * B * H), 3);
      const hg = fillRandom(floats(3 * B * H), 3);
      const hPrev = fillRandom(floats(B * H));
      const h = floats(B * H);
      const want = { xg: f64(xg), h: new Float64Array(B * H) };
      jsKernels.gruForward(want.h, want.xg, f64(hg), f64(hPrev), B, H);
      be().kernels.gruForward(h, xg, hg, hPrev, B, H);
      expect(worst(xg, want.xg, null, 5e-7, 1)).toBeLessThanOrEqual(1);
      expect(worst(h, want.h, null, 5e-7, 1)).toBeLessThanOrEqual(1);

      const dxg = fillRandom(floats(3 * B * H));
      const dhg = fillRandom(floats(3 * B * H));
      const dhPrev = fillRandom(floats(B * H));
      const dh = fillRandom(floats(B * H));
      const w = { dxg: new Float64Array(3 * B * H), dhg: new Float64Array(3 * B * H), dhPrev: f64(dhPrev) };
      jsKernels.gruBackward(w.dxg, w.dhg, w.dhPrev, f64(dh), f64(xg), f64(hg), f64(hPrev), B, H);
      be().kernels.gruBackward(dxg, dhg, dhPrev, dh, xg, hg, hPrev, B, H);
      expect(worst(dxg, w.dxg, null, 1e-6, 1)).toBeLessThanOrEqual(1);
      expect(worst(dhg, w.dhg, null, 1e-6, 1)).toBeLessThanOrEqual(1);
      expect(worst(dhPrev, w.dhPrev, null, 1e-6, 1)).toBeLessThanOrEqual(1);
    }
  });

  it('softmaxXent: probabilities, f64 loss, null targets, extreme logits', () => {
    for (const [M, V, scale] of [[1, 1, 1], [1, 5, 3], [3, 4, 1], [7, 9, 10], [50, 65, 5], [20, 128, 1], [4, 65, 1e4]]) {
      fresh();
      const logits = fillRandom(floats(M * V), scale);
      const targets = ints(M);
      for (let i = 0; i < M; i++) targets[i] = randInt(0, V - 1);
      const want = f64(logits);
      const wantLoss = jsKernels.softmaxXent(want, Int32Array.from(targets), M, V);
      const copy = Float32Array.from(logits);
      const loss = be().kernels.softmaxXent(logits, targets, M, V);
      expect(Number.isFinite(loss)).toBe(true);
      expect(Math.abs(loss - wantLoss)).toBeLessThanOrEqual(1e-6 * M * (1 + Math.abs(wantLoss / M)));
      expect(worst(logits, want, null, 1e-6, 1e-6)).toBeLessThanOrEqual(1);
      // without targets: same probabilities, loss 0
      const again = floats(M * V);
      again.set(copy);
      expect(be().kernels.softmaxXent(again, null, M, V)).toBe(0);
      expect(Array.from(again)).toEqual(Array.from(logits));
    }
  });

  it('softmaxXent: a NaN logit makes its row and the loss NaN, as in js.ts', () => {
    fresh();
    const M = 3, V = 9;
    const logits = fillRandom(floats(M * V));
    logits[V + 4] = NaN;
    const targets = ints(M);
    const want = f64(logits);
    const wantLoss = jsKernels.softmaxXent(want, Int32Array.from(targets), M, V);
    const loss = be().kernels.softmaxXent(logits, targets, M, V);
    expect(Number.isNaN(wantLoss) && Number.isNaN(loss)).toBe(true);
    for (let i = 0; i < M * V; i++) expect(Number.isNaN(logits[i])).toBe(Number.isNaN(want[i]));
    expect(Number.isNaN(logits[0]) || Number.isNaN(logits[2 * V])).toBe(false); // other rows fine
  });

  it('softmaxXentBackward, also in place (dlogits aliases probs)', () => {
    for (const [M, V] of [[1, 1], [2, 3], [5, 8], [50, 65]]) {
      fresh();
      const probs = fillRandom(floats(M * V));
      const targets = ints(M);
      for (let i = 0; i < M; i++) targets[i] = randInt(0, V - 1);
      const scale = 1 / (M * 7);
      const want = new Float64Array(M * V);
      jsKernels.softmaxXentBackward(want, f64(probs), Int32Array.from(targets), scale, M, V);
      const d = floats(M * V);
      be().kernels.softmaxXentBackward(d, probs, targets, scale, M, V);
      // float32 rounding of p*scale, then of (p*scale - scale): relative to scale
      const bound = f64(probs).map((p) => scale * (Math.abs(p) + 1));
      expect(worst(d, want, bound, 1.2e-7, 0)).toBeLessThanOrEqual(1);
      be().kernels.softmaxXentBackward(probs, probs, targets, scale, M, V); // in place
      expect(Array.from(probs)).toEqual(Array.from(d));
    }
  });

  it('rejects views that are not float32 views of its memory, and short views', () => {
    fresh();
    const a = floats(16);
    const k = be().kernels;
    expect(() => k.matmul(new Float32Array(16), a, a, 4, 4, 4, false)).toThrow(new RegExp(`${name} memory`));
    expect(() => k.matmul(a, new Float64Array(16), a, 4, 4, 4, false)).toThrow(/Float32Array/);
    expect(() => k.mul(a, a, new Float64Array(be().buffer as unknown as ArrayBuffer, be().base, 2), 2)).toThrow(/Float32Array/);
    expect(() => k.matmul(a, a, a, 4, 5, 4, false)).toThrow(RangeError);
    expect(() => k.gatherRows(a, new Int32Array(4), a, 4, 4, false)).toThrow(/Int32Array/);
  });

  it('rejects ids and targets out of range, without touching anything', () => {
    fresh();
    const table = fillRandom(floats(3 * 4)); // 3 rows of 4
    const out = fillRandom(floats(2 * 4));
    const before = Float32Array.from(out);
    const ids = ints(2);
    ids.set([1, 3]);
    const k = be().kernels;
    expect(() => k.gatherRows(out, ids, table, 2, 4, false)).toThrow(/id 3 at row 1 is outside \[0, 3\)/);
    expect(() => k.scatterRows(table, out, ids, 2, 4)).toThrow(RangeError);
    ids.set([-1, 0]);
    expect(() => k.gatherRows(out, ids, table, 2, 4, true)).toThrow(/id -1 at row 0/);
    expect(Array.from(out)).toEqual(Array.from(before));
    ids.set([0, 4]); // targets for V = 4
    expect(() => k.softmaxXent(out, ids, 2, 4)).toThrow(/id 4 at row 1 is outside \[0, 4\)/);
    expect(() => k.softmaxXentBackward(out, out, ids, 1, 2, 4)).toThrow(RangeError);
    expect(Array.from(out)).toEqual(Array.from(before));
  });
}

/**
 * One LSTM layer forward and backward on be's arena from the same seeded inputs (the seed from
 * the shape), once by the layer kernels (lstmLayerForward, lstmLayerBackward) and once by
 * cells/lstm.ts's per-step calls (matmul and lstmForward, lstmBackward and matmulNT): the
 * arrays each wrote, [hs, cs, gates, dgates, dhs, dc].
 */
export function lstmLayerLoops(be: Backend, B: number, H: number, steps: number): { layer: Float32Array[]; steps: Float32Array[] } {
  const k = be.kernels;
  const G = 4 * H;
  const arena = new Arena('f32', be.buffer, be.base);
  const r = rng(B * 1000 + H + steps);
  const fill = (n: number, scale = 1) => {
    const v = arena.floats(n) as Float32Array;
    for (let i = 0; i < n; i++) v[i] = (r() * 2 - 1) * scale;
    return v;
  };
  const Wh = fill(H * G, 1 / Math.sqrt(H));
  const xg = fill(steps * B * G, 2);
  const up = fill((steps + 1) * B * H); // the gradient from above (slot 0 unused)
  const state = fill(2 * B * H, 0.5); // h_0, c_0
  const dc0 = fill(B * H, 0.1);
  const run = (layer: boolean) => {
    const floats = (n: number) => arena.floats(n) as Float32Array;
    const hs = floats((steps + 1) * B * H), cs = floats((steps + 1) * B * H);
    const gates = floats(steps * B * G), dgates = floats(steps * B * G);
    const dhs = floats((steps + 1) * B * H), dc = floats(B * H);
    gates.set(xg);
    hs.set(state.subarray(0, B * H));
    cs.set(state.subarray(B * H));
    dhs.set(up);
    dhs.fill(0, 0, B * H);
    dc.set(dc0);
    const at = (v: Float32Array, w: number, t: number) => v.subarray(t * B * w, (t + 1) * B * w);
    k.weightsBegin?.();
    if (layer) k.lstmLayerForward!(hs, cs, gates, Wh, B, H, steps);
    else
      for (let t = 0; t < steps; t++) {
        k.matmul(at(gates, G, t), at(hs, H, t), Wh, B, H, G, true);
        k.lstmForward(at(hs, H, t + 1), at(cs, H, t + 1), at(gates, G, t), at(cs, H, t), B, H);
      }
    k.weightsEnd?.();
    k.weightsBegin?.();
    if (layer) k.lstmLayerBackward!(dgates, dc, dhs, gates, cs, Wh, B, H, steps);
    else
      for (let t = steps - 1; t >= 0; t--) {
        k.lstmBackward(at(dgates, G, t), dc, at(dhs, H, t + 1), at(gates, G, t), at(cs, H, t + 1), at(cs, H, t), B, H);
        k.matmulNT(at(dhs, H, t), at(dgates, G, t), Wh, B, G, H, true);
      }
    k.weightsEnd?.();
    return [hs, cs, gates, dgates, dhs, dc];
  };
  return { layer: run(true), steps: run(false) };
}

/** Every backend's layer loops and per-step loops gave the first backend's per-step bits, and they did something. */
export function expectLayerLoopsEqual(runs: { layer: Float32Array[]; steps: Float32Array[] }[], B: number, H: number, steps: number, label = ''): void {
  const want = runs[0].steps;
  // the loops did something: the state moved and a gradient reached h_0
  expect(want[0].subarray(steps * B * H).some((x, i) => x !== 0 && x !== want[0][i])).toBe(true);
  expect(want[4].subarray(0, B * H).some((x) => x !== 0)).toBe(true);
  runs.forEach((run, t) =>
    ['hs', 'cs', 'gates', 'dgates', 'dhs', 'dc'].forEach((name, i) => {
      expect(bitsEqual(run.layer[i], want[i]), `${label}B=${B} H=${H} steps=${steps}, ${t + 1} threads, layer ${name}`).toBe(true);
      expect(bitsEqual(run.steps[i], want[i]), `${label}B=${B} H=${H} steps=${steps}, ${t + 1} threads, per-step ${name}`).toBe(true);
    }),
  );
}
