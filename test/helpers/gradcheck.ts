// Finite differences for gradient checks, and the relative error they are judged by.
//
// The derivative is a sixth-order central difference with a power-of-two step (x +- k h
// exact). Why not the plain (f(x+h) - f(x-h)) / 2h with h = 1e-5: its rounding error is a few
// ulps of the loss (~1e-15 * 10) over h, ~1e-12 absolute, which is more than 1e-6 relative of
// the smallest gradient values of a random model (~1e-7). The higher order allows a 1000x larger
// step for the same truncation error. centralDiff2 is kept for comparison in the report.

/** |a - n| / max(|a| + |n|, 1e-8). */
export function relErr(a: number, n: number): number {
  return Math.abs(a - n) / Math.max(Math.abs(a) + Math.abs(n), 1e-8);
}

export const H6 = 2 ** -7;

/**
 * Sixth-order central difference with step h (scaled by max(1, |x|)):
 *   f'(x) ~ [45 (f(x+h) - f(x-h)) - 9 (f(x+2h) - f(x-2h)) + (f(x+3h) - f(x-3h))] / (60 h)
 * Truncation O(h^6): with h = 2^-7 it is ~1e-15 * f^(7) while the rounding error of the loss
 * (a few ulps of |f| ~ 10, divided by h) is ~1e-13; good to 1e-6 relative even for gradient
 * values of 1e-7.
 */
export function centralDiff6(f: () => number, get: () => number, set: (v: number) => void, h = H6): number {
  const x = get();
  const s = h * Math.max(1, 2 ** Math.ceil(Math.log2(Math.abs(x) || 1)));
  const at = (d: number): number => {
    set(x + d);
    return f();
  };
  const d1 = at(s) - at(-s);
  const d2 = at(2 * s) - at(-2 * s);
  const d3 = at(3 * s) - at(-3 * s);
  set(x);
  return (45 * d1 - 9 * d2 + d3) / (60 * s); // differences first: exactly 0 for a constant f
}

/** Second-order central difference with step h (plain textbook check). */
export function centralDiff2(f: () => number, get: () => number, set: (v: number) => void, h = 1e-5): number {
  const x = get();
  set(x + h);
  const p = f();
  set(x - h);
  const m = f();
  set(x);
  return (p - m) / ((x + h) - (x - h));
}

export interface GradReport {
  /** Values checked. */
  count: number;
  /** Largest relative error, and where. */
  maxRel: number;
  where: string;
  /** Analytic and numeric values at the worst point. */
  analytic: number;
  numeric: number;
  /** Values whose analytic gradient is non-zero (a check that did not degenerate to 0 = 0). */
  nonZero: number;
}

export function emptyReport(): GradReport {
  return { count: 0, maxRel: 0, where: '', analytic: 0, numeric: 0, nonZero: 0 };
}

export function record(r: GradReport, where: string, analytic: number, numeric: number): void {
  const e = relErr(analytic, numeric);
  r.count++;
  if (analytic !== 0) r.nonZero++;
  if (!(e <= r.maxRel)) {
    r.maxRel = Number.isNaN(e) ? Infinity : e;
    r.where = where;
    r.analytic = analytic;
    r.numeric = numeric;
  }
}

export function merge(into: GradReport, r: GradReport): void {
  into.count += r.count;
  into.nonZero += r.nonZero;
  if (!(r.maxRel <= into.maxRel)) {
    into.maxRel = r.maxRel;
    into.where = r.where;
    into.analytic = r.analytic;
    into.numeric = r.numeric;
  }
}
