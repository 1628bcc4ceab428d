// Micro-benchmark of the kernels: GFLOP/s of the model's matrix products, js vs wasm
// (plain SIMD and relaxed-SIMD FMA), 1 vs 2 threads, medians of several runs; then the time
// of the main elementwise kernels. Run from the repository root after `npm run build`:
//
//   npx esbuild bench/kernels-bench.ts --bundle --platform=node --outfile=/tmp/kernels-bench.js \
//     && node /tmp/kernels-bench.js [--quick]
//
// (dist/kernels-relaxed.wasm is optional; without it the relaxed columns are skipped.)
//
// Shape legend: B batch, T steps, D input width, H hidden, V vocab; a product M x K x N is
// out(M,N) from a(M,K) and b(K,N) (nn), a(K,M)^T b(K,N) (tn) or a(M,K) b(N,K)^T (nt).

import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Arena, type Vec } from '../src/engine/arena';
import { jsKernels } from '../src/engine/kernels/js';
import type { Kernels } from '../src/engine/kernels/types';
import { createWasmBackend, type SimdVariant, type WasmBackend } from '../src/engine/kernels/wasm';

const quick = process.argv.includes('--quick');
const SAMPLES = quick ? 3 : 7;
const SAMPLE_MS = quick ? 10 : 25;

type Kind = 'nn' | 'tn' | 'nt';
interface Shape {
  kind: Kind;
  M: number;
  K: number;
  N: number;
  what: string;
}
const shapes: Shape[] = [
  { kind: 'nn', M: 1, K: 128, N: 512, what: 'sampling step, H=128' },
  { kind: 'nn', M: 1, K: 512, N: 2048, what: 'sampling step, H=512' },
  { kind: 'nn', M: 50, K: 128, N: 512, what: 'recurrent step B=50 H=128' },
  { kind: 'nn', M: 50, K: 512, N: 2048, what: 'recurrent step B=50 H=512' },
  { kind: 'nn', M: 2500, K: 128, N: 512, what: 'input product T*B=2500' },
  { kind: 'nn', M: 2500, K: 128, N: 65, what: 'output layer V=65' },
  { kind: 'tn', M: 128, K: 50, N: 512, what: 'dWh one step' },
  { kind: 'tn', M: 128, K: 2500, N: 512, what: 'dW = X^T dY, H=128' },
  { kind: 'tn', M: 512, K: 2500, N: 2048, what: 'dW = X^T dY, H=512' },
  { kind: 'tn', M: 128, K: 2500, N: 65, what: 'dWy output layer' },
  { kind: 'nt', M: 50, K: 512, N: 128, what: 'dh = dgates Wh^T, H=128' },
  { kind: 'nt', M: 50, K: 2048, N: 512, what: 'dh = dgates Wh^T, H=512' },
  { kind: 'nt', M: 2500, K: 512, N: 128, what: 'dX = dY W^T' },
  { kind: 'nt', M: 2500, K: 65, N: 128, what: 'dh from dlogits' },
];

/** Repetitions that make one sample of fn last about SAMPLE_MS. */
function calibrate(fn: () => void): number {
  fn();
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) fn();
    const dt = performance.now() - t0;
    if (dt >= SAMPLE_MS / 4) return Math.max(1, Math.ceil((reps * SAMPLE_MS) / dt));
    reps *= 4;
  }
}

/**
 * Median seconds per call of each fn. Samples are taken round-robin over the fns, so a
 * slow phase of the (shared, virtual) machine hits all of them alike.
 */
function secondsPerCall(fns: (() => void)[]): number[] {
  const reps = fns.map(calibrate);
  const samples: number[][] = fns.map(() => []);
  for (let s = 0; s < SAMPLES; s++) {
    fns.forEach((fn, i) => {
      const t0 = performance.now();
      for (let r = 0; r < reps[i]; r++) fn();
      samples[i].push((performance.now() - t0) / 1000 / reps[i]);
    });
  }
  return samples.map((x) => x.sort((a, b) => a - b)[x.length >> 1]);
}

/** Median of 3 single calls (after one warm-up call). */
function jsSecondsPerCall(fn: () => void): number {
  fn();
  const t: number[] = [];
  for (let s = 0; s < 3; s++) {
    const t0 = performance.now();
    fn();
    t.push((performance.now() - t0) / 1000);
  }
  return t.sort((a, b) => a - b)[1];
}

function randomize(v: Vec): void {
  for (let i = 0; i < v.length; i++) v[i] = Math.random() * 2 - 1;
}

function productCall(k: Kernels, alloc: (n: number) => Vec, s: Shape): () => void {
  const { kind, M, K, N } = s;
  const out = alloc(M * N);
  const a = alloc(M * K);
  const b = alloc(K * N);
  randomize(a);
  randomize(b);
  if (kind === 'nn') return () => k.matmul(out, a, b, M, K, N, false);
  if (kind === 'tn') return () => k.matmulTN(out, a, b, M, K, N);
  return () => k.matmulNT(out, a, b, M, K, N, false);
}

