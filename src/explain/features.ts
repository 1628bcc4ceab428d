// Simple features of a text, one number per character, and the units whose activations
// follow them: Pearson's correlation of every unit (every layer, h and c) with every feature,
// and the few strongest per feature. A feature at position i describes the text up to and
// including character i, like the state after reading it.
//
// Shape legend: N characters, H hidden, F features, S state traces (layers x h|c).

import type { StateTrace } from './run';

export interface Feature {
  /** Stable key (JSON, page). */
  name: string;
  /** What it measures, for people. */
  label: string;
  values: Float64Array; // (N)
}

export interface SuggestedUnit {
  feature: string;
  layer: number;
  state: 'h' | 'c';
  unit: number;
  correlation: number;
}

const OPEN = new Set([0x28, 0x5b, 0x7b]); // ( [ {
const CLOSE = new Set([0x29, 0x5d, 0x7d]); // ) ] }
const QUOTES = new Set([0x22, 0x201c, 0x201d, 0x201e, 0xab, 0xbb]); // " “ ” „ « »
const WORD = /[\p{L}\p{N}\p{M}]/u;

/** The features of the code points `cps` (N). */
export function textFeatures(cps: ArrayLike<number>): Feature[] {
  const N = cps.length;
  const quote = new Float64Array(N);
  const depth = new Float64Array(N);
  const column = new Float64Array(N);
  const newline = new Float64Array(N);
  const word = new Float64Array(N);
  let inside = 0;
  let d = 0;
  let col = 0;
  for (let i = 0; i < N; i++) {
    const cp = cps[i];
    if (QUOTES.has(cp)) inside = cp === 0x201c || cp === 0x201e || cp === 0xab ? 1 : cp === 0x201d || cp === 0xbb ? 0 : 1 - inside;
    if (OPEN.has(cp)) d++;
    else if (CLOSE.has(cp)) d = Math.max(0, d - 1);
    quote[i] = inside;
    depth[i] = d;
    column[i] = col;
    col = cp === 0x0a ? 0 : col + 1;
    newline[i] = cp === 0x0a ? 1 : 0;
    word[i] = WORD.test(String.fromCodePoint(cp)) ? 1 : 0;
  }
  return [
    { name: 'inQuotes', label: 'inside quotes', values: quote },
    { name: 'bracketDepth', label: 'bracket/paren depth', values: depth },
    { name: 'linePosition', label: 'position in the line', values: column },
    { name: 'afterNewline', label: 'after a newline', values: newline },
    { name: 'inWord', label: 'inside a word', values: word },
  ];
}

/**
 * Pearson's r of x and y (length n); NaN when either is constant (no correlation to speak of).
 * Two passes in float64: the data are float32 activations and 0/1 features.
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>, from: number, n: number): number {
  let mx = 0;
  let my = 0;
  for (let i = from; i < from + n; i++) {
    mx += x[i];
    my += y[i - from];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = from; i < from + n; i++) {
    const dx = x[i] - mx;
    const dy = y[i - from] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/** Correlation of every unit with every feature: (F) arrays of (S, H), NaN where undefined. */
export function correlations(states: StateTrace[], features: Feature[], H: number, N: number): Float64Array[] {
  return features.map((f) => {
    const r = new Float64Array(states.length * H);
    states.forEach((s, k) => {
      for (let u = 0; u < H; u++) r[k * H + u] = pearson(s.values, f.values, u * N, N);
    });
    return r;
  });
}

/**
 * The `perFeature` units with the largest |r| for each feature that varies over the text,
 * strongest first; a unit may serve several features.
 */
export function suggestUnits(states: StateTrace[], features: Feature[], H: number, N: number, perFeature = 3): SuggestedUnit[] {
  const all = correlations(states, features, H, N);
  const out: SuggestedUnit[] = [];
  features.forEach((f, fi) => {
    const r = all[fi];
    const order = Array.from(r.keys())
      .filter((j) => Number.isFinite(r[j]))
      .sort((a, b) => Math.abs(r[b]) - Math.abs(r[a]) || a - b)
      .slice(0, perFeature);
    for (const j of order) {
      const s = states[Math.floor(j / H)];
      out.push({ feature: f.name, layer: s.layer, state: s.state, unit: j % H, correlation: r[j] });
    }
  });
  return out;
}
