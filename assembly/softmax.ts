// Softmax with the cross-entropy loss, and its backward.
//
// Shape legend: M rows, V vocab.

import { badId } from './elementwise';
import { exp4, ln } from './math';

/**
 * Row-wise softmax of probs(M,V) in place; returns sum over rows of -log p[target] in f64,
 * computed from the logits as log(sum e^(x - max)) - (x_t - max) (exact even when p
 * underflows), or 0 when targets == 0 (no targets). The exponentials are float32 (each
 * within ~1 ulp); their row sum and the log are float64. A target outside [0, V): returns
 * -(1 + its row index), probs untouched.
 */
export function softmaxXent(probs: usize, targets: usize, M: i32, V: i32): f64 {
  if (targets) {
    const bad = badId(targets, M, V);
    if (bad) return -bad;
  }
  let loss: f64 = 0;
  const row = <usize>V << 2;
  for (let i = 0; i < M; i++) {
    const p = probs + <usize>i * row;
    // row max; like js.ts (x > max ? x : max) NaNs are passed over (pmax is that, in one
    // instruction), the exponentials below then make the row NaN
    let mv = f32x4.splat(<f32>-Infinity);
    let j = 0;
    for (; j + 4 <= V; j += 4) mv = f32x4.pmax(mv, v128.load(p + (<usize>j << 2)));
    mv = f32x4.pmax(mv, v128.shuffle<f32>(mv, mv, 2, 3, 0, 1));
    mv = f32x4.pmax(mv, v128.shuffle<f32>(mv, mv, 1, 0, 3, 2));
    let mx = f32x4.extract_lane(mv, 0);
    for (; j < V; j++) {
      const x = load<f32>(p + (<usize>j << 2));
      if (x > mx) mx = x;
    }
    const xt: f64 = targets ? <f64>load<f32>(p + (<usize>load<i32>(targets + (<usize>i << 2)) << 2)) - <f64>mx : 0;
    // e = exp(x - max), summed in f64 (two f64x2 accumulators)
    const m4 = f32x4.splat(mx);
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    j = 0;
    for (; j + 4 <= V; j += 4) {
      const q = p + (<usize>j << 2);
      const e = exp4(f32x4.sub(v128.load(q), m4));
      v128.store(q, e);
      s0 = f64x2.add(s0, f64x2.promote_low_f32x4(e));
      s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.shuffle<f32>(e, e, 2, 3, 2, 3)));
    }
    let sum: f64 = f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s0, 1) + f64x2.extract_lane(s1, 0) + f64x2.extract_lane(s1, 1);
    for (; j < V; j++) {
      const q = p + (<usize>j << 2);
      const e = exp4(f32x4.sub(v128.load32_zero(q), m4));
      v128.store32_lane(q, e, 0);
      sum += <f64>f32x4.extract_lane(e, 0);
    }
    const inv = f32x4.splat(<f32>(1.0 / sum));
    j = 0;
    for (; j + 4 <= V; j += 4) {
      const q = p + (<usize>j << 2);
      v128.store(q, f32x4.mul(v128.load(q), inv));
    }
    for (; j < V; j++) {
      const q = p + (<usize>j << 2);
      store<f32>(q, load<f32>(q) * f32x4.extract_lane(inv, 0));
    }
    if (targets) loss += ln(sum) - xt;
  }
  return loss;
}

/**
 * dlogits(M,V) = (probs - onehot(target)) * scale; dlogits may alias probs. The products
 * are taken in f64 and rounded once, as js.ts does on float32 buffers (scale is not a
 * float32 number in general, e.g. 1/(T*B)). Returns 0, or (doing nothing) 1 + the row
 * index of the first target outside [0, V).
 */
export function softmaxXentBackward(dlogits: usize, probs: usize, targets: usize, scale: f64, M: i32, V: i32): i32 {
  const bad = badId(targets, M, V);
  if (bad) return bad;
  const row = <usize>V << 2;
  const s2 = f64x2.splat(scale);
  for (let i = 0; i < M; i++) {
    const src = probs + <usize>i * row;
    const dst = dlogits + <usize>i * row;
    let j = 0;
    for (; j + 4 <= V; j += 4) {
      const off = <usize>j << 2;
      const p = v128.load(src + off);
      const lo = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(p), s2));
      const hi = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<f32>(p, p, 2, 3, 2, 3)), s2));
      v128.store(dst + off, v128.shuffle<f32>(lo, hi, 0, 1, 4, 5));
    }
    for (; j < V; j++) {
      const off = <usize>j << 2;
      store<f32>(dst + off, <f32>(<f64>load<f32>(src + off) * scale));
    }
    const t = dst + (<usize>load<i32>(targets + (<usize>i << 2)) << 2);
    store<f32>(t, <f32>(<f64>load<f32>(t) - scale));
  }
  return 0;
}
