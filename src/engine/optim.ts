// Gradient clipping and the optimizers. Parameters, gradients and optimizer state share one
// flat layout (params.ts), so each optimizer is a single loop over P values.
//
// Shape legend: P = number of values in the flat parameter buffer (padding included; padding
// gradients are always zero, so padding never moves).

import type { Vec } from './arena';
import type { Kernels } from './kernels/types';
import { OPTIM_CONSTANTS, type OptimizerKind } from '../config';

/** Clip every gradient value to [-c, c] (min-char-rnn, char-rnn, torch-rnn); on the kernels when they have it (same bits). */
export function clipByValue(g: Vec, c: number, k?: Kernels): void {
  if (k?.clip) return k.clip(g, c, g.length);
  for (let i = 0; i < g.length; i++) {
    const x = g[i];
    if (x > c) g[i] = c;
    else if (x < -c) g[i] = -c;
  }
}

/** The global L2 norm of the gradient, accumulated in float64. */
export function globalNorm(g: Vec): number {
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return Math.sqrt(s);
}

/** Scale the gradient so its global norm is at most maxNorm; returns the norm before clipping. */
export function clipByNorm(g: Vec, maxNorm: number): number {
  const norm = globalNorm(g);
  if (norm > maxNorm) {
    const s = maxNorm / (norm + 1e-12);
    for (let i = 0; i < g.length; i++) g[i] *= s;
  }
  return norm;
}

/** The optimizers as Kernels.update numbers them. */
const OPTIMIZER_CODES: Record<OptimizerKind, number> = { sgd: 0, adagrad: 1, rmsprop: 2, adam: 3 };

/** What optimizerStep does to the gradient around the update (each saves a pass over it on the kernels). */
export interface StepGrad {
  /** > 0: clip g by value first (clipByValue). */
  clip?: number;
  /** Zero g after the update (the next forwardBackward then need not). */
  zeroGrad?: boolean;
}

/**
 * One update of `p` from gradient `g`. `slots` are the optimizer's state buffers, of the
 * parameters' layout (Adagrad: [mem], RMSprop: [meanSquare], Adam: [m, v], SGD: []).
 * `step` counts updates from 1 (Adam's bias correction).
 */
export function optimizerStep(kind: OptimizerKind, p: Vec, g: Vec, slots: Vec[], lr: number, step: number, k?: Kernels, grad: StepGrad = {}): void {
  const { eps } = OPTIM_CONSTANTS;
  const n = p.length;
  const clip = grad.clip ?? 0;
  if (k?.update) {
    // the same loops on the kernels (native, wasm: every thread, no float64 <-> float32 boxing
    // in JS, clipping and zeroing in the same pass), same bits
    const { rmspropDecay: a, adamBeta1: b1, adamBeta2: b2 } = OPTIM_CONSTANTS;
    const c1 = kind === 'adam' ? 1 / (1 - b1 ** step) : 1;
    const c2 = kind === 'adam' ? 1 / (1 - b2 ** step) : 1;
    k.update(p, g, slots[0] ?? null, slots[1] ?? null, OPTIMIZER_CODES[kind], lr, eps, a, b1, b2, c1, c2, n, clip > 0 ? clip : 0, !!grad.zeroGrad);
    return;
  }
  if (clip > 0) clipByValue(g, clip, k);
  updateLoops(kind, p, g, slots, lr, step);
  if (grad.zeroGrad) g.fill(0);
}

/** optimizerStep's loops in JavaScript (the reference the kernels' update matches bit for bit). */
function updateLoops(kind: OptimizerKind, p: Vec, g: Vec, slots: Vec[], lr: number, step: number): void {
  const { eps } = OPTIM_CONSTANTS;
  const n = p.length;
  switch (kind) {
    case 'sgd':
      for (let i = 0; i < n; i++) p[i] -= lr * g[i];
      return;
    case 'adagrad': {
      // min-char-rnn: mem += dparam * dparam; param += -lr * dparam / np.sqrt(mem + 1e-8)
      const mem = slots[0];
      for (let i = 0; i < n; i++) {
        mem[i] += g[i] * g[i];
        p[i] -= (lr * g[i]) / Math.sqrt(mem[i] + eps);
      }
      return;
    }
    case 'rmsprop': {
      // char-rnn (optim.rmsprop): m = a*m + (1-a)*g^2; p -= lr * g / (sqrt(m) + eps)
      const a = OPTIM_CONSTANTS.rmspropDecay;
      const m = slots[0];
      for (let i = 0; i < n; i++) {
        m[i] = a * m[i] + (1 - a) * g[i] * g[i];
        p[i] -= (lr * g[i]) / (Math.sqrt(m[i]) + eps);
      }
      return;
    }
    case 'adam': {
      // Kingma & Ba, with bias correction: p -= lr * mhat / (sqrt(vhat) + eps)
      const { adamBeta1: b1, adamBeta2: b2 } = OPTIM_CONSTANTS;
      const [m, v] = slots;
      const c1 = 1 / (1 - b1 ** step);
      const c2 = 1 / (1 - b2 ** step);
      for (let i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        p[i] -= (lr * m[i] * c1) / (Math.sqrt(v[i] * c2) + eps);
      }
      return;
    }
  }
}
