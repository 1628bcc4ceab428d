// Small SIMD helpers shared by the kernels: multiply-add (fused with relaxed SIMD), partial
// loads and stores of 1..4 lanes, four horizontal sums at once, and the one-lane-or-four
// load/store of the element-wise loops.

@inline export function madd(a: v128, b: v128, c: v128): v128 {
  // c + a*b; fused (one rounding) when built with relaxed SIMD
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

@inline export function imin(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

/** n (1..4) floats from p into the low lanes, zeros above: never reads past p + 4n. */
@inline export function loadN(p: usize, n: i32): v128 {
  if (n >= 4) return v128.load(p);
  let v = v128.load32_zero(p);
  if (n > 1) v = v128.load32_lane(p, v, 1, 4);
  if (n > 2) v = v128.load32_lane(p, v, 2, 8);
  return v;
}

/** Stores the low n (1..4) lanes of v at p. */
@inline export function storeN(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, v);
    return;
  }
  v128.store32_lane(p, v, 0);
  if (n > 1) v128.store32_lane(p, v, 1, 4);
  if (n > 2) v128.store32_lane(p, v, 2, 8);
}

/** [sum c0, sum c1, sum c2, sum c3]: four horizontal sums in one vector. */
@inline export function hsum4(c0: v128, c1: v128, c2: v128, c3: v128): v128 {
  const u0 = f32x4.add(v128.shuffle<f32>(c0, c1, 0, 4, 1, 5), v128.shuffle<f32>(c0, c1, 2, 6, 3, 7));
  const u1 = f32x4.add(v128.shuffle<f32>(c2, c3, 0, 4, 1, 5), v128.shuffle<f32>(c2, c3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(u0, u1, 0, 1, 4, 5), v128.shuffle<f32>(u0, u1, 2, 3, 6, 7));
}

// The element-wise kernels (math.ts, elementwise.ts, cells.ts) run 4 elements per step and
// finish a row with the same vector code on one lane (tails use load32_zero / store32_lane), so every element gets the
// same arithmetic whatever its position.

@inline export function ld(p: usize, one: bool): v128 {
  return one ? v128.load32_zero(p) : v128.load(p);
}
@inline export function st(p: usize, v: v128, one: bool): void {
  if (one) v128.store32_lane(p, v, 0);
  else v128.store(p, v);
}