const BYTES = 64 << 20;
const variants: SimdVariant[] = existsSync('dist/kernels-relaxed.wasm') ? ['plain', 'relaxed'] : ['plain'];
const backends: { label: string; be: WasmBackend }[] = [];
for (const simd of variants) {
  for (const threads of [1, 2]) backends.push({ label: `${simd} ${threads}T`, be: createWasmBackend(BYTES, threads, { simd }) });
}

const pad = (s: string, n: number) => s.padStart(n);
const load = loadavg()[0];
if (load > 0.5) console.log(`(load average ${load.toFixed(2)}: other processes are running, expect noise)`);
console.log(`GFLOP/s, median of ${SAMPLES} (js: float32 arrays, median of 3; wasm: ${variants.join(' / ')} SIMD, 1 and 2 threads)`);
console.log(`${'product'.padEnd(26)}${'shape'.padEnd(19)}${pad('js', 6)}${backends.map((b) => pad(b.label, 12)).join('')}`);
for (const s of shapes) {
  const flops = 2 * s.M * s.K * s.N;
  const fns = backends.map(({ be }) => {
    const arena = new Arena('f32', be.buffer, be.base);
    return productCall(be.kernels, (n) => arena.floats(n), s);
  });
  const wasm = secondsPerCall(fns).map((t) => (flops / t / 1e9).toFixed(1));
  // js: the reference point only, timed apart (it takes seconds on the biggest product)
  const js = flops <= 4e8 ? (flops / jsSecondsPerCall(productCall(jsKernels, (n) => new Float32Array(n), s)) / 1e9).toFixed(2) : '-';
  console.log(`${s.what.padEnd(26)}${`${s.kind} ${s.M}x${s.K}x${s.N}`.padEnd(19)}${pad(js, 6)}${wasm.map((g) => pad(g, 12)).join('')}`);
}

