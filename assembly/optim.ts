// The optimizer's elementwise work over the flat parameter buffer (src/engine/kernels/types.ts
// clip and update): clip every gradient value to [-c, c]; one step of SGD, Adagrad, RMSprop or
// Adam, optionally clipping the gradient first and zeroing it after in the same pass. The
// arithmetic is float64, each stored value rounded to float32 once, in the order of the loops
// of src/engine/optim.ts (JavaScript's, and wasm has no implicit fused multiply-add), so the
// bits equal those loops' for any split between threads (every element is computed alone).
//
// Shape legend: P values in the flat parameter buffer; slots s0, s1 share its layout.

import { CLIP, UPDATE, arg, farg, partStart, ptr, runJob, setArg, setFarg, setPtr } from './threads';
import { nthreads } from './layout';

/** Parts start on multiples of this many values (whole cache lines). */
const UNIT: i32 = 16;
/** Below this many values the caller does it alone (waking the workers costs more). */
const MIN_SPLIT: i32 = 1 << 16;

const SGD: i32 = 0;
const ADAGRAD: i32 = 1;
const RMSPROP: i32 = 2;
const ADAM: i32 = 3;

/** g(n) clipped to [-c, c] in place, as JavaScript's two ifs (a NaN stays, bits and all). */
export function clip(g: usize, c: f64, n: i32): void {
  setPtr(1, g);
  setArg(2, n);
  setFarg(0, c);
  run(CLIP, n);
}

/**
 * One step of p(n) from g(n): kind 0 sgd, 1 adagrad, 2 rmsprop, 3 adam; s0 = Adagrad's mem,
 * RMSprop's mean square, Adam's m; s1 = Adam's v (0 where there is none); c1, c2 = Adam's
 * bias corrections. clipTo > 0: g clipped first, as clip(); zero != 0: g set to 0 once read.
 */
export function update(p: usize, g: usize, s0: usize, s1: usize, kind: i32, lr: f64, eps: f64, decay: f64, b1: f64, b2: f64, c1: f64, c2: f64, n: i32, clipTo: f64, zero: i32): void {
  setPtr(1, p); setPtr(2, g); setPtr(3, s0); setPtr(4, s1); setArg(5, kind); setArg(6, n); setArg(7, zero);
  setFarg(0, clipTo); setFarg(1, lr); setFarg(2, eps); setFarg(3, decay); setFarg(4, b1); setFarg(5, b2); setFarg(6, c1); setFarg(7, c2);
  run(UPDATE, n);
}

function run(kind: i32, n: i32): void {
  setArg(0, kind);
  if (nthreads > 1 && n >= MIN_SPLIT) runJob(kind, nthreads);
  else optimPart(0, 1);
}

/** A part of a CLIP or UPDATE job (threads.ts): its range of the values. */
export function optimPart(part: i32, parts: i32): void {
  const clipping = arg(0) == CLIP;
  const n = arg(clipping ? 2 : 6);
  const i0 = partStart(part, parts, n, UNIT), i1 = partStart(part + 1, parts, n, UNIT);
  if (i0 >= i1) return;
  if (clipping) clipRange(ptr(1), farg(0), i0, i1);
  else updateRange(i0, i1);
}

/** In float32: x > c (float64) exactly when x > (float)c, or x == (float)c, which is then already c's float32. */
@inline function clipValue(x: f32, hi: f32, lo: f32): f32 {
  if (x > hi) return hi;
  if (x < lo) return lo;
  return x;
}

function clipRange(g: usize, c: f64, i0: i32, i1: i32): void {
  const hi = <f32>c, lo = <f32>-c;
  for (let i = i0; i < i1; i++) {
    const q = g + (<usize>i << 2);
    const x = load<f32>(q);
    if (x > hi || x < lo) store<f32>(q, clipValue(x, hi, lo));
  }
}

