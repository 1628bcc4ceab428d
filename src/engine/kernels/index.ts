// Kernel backends: where the arena's buffer comes from and which kernels run on it.
// js: a plain ArrayBuffer and the TypeScript reference kernels (float32 or float64).
// wasm: the WebAssembly memory and the SIMD kernels (float32 only), optionally on several
// threads that share that memory.
// native: memory of the C++ addon and its kernels (float32 only), on a pool of threads.
// auto: native when the addon is built and loads, else wasm (saying why, once, on stderr).

import { availableParallelism } from 'node:os';
import type { Dtype } from '../arena';
import { info } from '../../io/log';
import { jsKernels } from './js';
import { createNativeBackend, nativeUnavailable } from './native';
import type { Kernels } from './types';
import { createWasmBackend } from './wasm'; // reads the .wasm file only when called

export type KernelKind = 'js' | 'wasm' | 'native';
/** What --kernels accepts. */
export type KernelChoice = KernelKind | 'auto';

/** --threads 0 means one per core. */
export function resolveThreads(threads: number): number {
  return threads > 0 ? threads : availableParallelism();
}

export interface Backend {
  readonly kernels: Kernels;
  /** The buffer the arena carves its views from. */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /** First byte of the buffer the arena may use (the wasm module keeps its own data below). */
  readonly base: number;
  /** Stops worker threads, if any. Safe to call twice. */
  close(): void;
}

export interface BackendOptions {
  kind: KernelChoice;
  dtype: Dtype;
  /** Bytes the arena needs (from a Counter). */
  bytes: number;
  /** Threads for the wasm and native kernels (1 = the calling thread only). */
  threads?: number;
}

let autoSaid = false;

/** The kernels 'auto' stands for here: native if the addon loads, else wasm (said once, with why). */
export function resolveKernels(kind: KernelChoice): KernelKind {
  if (kind !== 'auto') return kind;
  const why = nativeUnavailable();
  if (!why) return 'native';
  if (!autoSaid) {
    autoSaid = true;
    info(`kernels: wasm, because ${why}`);
  }
  return 'wasm';
}

export function createBackend(opts: BackendOptions): Backend {
  const kind = opts.kind === 'auto' && opts.dtype !== 'f32' ? 'js' : resolveKernels(opts.kind);
  if (kind === 'js') {
    return { kernels: jsKernels, buffer: new ArrayBuffer(opts.bytes), base: 0, close() {} };
  }
  if (opts.dtype !== 'f32') {
    throw new Error(`the ${kind} kernels run in float32 only; got dtype ${opts.dtype} (use --kernels js)`);
  }
  if (kind === 'native') return createNativeBackend(opts.bytes, opts.threads ?? 1);
  return createWasmBackend(opts.bytes, opts.threads ?? 1);
}

/**
 * "native avx512 x2 threads", "wasm x2 threads", "js": what a backend runs, for headers; "(working
 * on 1)" when the native kernels measured two threads no faster than one (a busy or shared core).
 */
export function describeBackend(b: Backend): string {
  const x = b as Partial<{ isa: string; threads: number; workThreads: number }>;
  const threads = x.threads !== undefined ? ` x${x.threads} thread${x.threads === 1 ? '' : 's'}` : '';
  const working = x.workThreads !== undefined && x.threads !== undefined && x.workThreads < x.threads ? ` (working on ${x.workThreads})` : '';
  return `${b.kernels.name}${x.isa ? ' ' + x.isa : ''}${threads}${working}`;
}
