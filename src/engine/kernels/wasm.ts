// The WebAssembly SIMD kernels (assembly/kernels.ts, compiled by `npm run build` to
// dist/kernels.wasm, and, with --enable relaxed-simd, to dist/kernels-relaxed.wasm whose
// multiply-adds are fused: ~20% faster products; used when present and the engine runs it,
// which Node 20 does behind a V8 flag that this module sets).
// The backend owns one shared WebAssembly.Memory sized once for the whole arena; its buffer
// (a SharedArrayBuffer, whatever the thread count: one binary) is the arena's buffer, so a
// Float32Array view's byteOffset is the pointer a kernel gets. The memory never grows
// (initial = maximum), so views carved from it never detach.
//
// Shape legend: B batch, H hidden, V vocab; M, K, N generic matrix sizes; row-major float32.
//
// Memory map (the module has no static data of its own, see assembly/kernels.ts):
//   [0, ctrl)                  below the module's __heap_base (unused)
//   [ctrl, +ctrlBytes)         job block shared by the threads
//   scratch[t], t < threads    per-thread packing scratch
//   [base, base + bytes)       the arena
//
// threads > 1: threads - 1 worker threads (dist/worker.js) instantiate the same compiled
// module on the same memory and sit in workerLoop(); big products and recurrent-cell steps
// are split between them and the calling thread inside the wasm code itself (no JS and no
// messages per call). Results are bit-identical whatever the thread count.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Vec } from '../arena';
import type { Backend } from './index';
import type { Kernels } from './types';