/** The gradient value i, clipped and zeroed (or stored back clipped) as asked. */
@inline function grad(g: usize, i: i32, clipping: bool, hi: f32, lo: f32, zero: bool): f64 {
  const q = g + (<usize>i << 2);
  let x = load<f32>(q);
  if (clipping) x = clipValue(x, hi, lo);
  if (zero) store<f32>(q, 0);
  else if (clipping) store<f32>(q, x);
  return <f64>x;
}

// Four values at a time: the float32 lanes widened to two float64 pairs, the same operations
// lane by lane (f64x2 rounds each as the scalar code does), narrowed back.
@inline function lo2(x: v128): v128 {
  return f64x2.promote_low_f32x4(x);
}
@inline function hi2(x: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 0, 1));
}
@inline function narrow(a: v128, b: v128): v128 {
  return v128.shuffle<i64>(f32x4.demote_f64x2_zero(a), f32x4.demote_f64x2_zero(b), 0, 2);
}

/** grad() on values [i, i+4). */
@inline function grad4(g: usize, i: i32, clipping: bool, hi: v128, lo: v128, zero: bool): v128 {
  const q = g + (<usize>i << 2);
  let x = v128.load(q);
  if (clipping) {
    x = v128.bitselect(hi, x, f32x4.gt(x, hi));
    x = v128.bitselect(lo, x, f32x4.lt(x, lo));
  }
  if (zero) v128.store(q, i32x4.splat(0));
  else if (clipping) v128.store(q, x);
  return x;
}

/** Adagrad on [i, i+4): mem += g * g; p -= lr * g / sqrt(mem + eps). */
@inline function adagrad4(p: usize, s0: usize, o: usize, x: v128, lr: v128, eps: v128): void {
  const m0 = v128.load(s0 + o);
  const gl = lo2(x), gh = hi2(x);
  const m = narrow(f64x2.add(lo2(m0), f64x2.mul(gl, gl)), f64x2.add(hi2(m0), f64x2.mul(gh, gh)));
  v128.store(s0 + o, m);
  const p0 = v128.load(p + o);
  const pl = f64x2.sub(lo2(p0), f64x2.div(f64x2.mul(lr, gl), f64x2.sqrt(f64x2.add(lo2(m), eps))));
  const ph = f64x2.sub(hi2(p0), f64x2.div(f64x2.mul(lr, gh), f64x2.sqrt(f64x2.add(hi2(m), eps))));
  v128.store(p + o, narrow(pl, ph));
}

/** Adam on [i, i+4): m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; p -= lr * m*c1 / (sqrt(v*c2) + eps). */
@inline function adam4(p: usize, s0: usize, s1: usize, o: usize, x: v128, b1: v128, nb1: v128, b2: v128, nb2: v128, lr: v128, c1: v128, c2: v128, eps: v128): void {
  const gl = lo2(x), gh = hi2(x);
  const m0 = v128.load(s0 + o), v0 = v128.load(s1 + o);
  const m = narrow(f64x2.add(f64x2.mul(b1, lo2(m0)), f64x2.mul(nb1, gl)), f64x2.add(f64x2.mul(b1, hi2(m0)), f64x2.mul(nb1, gh)));
  const v = narrow(
    f64x2.add(f64x2.mul(b2, lo2(v0)), f64x2.mul(f64x2.mul(nb2, gl), gl)),
    f64x2.add(f64x2.mul(b2, hi2(v0)), f64x2.mul(f64x2.mul(nb2, gh), gh)),
  );
  v128.store(s0 + o, m);
  v128.store(s1 + o, v);
  const p0 = v128.load(p + o);
  const pl = f64x2.sub(lo2(p0), f64x2.div(f64x2.mul(f64x2.mul(lr, lo2(m)), c1), f64x2.add(f64x2.sqrt(f64x2.mul(lo2(v), c2)), eps)));
  const ph = f64x2.sub(hi2(p0), f64x2.div(f64x2.mul(f64x2.mul(lr, hi2(m)), c1), f64x2.add(f64x2.sqrt(f64x2.mul(hi2(v), c2)), eps)));
  v128.store(p + o, narrow(pl, ph));
}

