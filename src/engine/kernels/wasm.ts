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
import type { Backend } from './index';
import type { Kernels } from './types';
import { viewKernels, type PointerKernels } from './views';

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
export interface WasmExports extends PointerKernels {
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
    kernels: viewKernels('wasm', ex, buffer),
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