// The tsconfig has no DOM lib, so the WebAssembly global is typed here, as much as is used.
export interface WasmModule {
  readonly __brand: 'WebAssembly.Module';
}
export interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: unknown };
  Memory: new (desc: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  validate(bytes: Uint8Array): boolean;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** What a worker thread receives (see worker.ts). */
export interface WorkerInit {
  module: WasmModule;
  memory: WasmMemory;
  ctrl: number;
  scratch: number;
  threads: number;
}

/** The module's exports (assembly/kernels.ts); pointers and sizes are plain numbers. */
export interface WasmExports {
  heapBase(): number;
  ctrlBytes(): number;
  scratchBytes(): number;
  init(ctrl: number, scratch: number, threads: number): void;
  defaultTuning(): void;
  /** Sets heuristic number `knob` (see TUNING_KNOBS) unless value < 0; returns the old value. */
  setTuning(knob: number, value: number): number;
  workerLoop(): void;
  workerFailed(): void;
  stopWorkers(): void;
  matmul(out: number, a: number, b: number, M: number, K: number, N: number, acc: number): void;
  matmulTN(out: number, a: number, b: number, M: number, K: number, N: number): void;
  matmulNT(out: number, a: number, b: number, M: number, K: number, N: number, acc: number): void;
  vexp(out: number, x: number, n: number): void;
  vsigmoid(out: number, x: number, n: number): void;
  tanh(g: number, n: number): void;
  tanhBackward(da: number, dh: number, h: number, n: number): void;
  mul(out: number, a: number, b: number, n: number): void;
  fillRows(out: number, bias: number, M: number, N: number): void;
  sumRows(dbias: number, d: number, M: number, N: number): void;
  /** These four return 1 + the row of the first id out of range (nothing done), else 0 (>= 0 loss). */
  gatherRows(out: number, ids: number, table: number, M: number, N: number, acc: number, rows: number): number;
  scatterRows(dtable: number, d: number, ids: number, M: number, N: number, rows: number): number;
  lstmForward(h: number, c: number, gates: number, cPrev: number, B: number, H: number): void;
  lstmBackward(dgates: number, dc: number, dh: number, gates: number, c: number, cPrev: number, B: number, H: number): void;
  gruForward(h: number, xg: number, hg: number, hPrev: number, B: number, H: number): void;
  gruBackward(dxg: number, dhg: number, dhPrev: number, dh: number, act: number, hg: number, hPrev: number, B: number, H: number): void;
  /** The loss, or -(1 + row) of the first target out of range. */
  softmaxXent(probs: number, targets: number, M: number, V: number): number;
  softmaxXentBackward(dlogits: number, probs: number, targets: number, scale: number, M: number, V: number): number;
}

/**
 * The kernels' heuristics (defaults in assembly/kernels.ts, defaultTuning). Shared by all
 * threads of a backend. For benchmarks and tests; results do not depend on them beyond
 * float rounding (and not at all on the split ones).
 */
export interface Tuning {
  /** Products with fewer output rows than this read B in place, without packing. */
  rawRowsBelow: number;
  /** matmul reads B in place when it has at most this many floats. */
  rawBMaxFloats: number;
  /** Products below this many multiply-adds run on the calling thread only. */
  splitMinMacs: number;
  /** Recurrent-cell steps below this many elements (B*H) run on the calling thread only. */
  splitMinCell: number;
  /** Spins before a waiting worker / the waiting main thread sleeps. */
  spinWorker: number;
  spinMain: number;
}
/** Knob numbers of setTuning, in order. */
const TUNING_KNOBS: readonly (keyof Tuning)[] = [
  'rawRowsBelow', 'rawBMaxFloats', 'splitMinMacs', 'splitMinCell', 'spinWorker', 'spinMain',
];

/** Which build of the kernels: 'relaxed' uses fused multiply-add (relaxed SIMD). */
export type SimdVariant = 'plain' | 'relaxed';

export interface WasmBackendOptions {
  /** 'auto' (default): relaxed if dist/kernels-relaxed.wasm exists and this engine runs it. */
  simd?: 'auto' | SimdVariant;
}

export interface WasmBackend extends Backend {
  readonly kernels: Kernels;
  readonly buffer: SharedArrayBuffer;
  readonly simd: SimdVariant;
  readonly threads: number;
  /** The raw exports (tests, benchmarks). */
  readonly exports: WasmExports;
  /** Changes some heuristics; returns all their previous values (to restore them). */
  tune(changes: Partial<Tuning>): Tuning;
}

const ALIGN = 64;
const PAGE = 65536;
const MAX_PAGES = 65536; // wasm32: 4 GiB

const alignUp = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

/**
 * dist/ holding kernels.wasm: next to the bundle (dist/*.js), ../../dist from the sources
 * (src/kernels, under vitest), or ./dist. A directory with the worker script too is
 * preferred (the build writes both), so a stray kernels.wasm elsewhere is not picked up.
 */
function distDir(): string {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  const candidates = [here, join(here, '..', '..', 'dist'), join(process.cwd(), 'dist')];
  const built = candidates.filter((dir) => existsSync(join(dir, 'kernels.wasm')));
  const complete = built.find((dir) => existsSync(join(dir, 'worker.js')));
  if (complete ?? built[0]) return complete ?? built[0];
  throw new Error(
    `the wasm kernels are not built (no kernels.wasm in ${candidates.join(', ')}): run \`npm run build\``,
  );
}

interface Compiled {
  module: WasmModule;
  simd: SimdVariant;
  dir: string;
}
/** Compiled modules, per variant (compiling once per process; workers get the same one). */
const compiled = new Map<SimdVariant, Compiled>();
/** What 'auto' resolved to, once tried. */
let autoVariant: SimdVariant | null = null;

/** Relaxed SIMD: Node 20 (V8 11.3) has it behind a flag, newer engines validate it as is. */
function relaxedUsable(bytes: Uint8Array): boolean {
  if (WA.validate(bytes)) return true;
  // Wasm feature flags are read when a module is validated, so setting this now works.
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  return WA.validate(bytes);
}

/** Compiles the requested variant; 'auto' is relaxed when it is built and usable, else plain. */
function compile(want: 'auto' | SimdVariant): Compiled {
  if (want === 'auto') {
    if (autoVariant) return compile(autoVariant);
    try {
      const c = existsSync(join(distDir(), 'kernels-relaxed.wasm')) ? compile('relaxed') : compile('plain');
      autoVariant = c.simd;
      return c;
    } catch (e) {
      if (!/relaxed SIMD/.test(String(e))) throw e;
      autoVariant = 'plain';
      return compile('plain');
    }
  }
  const hit = compiled.get(want);
  if (hit) return hit;
  const dir = distDir();
  const path = join(dir, want === 'relaxed' ? 'kernels-relaxed.wasm' : 'kernels.wasm');
  if (!existsSync(path)) throw new Error(`${path} not found: run \`npm run build\``);
  const bytes = readFileSync(path);
  if (want === 'relaxed' && !relaxedUsable(bytes)) throw new Error('this engine cannot run relaxed SIMD');
  const result: Compiled = { module: new WA.Module(bytes), simd: want, dir };
  compiled.set(want, result);
  return result;
}

function instantiate(module: WasmModule, memory: WasmMemory): WasmExports {
  return new WA.Instance(module, { env: { memory } }).exports as WasmExports;
}

/**
 * Creates the wasm backend: a shared memory with `bytes` free bytes from `base` for the arena,
 * the kernels on it, and `threads - 1` worker threads for the big matrix products.
 */
export function createWasmBackend(bytes: number, threads: number, opts: WasmBackendOptions = {}): WasmBackend {
  if (!Number.isInteger(bytes) || bytes < 0) throw new Error(`wasm backend: bad arena size ${bytes}`);
  const nthreads = Math.max(1, Math.floor(threads) || 1);
  const { module, simd, dir } = compile(opts.simd ?? 'auto');

  // Layout: ask a throwaway instance (one page of memory) for the module's own sizes.
  const probe = instantiate(module, new WA.Memory({ initial: 1, maximum: 1, shared: true }));
  const ctrl = alignUp(probe.heapBase());
  const scratchBytes = alignUp(probe.scratchBytes());
  const scratch0 = alignUp(ctrl + probe.ctrlBytes());
  const base = alignUp(scratch0 + nthreads * scratchBytes);
  const pages = Math.ceil((base + bytes) / PAGE);
  if (pages > MAX_PAGES) {
    throw new Error(`wasm backend: ${base + bytes} bytes do not fit the 4 GiB of a wasm32 memory`);
  }
  const memory = new WA.Memory({ initial: pages, maximum: pages, shared: true });
  const buffer = memory.buffer;
  const ex = instantiate(module, memory);
  ex.init(ctrl, scratch0, nthreads);
  ex.defaultTuning(); // before any worker exists

  const workers: Worker[] = [];
  if (nthreads > 1) {
    const script = join(dir, 'worker.js');
    if (!existsSync(script)) throw new Error(`${script} not found: run \`npm run build\``);
    for (let t = 1; t < nthreads; t++) {
      const init: WorkerInit = { module, memory, ctrl, scratch: scratch0 + t * scratchBytes, threads: nthreads };
      const w = new Worker(script, { workerData: init });
      // A worker that dies leaves its share to the others (parts are claimed, not assigned).
      w.on('error', (e) => process.emitWarning(`charrnn wasm kernel worker ${t} failed: ${String(e)}`));
      w.unref(); // never keeps the process alive
      workers.push(w);
    }
  }

  let closed = false;
  return {
    kernels: wasmKernels(ex, buffer),
    buffer,
    base,
    simd,
    threads: nthreads,
    exports: ex,
    tune(changes) {
      const old = {} as Tuning;
      TUNING_KNOBS.forEach((k, i) => {
        const v = changes[k];
        old[k] = ex.setTuning(i, v === undefined ? -1 : Math.max(0, Math.min(0x7fffffff, Math.round(v))));
      });
      return old;
    },
    close() {
      if (closed) return;
      closed = true;
      if (workers.length) {
        ex.stopWorkers();
        ex.init(ctrl, scratch0, 1); // keep working, single-threaded
        for (const w of workers) void w.terminate();
      }
    },
  };
}

/** The Kernels interface over the exports: checks the views, passes their byte offsets. */
function wasmKernels(ex: WasmExports, buffer: SharedArrayBuffer): Kernels {
  // A view elsewhere (a plain ArrayBuffer, a Float64Array) would make the kernel read and
  // write unrelated memory; a short one would overrun into its neighbours. Both are cheap
  // to rule out. The messages are only built when throwing (no allocation per call).
  function f32(v: Vec, n: number, kernel: string, arg: string): number {
    if (v.buffer !== buffer || !(v instanceof Float32Array)) {
      throw new Error(
        `wasm kernels: ${kernel}: ${arg} must be a Float32Array view of the wasm memory ` +
          `(carve it from backend.buffer with an f32 Arena), got ${v.constructor.name}`,
      );
    }
    if (v.length < n) throw new RangeError(`wasm kernels: ${kernel}: ${arg} has ${v.length} floats, needs ${n}`);
    return v.byteOffset;
  }
  function i32(v: Int32Array, n: number, kernel: string, arg: string): number {
    if (v.buffer !== buffer || !(v instanceof Int32Array)) {
      throw new Error(`wasm kernels: ${kernel}: ${arg} must be an Int32Array view of the wasm memory`);
    }
    if (v.length < n) throw new RangeError(`wasm kernels: ${kernel}: ${arg} has ${v.length} ids, needs ${n}`);
    return v.byteOffset;
  }
  /** Rows of a table(rows, N) view. */
  const rowsOf = (v: Vec, N: number): number => (N > 0 ? Math.floor(v.length / N) : 0x7fffffff);
  /** Throws for the status a kernel returned when an id was out of range (it did nothing). */
  function checkIds(status: number, kernel: string, ids: Int32Array, limit: number): void {
    if (status === 0) return;
    const i = status - 1;
    throw new RangeError(`wasm kernels: ${kernel}: id ${ids[i]} at row ${i} is outside [0, ${limit})`);
  }

  return {
    name: 'wasm',

    matmul(out, a, b, M, K, N, acc) {
      ex.matmul(f32(out, M * N, 'matmul', 'out'), f32(a, M * K, 'matmul', 'a'), f32(b, K * N, 'matmul', 'b'), M, K, N, acc ? 1 : 0);
    },
    matmulTN(out, a, b, M, K, N) {
      ex.matmulTN(f32(out, M * N, 'matmulTN', 'out'), f32(a, K * M, 'matmulTN', 'a'), f32(b, K * N, 'matmulTN', 'b'), M, K, N);
    },
    matmulNT(out, a, b, M, K, N, acc) {
      ex.matmulNT(f32(out, M * N, 'matmulNT', 'out'), f32(a, M * K, 'matmulNT', 'a'), f32(b, N * K, 'matmulNT', 'b'), M, K, N, acc ? 1 : 0);
    },
    fillRows(out, bias, M, N) {
      ex.fillRows(f32(out, M * N, 'fillRows', 'out'), f32(bias, N, 'fillRows', 'bias'), M, N);
    },
    sumRows(dbias, d, M, N) {
      ex.sumRows(f32(dbias, N, 'sumRows', 'dbias'), f32(d, M * N, 'sumRows', 'd'), M, N);
    },
    gatherRows(out, ids, table, M, N, acc) {
      const rows = rowsOf(table, N);
      const status = ex.gatherRows(
        f32(out, M * N, 'gatherRows', 'out'), i32(ids, M, 'gatherRows', 'ids'), f32(table, 0, 'gatherRows', 'table'),
        M, N, acc ? 1 : 0, rows,
      );
      checkIds(status, 'gatherRows', ids, rows);
    },
    scatterRows(dtable, d, ids, M, N) {
      const rows = rowsOf(dtable, N);
      const status = ex.scatterRows(
        f32(dtable, 0, 'scatterRows', 'dtable'), f32(d, M * N, 'scatterRows', 'd'), i32(ids, M, 'scatterRows', 'ids'),
        M, N, rows,
      );
      checkIds(status, 'scatterRows', ids, rows);
    },
    mul(out, a, b, n) {
      ex.mul(f32(out, n, 'mul', 'out'), f32(a, n, 'mul', 'a'), f32(b, n, 'mul', 'b'), n);
    },
    tanh(g, n) {
      ex.tanh(f32(g, n, 'tanh', 'g'), n);
    },
    tanhBackward(da, dh, h, n) {
      ex.tanhBackward(f32(da, n, 'tanhBackward', 'da'), f32(dh, n, 'tanhBackward', 'dh'), f32(h, n, 'tanhBackward', 'h'), n);
    },
    lstmForward(h, c, gates, cPrev, B, H) {
      const n = B * H;
      ex.lstmForward(
        f32(h, n, 'lstmForward', 'h'), f32(c, n, 'lstmForward', 'c'), f32(gates, 4 * n, 'lstmForward', 'gates'),
        f32(cPrev, n, 'lstmForward', 'cPrev'), B, H,
      );
    },
    lstmBackward(dgates, dc, dh, gates, c, cPrev, B, H) {
      const n = B * H;
      ex.lstmBackward(
        f32(dgates, 4 * n, 'lstmBackward', 'dgates'), f32(dc, n, 'lstmBackward', 'dc'), f32(dh, n, 'lstmBackward', 'dh'),
        f32(gates, 4 * n, 'lstmBackward', 'gates'), f32(c, n, 'lstmBackward', 'c'), f32(cPrev, n, 'lstmBackward', 'cPrev'), B, H,
      );
    },
    gruForward(h, xg, hg, hPrev, B, H) {
      const n = B * H;
      ex.gruForward(
        f32(h, n, 'gruForward', 'h'), f32(xg, 3 * n, 'gruForward', 'xg'), f32(hg, 3 * n, 'gruForward', 'hg'),
        f32(hPrev, n, 'gruForward', 'hPrev'), B, H,
      );
    },
    gruBackward(dxg, dhg, dhPrev, dh, act, hg, hPrev, B, H) {
      const n = B * H;
      ex.gruBackward(
        f32(dxg, 3 * n, 'gruBackward', 'dxg'), f32(dhg, 3 * n, 'gruBackward', 'dhg'), f32(dhPrev, n, 'gruBackward', 'dhPrev'),
        f32(dh, n, 'gruBackward', 'dh'), f32(act, 3 * n, 'gruBackward', 'act'), f32(hg, 3 * n, 'gruBackward', 'hg'),
        f32(hPrev, n, 'gruBackward', 'hPrev'), B, H,
      );
    },
    softmaxXent(probs, targets, M, V) {
      const p = f32(probs, M * V, 'softmaxXent', 'probs');
      const loss = ex.softmaxXent(p, targets ? i32(targets, M, 'softmaxXent', 'targets') : 0, M, V);
      if (loss < 0 && targets) checkIds(-loss, 'softmaxXent', targets, V); // (a NaN loss is not < 0)
      return loss;
    },
    softmaxXentBackward(dlogits, probs, targets, scale, M, V) {
      const status = ex.softmaxXentBackward(
        f32(dlogits, M * V, 'softmaxXentBackward', 'dlogits'), f32(probs, M * V, 'softmaxXentBackward', 'probs'),
        i32(targets, M, 'softmaxXentBackward', 'targets'), scale, M, V,
      );
      checkIds(status, 'softmaxXentBackward', targets, V);
    },
  };
}
