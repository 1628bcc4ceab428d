// Kernel backends: where the arena's buffer comes from and which kernels run on it.
// js: a plain ArrayBuffer and the TypeScript reference kernels (float32 or float64).
// wasm: the WebAssembly memory and the SIMD kernels (float32 only), optionally on several
// threads that share that memory.

import { availableParallelism } from 'node:os';
import type { Dtype } from '../arena';
import { jsKernels } from './js';
import type { Kernels } from './types';
import { createWasmBackend } from './wasm'; // reads the .wasm file only when called

export type KernelKind = 'js' | 'wasm';

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
  kind: KernelKind;
  dtype: Dtype;
  /** Bytes the arena needs (from a Counter). */
  bytes: number;
  /** Worker threads for the wasm kernels (1 = the main thread only). */
  threads?: number;
}

export function createBackend(opts: BackendOptions): Backend {
  if (opts.kind === 'js') {
    return { kernels: jsKernels, buffer: new ArrayBuffer(opts.bytes), base: 0, close() {} };
  }
  if (opts.dtype !== 'f32') {
    throw new Error(`the wasm kernels run in float32 only; got dtype ${opts.dtype} (use --kernels js)`);
  }
  return createWasmBackend(opts.bytes, opts.threads ?? 1);
}
