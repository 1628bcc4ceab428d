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
import { Arena, type Vec } from '../src/arena';
import { jsKernels } from '../src/kernels/js';
import type { Kernels } from '../src/kernels/types';
import { createWasmBackend, type SimdVariant, type WasmBackend } from '../src/kernels/wasm';

const quick = process.argv.includes('--quick');
const SAMPLES = quick ? 3 : 7;
const SAMPLE_MS = quick ? 15 : 40;

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

/** Median of SAMPLES samples of seconds per call, each sample >= SAMPLE_MS long. */
function secondsPerCall(fn: () => void): number {
  fn();
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) fn();
    const dt = performance.now() - t0;
    if (dt >= SAMPLE_MS / 4) {
      reps = Math.max(1, Math.ceil((reps * SAMPLE_MS) / dt));
      break;
    }
    reps *= 4;
  }
  const samples: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) fn();
    samples.push((performance.now() - t0) / 1000 / reps);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
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
console.log(`GFLOP/s, median of ${SAMPLES} (js: float32 arrays; wasm: ${variants.join(' / ')} SIMD, 1 and 2 threads)`);
console.log(`${'product'.padEnd(22)}${'shape'.padEnd(18)}${pad('js', 7)}${backends.map((b) => pad(b.label, 12)).join('')}`);
for (const s of shapes) {
  const flops = 2 * s.M * s.K * s.N;
  let line = `${s.what.padEnd(22)}${`${s.kind} ${s.M}x${s.K}x${s.N}`.padEnd(18)}`;
  if (flops <= 4e8 || !quick) {
    const js = productCall(jsKernels, (n) => new Float32Array(n), s);
    line += pad((flops / secondsPerCall(js) / 1e9).toFixed(2), 7);
  } else line += pad('-', 7);
  for (const { be } of backends) {
    const arena = new Arena('f32', be.buffer, be.base);
    const fn = productCall(be.kernels, (n) => arena.floats(n), s);
    line += pad((flops / secondsPerCall(fn) / 1e9).toFixed(1), 12);
  }
  console.log(line);
}

// Elementwise kernels: microseconds per call at the model's sizes.
console.log(`\nmicroseconds per call, median of ${SAMPLES}`);
const B = 50, H = 512, T = 50, V = 65;
console.log(`${'kernel'.padEnd(34)}${pad('js', 9)}${backends.filter((_, i) => i % 2 === 0).map((b) => pad(b.label, 12)).join('')}`);
type Alloc = (n: number) => Vec;
const elementwise: [string, (k: Kernels, f: Alloc, ints: (n: number) => Int32Array) => () => void][] = [
  [`lstmForward B=${B} H=${H}`, (k, f) => {
    const h = f(B * H), c = f(B * H), g = f(4 * B * H), cp = f(B * H);
    randomize(g);
    randomize(cp);
    const g0 = Float32Array.from(g);
    return () => {
      g.set(g0);
      k.lstmForward(h, c, g, cp, B, H);
    };
  }],
  [`lstmBackward B=${B} H=${H}`, (k, f) => {
    const dg = f(4 * B * H), dc = f(B * H), dh = f(B * H), g = f(4 * B * H), c = f(B * H), cp = f(B * H);
    for (const v of [dc, dh, g, c, cp]) randomize(v);
    return () => k.lstmBackward(dg, dc, dh, g, c, cp, B, H);
  }],
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
    const p = f(T * B * V), t = ints(T * B);
    randomize(p);
    const p0 = Float32Array.from(p);
    return () => {
      p.set(p0);
      k.softmaxXent(p, t, T * B, V);
    };
  }],
  [`softmaxXentBackward M=${T * B} V=${V}`, (k, f, ints) => {
    const p = f(T * B * V), d = f(T * B * V), t = ints(T * B);
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
  let line = name.padEnd(34);
  const js = make(jsKernels, (n) => new Float32Array(n), (n) => new Int32Array(n));
  line += pad((secondsPerCall(js) * 1e6).toFixed(1), 9);
  for (const { be } of backends.filter((_, i) => i % 2 === 0)) {
    const arena = new Arena('f32', be.buffer, be.base);
    const fn = make(be.kernels, (n) => arena.floats(n), (n) => arena.ints(n));
    line += pad((secondsPerCall(fn) * 1e6).toFixed(1), 12);
  }
  console.log(line);
}
for (const { be } of backends) be.close();