// Elementwise kernels: microseconds per call at the model's sizes.
console.log(`\nmicroseconds per call, median of ${SAMPLES}`);
const B = 50, T = 50, V = 65;
console.log(`${'kernel'.padEnd(34)}${pad('js', 9)}${backends.map((b) => pad(b.label, 12)).join('')}`);
type Alloc = (n: number) => Vec;
/** Valid class ids (arena views are reused between kernels here, so they hold old data). */
function targets(t: Int32Array): Int32Array {
  for (let i = 0; i < t.length; i++) t[i] = (i * 7) % V;
  return t;
}
const lstmCases = (H: number): [string, (k: Kernels, f: Alloc) => () => void][] => [
  [`lstmForward B=${B} H=${H}`, (k, f) => {
    const h = f(B * H), c = f(B * H), g = f(4 * B * H), cp = f(B * H);
    randomize(g);
    randomize(cp);
    const g0 = Float32Array.from(g); // gates are overwritten in place
    return () => {
      g.set(g0);
      k.lstmForward(h, c, g, cp, B, H);
    };
  }],
  [`lstmBackward B=${B} H=${H}`, (k, f) => {
    const dg = f(4 * B * H), dc = f(B * H), dh = f(B * H), g = f(4 * B * H), c = f(B * H), cp = f(B * H);
    for (const v of [dc, dh, g, c, cp]) randomize(v);
    const dc0 = Float32Array.from(dc); // dc is updated in place: repeated calls would shrink it to subnormals
    return () => {
      dc.set(dc0);
      k.lstmBackward(dg, dc, dh, g, c, cp, B, H);
    };
  }],
];
const H = 512;
const elementwise: [string, (k: Kernels, f: Alloc, ints: (n: number) => Int32Array) => () => void][] = [
  ...lstmCases(128),
  ...lstmCases(512),
  [`gruForward B=${B} H=${H}`, (k, f) => {
    const h = f(B * H), xg = f(3 * B * H), hg = f(3 * B * H), hp = f(B * H);
    for (const v of [xg, hg, hp]) randomize(v);
    const x0 = Float32Array.from(xg);
    return () => {
      xg.set(x0);
      k.gruForward(h, xg, hg, hp, B, H);
    };
  }],
  [`softmaxXent M=${T * B} V=${V}`, (k, f, ints) => {
    const p = f(T * B * V), t = targets(ints(T * B));
    randomize(p);
    const p0 = Float32Array.from(p);
    return () => {
      p.set(p0);
      k.softmaxXent(p, t, T * B, V);
    };
  }],
  [`softmaxXentBackward M=${T * B} V=${V}`, (k, f, ints) => {
    const p = f(T * B * V), d = f(T * B * V), t = targets(ints(T * B));
    randomize(p);
    return () => k.softmaxXentBackward(d, p, t, 1 / (T * B), T * B, V);
  }],
  [`sumRows M=${T * B} N=${4 * H}`, (k, f) => {
    const db = f(4 * H), d = f(T * B * 4 * H);
    randomize(d);
    return () => k.sumRows(db, d, T * B, 4 * H);
  }],
  [`tanh n=${B * H}`, (k, f) => {
    const g = f(B * H);
    randomize(g);
    return () => k.tanh(g, B * H);
  }],
];
for (const [name, make] of elementwise) {
  const fns = backends.map(({ be }) => {
    const arena = new Arena('f32', be.buffer, be.base);
    return make(be.kernels, (n) => arena.floats(n), (n) => arena.ints(n));
  });
  const us = secondsPerCall(fns).map((t) => (t * 1e6).toFixed(1));
  const js = (jsSecondsPerCall(make(jsKernels, (n) => new Float32Array(n), (n) => new Int32Array(n))) * 1e6).toFixed(0);
  console.log(`${name.padEnd(34)}${pad(js, 9)}${us.map((u) => pad(u, 12)).join('')}`);
}
// One LSTM training step through the kernels alone (what a char-rnn trainer calls for one
// layer, one-hot input of V=65, B=50, T=50): milliseconds per step.
function lstmStep(k: Kernels, f: Alloc, ints: (n: number) => Int32Array, H: number): () => void {
  const G = 4 * H, TB = T * B;
  const Wx = f(V * G), Wh = f(H * G), b = f(G), Wy = f(H * V), by = f(V);
  const dWx = f(V * G), dWh = f(H * G), db = f(G), dWy = f(H * V), dby = f(V);
  const gates = f(TB * G), hs = f((T + 1) * B * H), cs = f((T + 1) * B * H), logits = f(TB * V);
  const dgates = f(TB * G), dhs = f(TB * H), dc = f(B * H);
  const ids = targets(ints(TB)), tgt = targets(ints(TB));
  for (const v of [Wx, Wh, Wy]) {
    randomize(v);
    for (let i = 0; i < v.length; i++) v[i] *= 0.1;
  }
  const at = (v: Vec, t: number, n: number) => v.subarray(t * n, (t + 1) * n);
  const h = (t: number) => at(hs, t, B * H); // h(t) at row block t + 1, h(-1) = block 0
  const c = (t: number) => at(cs, t, B * H);
  return () => {
    // forward
    k.fillRows(gates, b, TB, G);
    k.gatherRows(gates, ids, Wx, TB, G, true); // one-hot input product
    for (let t = 0; t < T; t++) {
      const g = at(gates, t, B * G);
      k.matmul(g, h(t), Wh, B, H, G, true);
      k.lstmForward(h(t + 1), c(t + 1), g, c(t), B, H);
    }
    const hOut = hs.subarray(B * H);
    k.fillRows(logits, by, TB, V);
    k.matmul(logits, hOut, Wy, TB, H, V, true);
    k.softmaxXent(logits, tgt, TB, V);
    // backward
    k.softmaxXentBackward(logits, logits, tgt, 1 / TB, TB, V);
    k.matmulTN(dWy, hOut, logits, H, TB, V);
    k.sumRows(dby, logits, TB, V);
    k.matmulNT(dhs, logits, Wy, TB, V, H, false);
    dc.fill(0);
    for (let t = T - 1; t >= 0; t--) {
      const dg = at(dgates, t, B * G);
      k.lstmBackward(dg, dc, at(dhs, t, B * H), at(gates, t, B * G), c(t + 1), c(t), B, H);
      if (t > 0) k.matmulNT(at(dhs, t - 1, B * H), dg, Wh, B, G, H, true);
    }
    k.matmulTN(dWh, hs, dgates, H, TB, G); // h(t-1) for every step
    k.scatterRows(dWx, dgates, ids, TB, G);
    k.sumRows(db, dgates, TB, G);
  };
}
console.log(`\nmilliseconds per LSTM training step through the kernels (B=${B}, T=${T}, V=${V}, one layer), median of ${SAMPLES}`);
console.log(`${'model'.padEnd(34)}${pad('js', 9)}${backends.map((b) => pad(b.label, 12)).join('')}`);
for (const H of [128, 512]) {
  const fns = backends.map(({ be }) => {
    const arena = new Arena('f32', be.buffer, be.base);
    return lstmStep(be.kernels, (n) => arena.floats(n), (n) => arena.ints(n), H);
  });
  const ms = secondsPerCall(fns).map((t) => (t * 1e3).toFixed(2));
  const js = H <= 128 ? (jsSecondsPerCall(lstmStep(jsKernels, (n) => new Float32Array(n), (n) => new Int32Array(n), H)) * 1e3).toFixed(0) : '-';
  console.log(`${`lstm H=${H}`.padEnd(34)}${pad(js, 9)}${ms.map((u) => pad(u, 12)).join('')}`);
}

for (const { be } of backends) be.close();
