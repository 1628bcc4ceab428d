// What bench.ts and sweep.ts share: the useful-work count (GFLOP/s), medians, timed windows,
// and the kernel sets a benchmark can run here.
//
// Shape legend: H hidden, V vocab, G gate width (4H lstm, 3H gru, H rnn).

import { gateWidth } from '../src/engine/cells/layer';
import type { ModelConfig } from '../src/config';
import type { KernelKind } from '../src/engine/kernels';
import { nativeUnavailable } from '../src/engine/kernels/native';

/**
 * Useful floating-point operations of one forward character: 2*G*(I+H) per layer (I = the
 * layer's input width, V for one-hot) + 2*H*V for the output layer. Training = 3 x forward.
 */
export function forwardFlops(m: ModelConfig, V: number): number {
  const G = gateWidth(m.model, m.hidden);
  let f = 0;
  for (let l = 0; l < m.layers; l++) {
    const I = l > 0 ? m.hidden : m.embed > 0 ? m.embed : V;
    f += 2 * G * (I + m.hidden);
  }
  return f + 2 * m.hidden * V;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/**
 * Runs `step` (returning the units it did) in a warm-up window (`warmup` seconds, default
 * `seconds`), then `windows` timed windows of at least `seconds` each (and at least one step);
 * the median units/second.
 */
export function measure(step: () => number, windows: number, seconds: number, warmup = seconds): { perSecond: number; windows: number } {
  const rates: number[] = [];
  const timeWindow = (s = seconds) => {
    const t0 = performance.now();
    let units = 0;
    do units += step();
    while (performance.now() - t0 < s * 1000);
    return (units * 1000) / (performance.now() - t0);
  };
  timeWindow(warmup); // warm-up: JIT, caches, worker start, packed buffers
  for (let w = 0; w < windows; w++) rates.push(timeWindow());
  return { perSecond: median(rates), windows: rates.length };
}

/** The requested kernel sets that can run here; says on stderr which are left out and why. */
export function availableKernels(list: string[]): KernelKind[] {
  const out: KernelKind[] = [];
  for (const k of list) {
    if (k !== 'js' && k !== 'wasm' && k !== 'native') throw new Error(`unknown kernels '${k}' (js, wasm, native)`);
    const why = k === 'native' ? nativeUnavailable() : null;
    if (why) process.stderr.write(`skipping the native kernels: ${why}\n`);
    else out.push(k);
  }
  return out;
}
