// Element-wise kernels of the contract (src/engine/kernels/types.ts): tanh, products,
// bias rows and their sums, embedding gathers and scatters.
//
// Shape legend: M rows, N columns.

import { oneMinusSq, tanh4 } from './math';
import { imin, ld, loadN, st, storeN } from './simd';

// Elementwise kernels (src/engine/kernels/types.ts)

/** g(n) = tanh(g), in place. */
export function tanh(g: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = g + (<usize>i << 2);
    v128.store(p, tanh4(v128.load(p)));
  }
  for (; i < n; i++) {
    const p = g + (<usize>i << 2);
    st(p, tanh4(ld(p, true)), true);
  }
}

/** da(n) = dh * (1 - h^2). */
export function tanhBackward(da: usize, dh: usize, h: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(da + off, f32x4.mul(v128.load(dh + off), oneMinusSq(v128.load(h + off))));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    st(da + off, f32x4.mul(ld(dh + off, true), oneMinusSq(ld(h + off, true))), true);
  }
}

/** out(n) = a * b; out may alias a (or b). */
export function mul(out: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const off = <usize>i << 2;
    v128.store(out + off, f32x4.mul(v128.load(a + off), v128.load(b + off)));
    v128.store(out + off, f32x4.mul(v128.load(a + off, 16), v128.load(b + off, 16)), 16);
    v128.store(out + off, f32x4.mul(v128.load(a + off, 32), v128.load(b + off, 32)), 32);
    v128.store(out + off, f32x4.mul(v128.load(a + off, 48), v128.load(b + off, 48)), 48);
  }
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(out + off, f32x4.mul(v128.load(a + off), v128.load(b + off)));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(out + off, load<f32>(a + off) * load<f32>(b + off));
  }
}

/** dst(n) += src(n). */
@inline export function addRow(dst: usize, src: usize, n: i32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const off = <usize>j << 2;
    v128.store(dst + off, f32x4.add(v128.load(dst + off), v128.load(src + off)));
  }
  for (; j < n; j++) {
    const off = <usize>j << 2;
    store<f32>(dst + off, load<f32>(dst + off) + load<f32>(src + off));
  }
}

/** out(M,N): every row = bias(N). */
export function fillRows(out: usize, bias: usize, M: i32, N: i32): void {
  const row = <usize>N << 2;
  for (let i = 0; i < M; i++) memory.copy(out + <usize>i * row, bias, row);
}

/** dbias(N) += column sums of d(M,N), rows added in order (as js.ts). */
export function sumRows(dbias: usize, d: usize, M: i32, N: i32): void {
  const ld = <usize>N << 2;
  let j = 0;
  for (; j + 16 <= N; j += 16) {
    const o = dbias + (<usize>j << 2);
    let c0 = v128.load(o), c1 = v128.load(o, 16), c2 = v128.load(o, 32), c3 = v128.load(o, 48);
    let p = d + (<usize>j << 2);
    for (let i = 0; i < M; i++) {
      c0 = f32x4.add(c0, v128.load(p)); c1 = f32x4.add(c1, v128.load(p, 16));
      c2 = f32x4.add(c2, v128.load(p, 32)); c3 = f32x4.add(c3, v128.load(p, 48));
      p += ld;
    }
    v128.store(o, c0); v128.store(o, c1, 16); v128.store(o, c2, 32); v128.store(o, c3, 48);
  }
  for (; j < N; j += 4) {
    const n = imin(4, N - j);
    const o = dbias + (<usize>j << 2);
    let c = loadN(o, n);
    let p = d + (<usize>j << 2);
    for (let i = 0; i < M; i++) {
      c = f32x4.add(c, loadN(p, n));
      p += ld;
    }
    storeN(o, c, n);
  }
}

/** Index + 1 of the first of ids(M) outside [0, rows), or 0 when all are valid. */
export function badId(ids: usize, M: i32, rows: i32): i32 {
  for (let i = 0; i < M; i++) {
    if (<u32>load<i32>(ids + (<usize>i << 2)) >= <u32>rows) return i + 1;
  }
  return 0;
}

/**
 * out(M,N) = (acc ? out : 0) + table[ids[i], :], table(rows,N). Returns 0, or (doing
 * nothing) 1 + the index of the first id outside [0, rows).
 */
export function gatherRows(out: usize, ids: usize, table: usize, M: i32, N: i32, acc: i32, rows: i32): i32 {
  const bad = badId(ids, M, rows);
  if (bad) return bad;
  const row = <usize>N << 2;
  for (let i = 0; i < M; i++) {
    const src = table + <usize>load<i32>(ids + (<usize>i << 2)) * row;
    const dst = out + <usize>i * row;
    if (acc) addRow(dst, src, N);
    else memory.copy(dst, src, row);
  }
  return 0;
}

/**
 * dtable[ids[i], :] += d(i, :), in order of i (repeated ids accumulate), dtable(rows,N).
 * Returns 0, or (doing nothing) 1 + the index of the first id outside [0, rows).
 */
export function scatterRows(dtable: usize, d: usize, ids: usize, M: i32, N: i32, rows: i32): i32 {
  const bad = badId(ids, M, rows);
  if (bad) return bad;
  const row = <usize>N << 2;
  for (let i = 0; i < M; i++) {
    addRow(dtable + <usize>load<i32>(ids + (<usize>i << 2)) * row, d + <usize>i * row, N);
  }
  return 0;
}
