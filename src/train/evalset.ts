// What an evaluation reads of the validation split. All of it is cut into the workspace's B
// streams (the layout of the final evaluation and of `charrnn eval` on the split); with
// --eval-chars N, B contiguous windows of about N / B characters, one inside each stream's span,
// placed once for the run by a seeded generator. Every evaluation then reads the same characters,
// so its losses compare with each other, and costs the same on a 1 GB corpus as on a small one.
//
// Shape legend: B streams.

import { Rng } from '../engine/rng';

/** B streams of `len` predicted characters: stream b reads data[starts[b] .. starts[b] + len]. */
export interface EvalStreams {
  starts: Int32Array; // (B)
  len: number;
  /** Whether they cover the whole text (all but < B characters). */
  all: boolean;
}

/** The whole text of `n` characters as B consecutive streams. */
export function allStreams(n: number, B: number): EvalStreams {
  const len = Math.max(0, Math.floor((n - 1) / B));
  const starts = new Int32Array(B);
  for (let b = 0; b < B; b++) starts[b] = b * len;
  return { starts, len, all: true };
}

/**
 * About `chars` characters of a text of `n` as B windows, one at a seeded place inside each of
 * the B spans of allStreams; all of the text when `chars` is 0 or covers it.
 */
export function sampledStreams(n: number, B: number, chars: number, seed: number): EvalStreams {
  const whole = allStreams(n, B);
  const len = Math.floor(chars / B);
  if (chars <= 0 || len < 1 || len >= whole.len) return whole;
  const rng = new Rng(`${seed}:eval-windows`);
  const starts = new Int32Array(B);
  for (let b = 0; b < B; b++) starts[b] = whole.starts[b] + Math.floor(rng.uniform() * (whole.len - len + 1));
  return { starts, len, all: false };
}
