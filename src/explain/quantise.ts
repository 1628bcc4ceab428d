// Compact storage of the activations the page colours by: each unit's values over the text as
// signed bytes, v ~ q / Q * scale, |q| <= Q. h lies in (-1, 1), so its scale is 1 (colours mean
// the same across units, as the page's fixed -1..1 legend says); c is unbounded, so each unit
// of c gets the scale of its own largest |value|. The error is at most scale / (2Q) per value.
// Q is 127 (8-bit) while the activations fit ACTIVATION_BUDGET values; beyond, 7 (4-bit): the
// values are too noisy to compress (measured: deflate saves ~15% at 8 bits), and 16 shades
// are still plenty for the eye. Then deflate (the page inflates with DecompressionStream), base64.
//
// Shape legend: N characters, H hidden, S state traces (layers x h|c).

import { deflateRawSync } from 'node:zlib';
import type { StateTrace } from './run';

export interface Quantised {
  bytes: Int8Array; // (S, H, N) trace-major, then unit-major
  scales: Float32Array; // (S, H)
  /** Largest |q|: 127 or 7. */
  levels: number;
}

/**
 * 8-bit activations up to this many values (S x H x N), 4-bit beyond: 4 M values are 20,000
 * characters of a 1 x 100 LSTM; the default 2 x 128 LSTM at 20,000 characters (10 M values)
 * gets 4-bit, about 5 MB of page instead of 12.
 */
export const ACTIVATION_BUDGET = 4_000_000;

export function levelsFor(values: number): number {
  return values <= ACTIVATION_BUDGET ? 127 : 7;
}

/** Quantise every trace; `values` of each is (H, N). */
export function quantiseStates(states: StateTrace[], H: number, N: number, levels = levelsFor(states.length * H * N)): Quantised {
  const bytes = new Int8Array(states.length * H * N);
  const scales = new Float32Array(states.length * H);
  states.forEach((s, k) => {
    for (let u = 0; u < H; u++) {
      const from = u * N;
      let scale = 1;
      if (s.state === 'c') {
        let m = 0;
        for (let i = from; i < from + N; i++) m = Math.max(m, Math.abs(s.values[i]));
        scale = m > 0 ? m : 1;
      }
      scales[k * H + u] = scale;
      const out = (k * H + u) * N;
      for (let i = 0; i < N; i++) bytes[out + i] = quantise(s.values[from + i], scale, levels);
    }
  });
  return { bytes, scales, levels };
}

/** v / scale in [-1, 1] as an integer in [-levels, levels]. */
export function quantise(v: number, scale: number, levels: number): number {
  const q = Math.round((v / scale) * levels);
  return q > levels ? levels : q < -levels ? -levels : q;
}

export function dequantise(q: number, scale: number, levels: number): number {
  return (q / levels) * scale;
}

/** Raw deflate, base64. */
export function packBytes(b: Uint8Array): string {
  return deflateRawSync(b, { level: 9 }).toString('base64');
}

/** Little-endian bytes of a typed array (the page reads them with the same typed array). */
export function bytesOf(a: Float32Array | Uint16Array | Int32Array | Uint32Array | Uint8Array | Int8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
