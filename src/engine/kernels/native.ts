// The native kernels: a Node-API addon (native/, C++) built at install time by
// scripts/build-native.mjs into build/Release/charrnn_native.node. One binary per machine
// with AVX-512F, AVX2+FMA and baseline builds of the kernels; the addon picks the best the CPU
// runs (or the one asked for) and splits big products, recurrent-cell steps and softmax rows
// between a persistent pool of threads, with the same bits whatever the thread count.
// The arena is memory the addon maps (page-aligned; a plain ArrayBuffer where external
// buffers are not allowed); the addon takes its address once, and every kernel call passes
// byte offsets into it, checked by viewKernels as for the wasm backend.
//
// Shape legend: M, K, N generic matrix sizes.

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Backend } from './index';
import { viewKernels, type PointerKernels } from './views';

export type NativeIsa = 'avx512' | 'avx2' | 'base';

/** The addon's functions for one arena (native/addon.cc, create). */
export interface NativeExports extends PointerKernels {
  readonly isa: NativeIsa;
  readonly threads: number;
  /** Threads the work is split between: 1 where two measured no faster than one (a busy or shared core). */
  readonly workThreads: number;
}

interface Addon {
  create(buffer: ArrayBuffer, threads: number, isa: 'auto' | NativeIsa): NativeExports;
  /** The instruction sets this CPU runs, best first. */
  isas(): NativeIsa[];
  /** A zeroed, page-aligned ArrayBuffer of `bytes`. */
  alloc(bytes: number): ArrayBuffer;
  /** Sets the split thresholds (negative: unchanged); returns the old ones. */
  tune(minMacs: number, minElems: number): [number, number];
}

/** When work is split between threads (process-wide; results never depend on it). */
export interface NativeTuning {
  /** Products below this many multiply-adds run on the calling thread only. */
  splitMinMacs: number;
  /** Cell steps and elementwise kernels below this many elements run on the calling thread only. */
  splitMinElems: number;
}

/** Changes the split thresholds (tests, benchmarks); returns the previous values. */
export function tuneNative(t: Partial<NativeTuning>): NativeTuning {
  const l = loadNative();
  if ('reason' in l) throw new Error(l.reason);
  const [splitMinMacs, splitMinElems] = l.addon.tune(t.splitMinMacs ?? -1, t.splitMinElems ?? -1);
  return { splitMinMacs, splitMinElems };
}

export interface NativeBackend extends Backend {
  readonly buffer: ArrayBuffer;
  readonly isa: NativeIsa;
  readonly threads: number;
  readonly workThreads: number;
  /** The raw functions (tests, benchmarks). */
  readonly exports: NativeExports;
}

/** The arena starts here: offset 0 stays "no targets" (as in the wasm module) and views stay 64-byte aligned. */
const BASE = 64;
const ADDON = join('build', 'Release', 'charrnn_native.node');

/** The package root: above dist/ (the bundles), above src/engine/kernels (vitest), or the cwd. */
function packageRoots(): string[] {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  return [join(here, '..'), join(here, '..', '..', '..'), process.cwd()];
}

let loaded: { addon: Addon } | { reason: string } | null = null;

/** Loads the addon once; on failure the reason, in words, for the one line charrnn prints. */
export function loadNative(): { addon: Addon } | { reason: string } {
  if (loaded) return loaded;
  const roots = packageRoots();
  const root = roots.find((r) => existsSync(join(r, ADDON)));
  if (!root) {
    const status = roots.map((r) => join(r, 'build', 'native-status.txt')).find((f) => existsSync(f));
    const why = status ? readFileSync(status, 'utf8').trim() : 'it was not built (run `npm run build`)';
    return (loaded = { reason: `the native addon is not available: ${why}` });
  }
  try {
    const addon = createRequire(join(root, 'package.json'))(join(root, ADDON)) as Addon;
    return (loaded = { addon });
  } catch (e) {
    return (loaded = { reason: `the native addon does not load: ${String((e as Error).message ?? e).split('\n')[0]}` });
  }
}

/** Why the native kernels cannot run here, or null when they can. */
export function nativeUnavailable(): string | null {
  const l = loadNative();
  return 'reason' in l ? l.reason : null;
}

/** The instruction sets the addon runs on this CPU, best first ([] without the addon). */
export function nativeIsas(): NativeIsa[] {
  const l = loadNative();
  return 'addon' in l ? l.addon.isas() : [];
}

/** The native backend: `bytes` of arena from `base`, kernels on `threads` threads (the caller included). */
export function createNativeBackend(bytes: number, threads: number, opts: { isa?: 'auto' | NativeIsa } = {}): NativeBackend {
  if (!Number.isInteger(bytes) || bytes < 0) throw new Error(`native backend: bad arena size ${bytes}`);
  const l = loadNative();
  if ('reason' in l) throw new Error(`${l.reason}; use --kernels wasm`);
  const nthreads = Math.max(1, Math.min(64, Math.floor(threads) || 1));
  let buffer: ArrayBuffer;
  try {
    buffer = l.addon.alloc(BASE + bytes);
  } catch {
    buffer = new ArrayBuffer(BASE + bytes); // where external memory is not allowed: 16-byte aligned, still right
  }
  const ex = l.addon.create(buffer, nthreads, opts.isa ?? 'auto');
  return {
    kernels: viewKernels('native', ex, buffer),
    buffer,
    base: BASE,
    isa: ex.isa,
    threads: ex.threads,
    workThreads: ex.workThreads,
    exports: ex,
    close() {}, // the pool's threads are shared by all backends and sleep when idle
  };
}
