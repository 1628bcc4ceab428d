// Axes for the loss plots (loss.svg and the terminal chart): scales from data to pixels or
// character cells, linear or logarithmic, and "nice" tick values (1, 2, 2.5, 5 x 10^k).

import type { HistoryJSON } from '../checkpoint/format';

export interface Scale {
  /** Data value to screen coordinate. */
  map(v: number): number;
  log: boolean;
  /** Data domain [lo, hi]. */
  lo: number;
  hi: number;
}

/** [lo, hi] onto [r0, r1] (r1 < r0 for a y axis that grows upwards), in ln(v) when `log`. */
export function makeScale(lo: number, hi: number, r0: number, r1: number, log = false): Scale {
  const f = log ? Math.log : (v: number) => v;
  const a = f(lo);
  const span = f(hi) - a || 1;
  return { map: (v) => r0 + ((f(v) - a) / span) * (r1 - r0), log, lo, hi };
}

/** A round step near span / count: 1, 2, 2.5 or 5 times a power of ten. */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(count, 1);
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * p;
}

/** Decimals needed to print multiples of `step` exactly. */
export function stepDecimals(step: number): number {
  for (let d = 0; d < 10; d++) if (Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-9) return d;
  return 10;
}

/** Multiples of a nice step inside [lo, hi], about `count` of them. */
export function linearTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const step = niceStep(hi - lo, count);
  const d = stepDecimals(step);
  const out: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) out.push(Number((k * step).toFixed(d)));
  return out;
}

/**
 * Ticks of a log axis: within one decade (losses from 1.3 to 4.2) round linear values, which
 * read better than a lone 1 or 10; over several decades 1, 2, 5 x 10^k, or the powers alone.
 */
export function logTicks(lo: number, hi: number, count: number): number[] {
  if (hi / lo < 10) return linearTicks(lo, hi, count).filter((v) => v > 0);
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** e).toPrecision(3));
      if (v >= lo && v <= hi) out.push(v);
    }
  }
  return out.length > count * 2 ? out.filter((v) => Number.isInteger(Math.log10(v))) : out;
}

/** Tick labels: the fewest decimals that tell the ticks apart. */
export function formatTicks(ticks: number[]): string[] {
  let d = 0;
  while (d < 6 && new Set(ticks.map((t) => t.toFixed(d))).size < ticks.length) d++;
  for (const t of ticks) d = Math.max(d, Math.min(6, stepDecimals(t)));
  return ticks.map((t) => t.toFixed(d));
}

/** 950, 12k, 1.2M: characters seen, short. */
export function formatCount(n: number): string {
  const a = Math.abs(n);
  const [div, unit] = a >= 1e9 ? [1e9, 'G'] : a >= 1e6 ? [1e6, 'M'] : a >= 1e3 ? [1e3, 'k'] : [1, ''];
  const v = n / div;
  return (unit && Math.abs(v) < 10 && !Number.isInteger(v) ? v.toFixed(1) : Math.round(v).toString()) + unit;
}

/** The largest of `values` (-Infinity for none), by a loop: Math.max(...values) throws past ~125,000. */
export function maxOf(values: Iterable<number>): number {
  let m = -Infinity;
  for (const v of values) if (v > m) m = v;
  return m;
}

/** The points that can be drawn: finite, and positive on a log axis. */
export function drawable(points: [number, number, number][], log: boolean): [number, number, number][] {
  return points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[2]) && (!log || p[2] > 0));
}

export interface Domain {
  /** Iterations: from 0 to the last point. */
  x: [number, number];
  /** Loss: the range of the points, padded so no point sits on the frame. */
  y: [number, number];
  /** Characters seen per iteration (for the secondary axis), if the history tells. */
  charsPerIter: number | null;
}

/** The domains of a loss plot, or null when there is nothing to draw. */
export function lossDomain(h: HistoryJSON, log: boolean): Domain | null {
  const train = drawable(h.train, log);
  const val = drawable(h.val, log);
  if (train.length + val.length === 0) return null;
  // loops, not Math.min(...xs): a spread of more than ~125,000 arguments throws RangeError
  let [lo, hi, xMin, xMax] = [Infinity, -Infinity, 0, -Infinity];
  for (const ps of [train, val]) {
    for (const p of ps) {
      if (p[2] < lo) lo = p[2];
      if (p[2] > hi) hi = p[2];
      if (p[0] < xMin) xMin = p[0];
      if (p[0] > xMax) xMax = p[0];
    }
  }
  if (log) {
    const pad = hi > lo ? (hi / lo) ** 0.04 : 1.25;
    [lo, hi] = [lo / pad, hi * pad];
  } else {
    const pad = hi > lo ? (hi - lo) * 0.04 : Math.max(Math.abs(hi) * 0.1, 0.5);
    [lo, hi] = [lo - pad, hi + pad];
  }
  // charsSeen grows by B x T an iteration (B and T cannot change within a run): the latest point tells
  let last: [number, number, number] | null = null;
  for (const ps of [h.train, h.val]) for (const p of ps) if (p[0] > 0 && p[1] > 0 && (last === null || p[0] > last[0])) last = p;
  return { x: [xMin, xMax > 0 ? xMax : 1], y: [lo, hi], charsPerIter: last ? last[1] / last[0] : null };
}
