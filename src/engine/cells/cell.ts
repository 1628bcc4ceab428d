// What a recurrent cell provides: its parameters, their initialisation, and its time loops.
// Everything a cell shares with the others (the input projection, state carry) is in layer.ts.
//
// Shape legend: B batch, T steps, D input width, H hidden, G gate width.

import type { Vec } from '../arena';
import type { Kernels } from '../kernels/types';
import type { Layer } from './layer';
import type { TensorSpec } from '../params';
import type { Rng } from '../rng';

export interface Cell {
  /** The layer's tensors, named `${prefix}Wx` (D,G), `${prefix}Wh` (H,G), `${prefix}b` (G), ... */
  params(prefix: string, D: number, H: number): TensorSpec[];
  /** Initialise the layer's tensors (views by full name) from the one generator. */
  init(t: Record<string, Vec>, prefix: string, D: number, H: number, rng: Rng): void;
  /** Run steps 0..steps-1; layer.xg already holds x Wx + b, layer.hs[0] the carried state. */
  forward(L: Layer, k: Kernels, steps: number): void;
  /**
   * Backpropagate through time. On entry dhs[1..steps] hold the gradient from above; on exit
   * dxg (and dhg) hold the gate gradients of every step and dhs[0] (dc) the initial state's.
   */
  backward(L: Layer, k: Kernels, steps: number): void;
}

/** Fill v with uniform values in [-a, a). */
export function fillUniform(v: Vec, a: number, rng: Rng): void {
  for (let i = 0; i < v.length; i++) v[i] = (2 * rng.uniform() - 1) * a;
}

/** Fill v with normal values of standard deviation s. */
export function fillNormal(v: Vec, s: number, rng: Rng): void {
  for (let i = 0; i < v.length; i++) v[i] = rng.normal() * s;
}
