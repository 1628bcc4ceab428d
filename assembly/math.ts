// Math functions: exp, sigmoid and tanh on 4 float32 lanes (with test hooks), and ln in f64.

import { ld, madd, st } from './simd';

// exp, sigmoid, tanh on 4 lanes, ~1-2 ulp (float32), no NaN for large inputs.

/**
 * e^x: x = n ln2 + r, |r| <= ln2/2 (Cody-Waite split of ln2), e^r by the Cephes expf
 * polynomial, 2^n applied as two factors 2^(n>>1) * 2^(n - n>>1) so that results from the
 * subnormal range up to overflow (inf) come out right. x is clamped to [-104, 88.8] first
 * (beyond: 0 or inf anyway) with pmin/pmax, which keep NaN and compile to one minps/maxps
 * (f32x4.min/max must order NaNs and cost a dozen instructions on x86). n = round(x/ln2)
 * comes from adding 1.5*2^23: the sum's low mantissa bits are n as an integer.
 */
@inline export function exp4(x: v128): v128 {
  const magic = f32x4.splat(12582912.0); // 1.5 * 2^23
  x = f32x4.pmax(f32x4.pmin(x, f32x4.splat(88.8)), f32x4.splat(-104.0));
  const t = f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), magic);
  const n = f32x4.sub(t, magic);
  const ni = i32x4.sub(t, magic);
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = madd(f32x4.splat(1.9875691500e-4), r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  p = f32x4.add(madd(f32x4.mul(p, r), r, r), f32x4.splat(1));
  const n1 = i32x4.shr_s(ni, 1);
  const s1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(i32x4.sub(ni, n1), i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/**
 * sigmoid(x) = 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) for x < 0: with e = e^-|x| <= 1
 * nothing overflows and tiny results (down to subnormals) keep their relative accuracy.
 */
@inline export function sigmoid4(x: v128): v128 {
  const e = exp4(f32x4.neg(f32x4.abs(x)));
  const d = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), e));
  return v128.bitselect(d, f32x4.mul(e, d), f32x4.ge(x, f32x4.splat(0)));
}

/**
 * tanh: for |x| < 0.625 the Cephes tanhf odd polynomial (1 - 2/(e^2x + 1) would cancel),
 * otherwise sign(x) * (1 - 2/(e^2|x| + 1)), which tends to exactly 1 as e^2|x| overflows.
 */
@inline export function tanh4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = madd(f32x4.splat(-5.70498872745e-3), z, f32x4.splat(2.06390887954e-2));
  p = madd(p, z, f32x4.splat(-5.37397155531e-2));
  p = madd(p, z, f32x4.splat(1.33314422036e-1));
  p = madd(p, z, f32x4.splat(-3.33332819422e-1));
  const small = madd(f32x4.mul(p, z), x, x);
  const e = exp4(f32x4.add(ax, ax));
  const big = f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
  const signed = v128.or(big, v128.and(x, i32x4.splat(<i32>0x80000000)));
  return v128.bitselect(small, signed, f32x4.lt(ax, f32x4.splat(0.625)));
}

/** 1 - x^2 as (1 - x)(1 + x): no cancellation when |x| is near 1 (tanh derivatives). */
@inline export function oneMinusSq(x: v128): v128 {
  return f32x4.mul(f32x4.sub(f32x4.splat(1), x), f32x4.add(f32x4.splat(1), x));
}

/** Test hook: out(n) = exp(x(n)) with the kernels' exp. */
export function vexp(out: usize, x: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), exp4(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) st(out + (<usize>i << 2), exp4(ld(x + (<usize>i << 2), true)), true);
}

/** Test hook: out(n) = sigmoid(x(n)). */
export function vsigmoid(out: usize, x: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), sigmoid4(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) st(out + (<usize>i << 2), sigmoid4(ld(x + (<usize>i << 2), true)), true);
}

/**
 * Natural log in f64 (musl's log without lookup tables: the standard library's Math.log
 * brings a 4 KiB table as a data segment, which every worker's instantiation would
 * rewrite in the shared memory).
 */
export function ln(x: f64): f64 {
  const ln2_hi = reinterpret<f64>(0x3FE62E42FEE00000);
  const ln2_lo = reinterpret<f64>(0x3DEA39EF35793C76);
  const Lg1 = reinterpret<f64>(0x3FE5555555555593);
  const Lg2 = reinterpret<f64>(0x3FD999999997FA04);
  const Lg3 = reinterpret<f64>(0x3FD2492494229359);
  const Lg4 = reinterpret<f64>(0x3FCC71C51D8E78AF);
  const Lg5 = reinterpret<f64>(0x3FC7466496CB03DE);
  const Lg6 = reinterpret<f64>(0x3FC39A09D078C69F);
  const Lg7 = reinterpret<f64>(0x3FC2F112DF3E5244);
  let u = reinterpret<u64>(x);
  let hx = <u32>(u >> 32);
  let k = 0;
  if ((hx >> 31) != 0 || hx < 0x00100000) {
    if (u << 1 == 0) return -1 / (x * x);
    if (hx >> 31) return (x - x) / 0.0;
    k -= 54;
    x *= reinterpret<f64>(0x4350000000000000); // 2^54: subnormal to normal
    u = reinterpret<u64>(x);
    hx = <u32>(u >> 32);
  } else if (hx >= 0x7FF00000) {
    return x;
  } else if (hx == 0x3FF00000 && u << 32 == 0) {
    return 0;
  }
  hx += 0x3FF00000 - 0x3FE6A09E;
  k += (<i32>hx >> 20) - 0x3FF;
  hx = (hx & 0x000FFFFF) + 0x3FE6A09E;
  u = (<u64>hx << 32) | (u & 0xFFFFFFFF);
  x = reinterpret<f64>(u);
  const f = x - 1.0;
  const hfsq = 0.5 * f * f;
  const s = f / (2.0 + f);
  const z = s * s;
  const w = z * z;
  const t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
  const t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
  const r = t2 + t1;
  const dk = <f64>k;
  return s * (hfsq + r) + dk * ln2_lo - hfsq + f + dk * ln2_hi;
}