function updateRange(i0: i32, i1: i32): void {
  const p = ptr(1), g = ptr(2), s0 = ptr(3), s1 = ptr(4);
  const kind = arg(5), zero = arg(7) != 0;
  const clipTo = farg(0), lr = farg(1), eps = farg(2);
  const clipping = clipTo > 0;
  const hi = <f32>clipTo, lo = <f32>-clipTo;
  const hi4 = f32x4.splat(hi), lo4 = f32x4.splat(lo);
  // Adagrad and Adam (the defaults' optimizers) four values at a time; the tail and the others one by one
  const i4 = i0 + ((i1 - i0) & ~3);
  if (kind == ADAGRAD) {
    const lr2 = f64x2.splat(lr), eps2 = f64x2.splat(eps);
    for (let i = i0; i < i4; i += 4) adagrad4(p, s0, <usize>i << 2, grad4(g, i, clipping, hi4, lo4, zero), lr2, eps2);
    i0 = i4;
  } else if (kind == ADAM) {
    const b1 = farg(4), b2 = farg(5);
    const b1v = f64x2.splat(b1), nb1 = f64x2.splat(1 - b1), b2v = f64x2.splat(b2), nb2 = f64x2.splat(1 - b2);
    const lr2 = f64x2.splat(lr), c1 = f64x2.splat(farg(6)), c2 = f64x2.splat(farg(7)), eps2 = f64x2.splat(eps);
    for (let i = i0; i < i4; i += 4) adam4(p, s0, s1, <usize>i << 2, grad4(g, i, clipping, hi4, lo4, zero), b1v, nb1, b2v, nb2, lr2, c1, c2, eps2);
    i0 = i4;
  }
  if (kind == SGD) {
    // p -= lr * g
    for (let i = i0; i < i1; i++) {
      const gi = grad(g, i, clipping, hi, lo, zero);
      const pp = p + (<usize>i << 2);
      store<f32>(pp, <f32>(<f64>load<f32>(pp) - lr * gi));
    }
  } else if (kind == ADAGRAD) {
    // mem += g * g; p -= lr * g / sqrt(mem + eps)
    for (let i = i0; i < i1; i++) {
      const gi = grad(g, i, clipping, hi, lo, zero);
      const o = <usize>i << 2;
      const m = <f32>(<f64>load<f32>(s0 + o) + gi * gi);
      store<f32>(s0 + o, m);
      store<f32>(p + o, <f32>(<f64>load<f32>(p + o) - (lr * gi) / Math.sqrt(<f64>m + eps)));
    }
  } else if (kind == RMSPROP) {
    // m = a*m + (1-a)*g^2; p -= lr * g / (sqrt(m) + eps)
    const a = farg(3);
    for (let i = i0; i < i1; i++) {
      const gi = grad(g, i, clipping, hi, lo, zero);
      const o = <usize>i << 2;
      const m = <f32>(a * <f64>load<f32>(s0 + o) + (1 - a) * gi * gi);
      store<f32>(s0 + o, m);
      store<f32>(p + o, <f32>(<f64>load<f32>(p + o) - (lr * gi) / (Math.sqrt(<f64>m) + eps)));
    }
  } else {
    // adam: m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; p -= lr * m*c1 / (sqrt(v*c2) + eps)
    const b1 = farg(4), b2 = farg(5), c1 = farg(6), c2 = farg(7);
    for (let i = i0; i < i1; i++) {
      const gi = grad(g, i, clipping, hi, lo, zero);
      const o = <usize>i << 2;
      const m = <f32>(b1 * <f64>load<f32>(s0 + o) + (1 - b1) * gi);
      const v = <f32>(b2 * <f64>load<f32>(s1 + o) + (1 - b2) * gi * gi);
      store<f32>(s0 + o, m);
      store<f32>(s1 + o, v);
      store<f32>(p + o, <f32>(<f64>load<f32>(p + o) - (lr * <f64>m * c1) / (Math.sqrt(<f64>v * c2) + eps)));
    }
  }
}
