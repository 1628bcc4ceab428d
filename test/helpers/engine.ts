// Shared setup for the engine tests: small models with randomised weights, random ids,
// random initial states. Randomness comes from a seeded generator so every failure repeats.
//
// Shape legend: B streams, T steps, E embedding, H hidden, V vocab, L layers.

import type { Dtype, Vec } from '../../src/engine/arena';
import type { CellKind, ModelConfig, OptimizerKind } from '../../src/config';
import { createBackend, type KernelKind } from '../../src/engine/kernels';
import { nativeUnavailable } from '../../src/engine/kernels/native';
import { Model, type BatchShape } from '../../src/engine/model';
import { Rng } from '../../src/engine/rng';

export const CELLS: CellKind[] = ['rnn', 'lstm', 'gru'];

export interface SmallModel {
  kind: CellKind;
  H: number;
  L: number;
  E: number;
  V: number;
  dropout?: number;
}

export function modelConfig(s: SmallModel): ModelConfig {
  return { model: s.kind, hidden: s.H, layers: s.L, embed: s.E, dropout: s.dropout ?? 0 };
}

export function makeModel(
  s: SmallModel,
  shapes: BatchShape[],
  opts: { dtype?: Dtype; kernels?: KernelKind; optimizer?: OptimizerKind | null } = {},
): Model {
  const config = modelConfig(s);
  return new Model(config, {
    config,
    vocabSize: s.V,
    shapes,
    optimizer: opts.optimizer ?? null,
    dtype: opts.dtype ?? 'f64',
    kernels: opts.kernels ?? 'js',
  });
}

/** Uniform in [-a, a). */
export function uniform(rng: Rng, a: number): number {
  return (2 * rng.uniform() - 1) * a;
}

/**
 * Every parameter tensor (weights AND biases) set to random values of a moderate scale, so
 * no gate is saturated or trivially 0/1 and every path of the gradient is exercised.
 */
export function randomizeParams(model: Model, rng: Rng, scale = 0.6): void {
  for (const t of model.layout.tensors) {
    const v = model.params.t[t.name];
    const a = t.name === 'embed' ? 1 : t.name.endsWith('b') || t.name.endsWith('bh') ? 0.5 : scale;
    for (let i = 0; i < v.length; i++) v[i] = uniform(rng, a);
  }
}

export function randomIds(rng: Rng, n: number, V: number): number[] {
  return Array.from({ length: n }, () => Math.floor(rng.uniform() * V));
}

/** A random carried state in the Workspace.loadState layout: per layer h (B,H) then, for LSTM, c (B,H). */
export function randomState(rng: Rng, s: SmallModel, B: number): Float64Array {
  const per = B * s.H * (s.kind === 'lstm' ? 2 : 1);
  const st = new Float64Array(per * s.L);
  for (let l = 0; l < s.L; l++) {
    for (let i = 0; i < B * s.H; i++) st[l * per + i] = uniform(rng, 0.8);
    if (s.kind === 'lstm') for (let i = 0; i < B * s.H; i++) st[l * per + B * s.H + i] = uniform(rng, 1.5);
  }
  return st;
}

/** Sets inputs/targets (T,B) time-major from plain arrays. */
export function setBatch(ws: { inputs: Int32Array; targets: Int32Array }, inputs: number[], targets: number[]): void {
  ws.inputs.set(inputs);
  ws.targets.set(targets);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

export function copyOf(v: Vec, n = v.length): Float64Array {
  return Float64Array.from(v.subarray(0, n));
}

/** The tiny-shakespeare corpus path (repository data). */
export const SHAKESPEARE = new URL('../../data/tinyshakespeare.txt', import.meta.url);

/**
 * True only when the wasm kernels are not built (no dist/kernels.wasm: run `npm run build`):
 * the one reason to skip the wasm variants. Any other failure of the wasm backend is not
 * hidden: the wasm tests run and fail with it.
 */
export function wasmMissing(): boolean {
  try {
    createBackend({ kind: 'wasm', dtype: 'f32', bytes: 1 << 16 }).close();
    return false;
  } catch (e) {
    return /not built/.test(String((e as Error).message));
  }
}

export const WASM_MISSING = wasmMissing();

/**
 * Why the native tests are skipped: the addon was not built (no compiler at install; see
 * build/native-status.txt), else null. An addon that is built but fails to load is not hidden:
 * the native tests run and fail with its error.
 */
function nativeMissing(): string | null {
  const why = nativeUnavailable();
  return why && /not available/.test(why) ? why : null;
}
export const NATIVE_MISSING = nativeMissing();
/** The skip label of the native tests: "(skipped: <why>)" when the addon is missing, else ''. */
export const NATIVE_SKIP_NOTE = NATIVE_MISSING ? ` (skipped: ${NATIVE_MISSING})` : '';

/** The kernels the float32 tests run on (skip the ones kernelsMissing() names). */
export const F32_KERNELS: KernelKind[] = ['js', 'wasm', 'native'];
/** True when the float32 tests of `kind` must be skipped (not built here). */
export function kernelsMissing(kind: KernelKind): boolean {
  return (kind === 'wasm' && WASM_MISSING) || (kind === 'native' && NATIVE_MISSING !== null);
}
