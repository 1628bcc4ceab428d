// The blocked matrix products: one register-blocked 4x8 micro-kernel (tile), the packing of
// B (and of A^T) into contiguous panels, and the products computed on a block of the output,
// which is what a thread is handed (threads.ts).
//
// Shape legend: M, K, N generic matrix sizes; row-major float32.

import { AP_OFF, BP_OFF, KC, NC, NN, RAW_B_MAX_FLOATS, RAW_ROWS_BELOW, TMP_OFF, TN, knob, scratch } from './layout';
import { hsum4, imin, loadN, madd, storeN } from './simd';

// The micro-kernel

/** Copies a rows x cols corner of the out tile into the 4x8 buffer t, zero padded. */
export function tileIn(o: usize, ldo: usize, rows: i32, cols: i32, t: usize): void {
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 8; c++) {
      store<f32>(t + <usize>((r << 3) + c) * 4, r < rows && c < cols ? load<f32>(o + <usize>r * ldo + (<usize>c << 2)) : 0);
    }
  }
}

/** Copies the valid rows x cols corner of the 4x8 buffer t back into the out tile. */
export function tileOut(o: usize, ldo: usize, rows: i32, cols: i32, t: usize): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      store<f32>(o + <usize>r * ldo + (<usize>c << 2), load<f32>(t + <usize>((r << 3) + c) * 4));
    }
  }
}

/**
 * out[0:rows, 0:cols] = (accum ? start : 0) + A(rows, kc) @ B(kc, 8), rows <= 4, cols <= 8.
 * A row r starts at a + r*ars, consecutive k are aks bytes apart; B row k is the 8 floats at
 * b + k*bks (zero padded beyond cols). Missing rows (rows < 4) repeat row 0 and are not
 * stored, so edge tiles run the same arithmetic as full ones. start is out itself, or (lds
 * 0) a bias row that every row of the tile starts from.
 */
export function tile(o: usize, ldo: usize, a: usize, ars: usize, aks: usize, b: usize, bks: usize, kc: i32, rows: i32, cols: i32, accum: bool, start: usize = 0, lds: usize = 0): void {
  const full = rows == 4 && cols == 8;
  let a0 = a;
  let a1 = rows > 1 ? a + ars : a;
  let a2 = rows > 2 ? a + 2 * ars : a;
  let a3 = rows > 3 ? a + 3 * ars : a;
  const t = scratch + TMP_OFF;
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  if (accum) {
    let src = start ? start : o;
    let ld = start ? lds : ldo;
    if (!full) {
      tileIn(src, ld, rows, cols, t);
      src = t;
      ld = 32;
    }
    c00 = v128.load(src); c01 = v128.load(src, 16); src += ld;
    c10 = v128.load(src); c11 = v128.load(src, 16); src += ld;
    c20 = v128.load(src); c21 = v128.load(src, 16); src += ld;
    c30 = v128.load(src); c31 = v128.load(src, 16);
  }
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let s = v128.load32_splat(a0);
    c00 = madd(s, b0, c00); c01 = madd(s, b1, c01);
    s = v128.load32_splat(a1);
    c10 = madd(s, b0, c10); c11 = madd(s, b1, c11);
    s = v128.load32_splat(a2);
    c20 = madd(s, b0, c20); c21 = madd(s, b1, c21);
    s = v128.load32_splat(a3);
    c30 = madd(s, b0, c30); c31 = madd(s, b1, c31);
    a0 += aks; a1 += aks; a2 += aks; a3 += aks;
    b += bks;
  }
  let dst = full ? o : t;
  const ld = full ? ldo : 32;
  v128.store(dst, c00); v128.store(dst, c01, 16); dst += ld;
  v128.store(dst, c10); v128.store(dst, c11, 16); dst += ld;
  v128.store(dst, c20); v128.store(dst, c21, 16); dst += ld;
  v128.store(dst, c30); v128.store(dst, c31, 16);
  if (!full) tileOut(o, ldo, rows, cols, t);
}

// ---------------------------------------------------------------------------------------
// Packing

/**
 * Packs B(kc, nc) with rows ldb bytes apart (NN, TN: B is (K,N)) into panels of 8 columns:
 * dst[p][k][0..8], the last panel zero padded.
 */
export function packB(dst: usize, b: usize, ldb: usize, kc: i32, nc: i32): void {
  const pstride = <usize>kc * 32;
  const fullPanels = nc >> 3;
  const rest = nc & 7;
  for (let k = 0; k < kc; k++) {
    const src = b + <usize>k * ldb;
    let d = dst + <usize>k * 32;
    for (let p = 0; p < fullPanels; p++) {
      const s = src + (<usize>p << 5);
      v128.store(d, v128.load(s));
      v128.store(d, v128.load(s, 16), 16);
      d += pstride;
    }
    if (rest) {
      const s = src + (<usize>fullPanels << 5);
      for (let c = 0; c < 8; c++) store<f32>(d + (<usize>c << 2), c < rest ? load<f32>(s + (<usize>c << 2)) : 0);
    }
  }
}

/** Row of B^T for packBT: 4 floats from row p if it exists, else zeros. */
@inline export function rowOrZero(p: usize, valid: bool): v128 {
  return valid ? v128.load(p) : f32x4.splat(0);
}

/**
 * Packs the transpose of B(nc, kc) with rows ldb bytes apart (NT: B is (N,K)) into the
 * same panel layout: dst[p][k][c] = B[8p + c][k], zero padded beyond nc.
 */
export function packBT(dst: usize, b: usize, ldb: usize, kc: i32, nc: i32): void {
  const panels = (nc + 7) >> 3;
  const k4 = kc & ~3;
  for (let p = 0; p < panels; p++) {
    const pd = dst + <usize>p * <usize>kc * 32;
    for (let g = 0; g < 2; g++) {
      const j = (p << 3) + (g << 2); // first of the 4 source rows
      const v0 = j < nc, v1 = j + 1 < nc, v2 = j + 2 < nc, v3 = j + 3 < nc;
      const r0 = b + <usize>j * ldb;
      const r1 = r0 + ldb, r2 = r0 + 2 * ldb, r3 = r0 + 3 * ldb;
      const gd = pd + (<usize>g << 4);
      for (let k = 0; k < k4; k += 4) {
        const off = <usize>k << 2;
        const x0 = rowOrZero(r0 + off, v0), x1 = rowOrZero(r1 + off, v1);
        const x2 = rowOrZero(r2 + off, v2), x3 = rowOrZero(r3 + off, v3);
        // 4x4 transpose: rows j..j+3 x cols k..k+3 -> rows k..k+3 x cols j..j+3
        const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
        const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
        const d = gd + (<usize>k << 5);
        v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
        v128.store(d, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 32);
        v128.store(d, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 64);
        v128.store(d, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 96);
      }
      for (let k = k4; k < kc; k++) {
        const off = <usize>k << 2;
        const d = gd + (<usize>k << 5);
        store<f32>(d, v0 ? load<f32>(r0 + off) : 0);
        store<f32>(d, v1 ? load<f32>(r1 + off) : 0, 4);
        store<f32>(d, v2 ? load<f32>(r2 + off) : 0, 8);
        store<f32>(d, v3 ? load<f32>(r3 + off) : 0, 12);
      }
    }
  }
}

/** TN: packs A^T rows i..i+rows (A is (K,M), lda bytes per row) for kc k's: dst[k][0..4]. */
export function packAT(dst: usize, a: usize, lda: usize, kc: i32, rows: i32): void {
  if (rows == 4) {
    for (let k = 0; k < kc; k++) v128.store(dst + (<usize>k << 4), v128.load(a + <usize>k * lda));
  } else {
    for (let k = 0; k < kc; k++) {
      const s = a + <usize>k * lda;
      const d = dst + (<usize>k << 4);
      for (let r = 0; r < 4; r++) store<f32>(d + (<usize>r << 2), r < rows ? load<f32>(s + (<usize>r << 2)) : 0);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Products on a block of the output: rows [i0, i1), columns [j0, j1). Blocks handed to
// threads start on multiples of 8 in both directions, so edge tiles only occur at the
// matrix edges and every element sees the same code whichever thread computes it.

/** Zeroes out rows [i0,i1) x cols [j0,j1) (a product with K = 0 and acc = false). */
export function zeroBlock(o: usize, N: i32, i0: i32, i1: i32, j0: i32, j1: i32): void {
  for (let i = i0; i < i1; i++) memory.fill(o + (<usize>i * <usize>N + <usize>j0) * 4, 0, <usize>(j1 - j0) * 4);
}

/**
 * One output row of a matrix-vector style product on B in place (no packing):
 * o[j0:j1] = (acc ? start : 0) + sum_k a[k*aks] * B[k, j], B row k at b + k*ldb; start is o
 * itself, or a bias row.
 */
export function rowTimesB(o: usize, a: usize, aks: usize, b: usize, ldb: usize, K: i32, j0: i32, j1: i32, acc: bool, start: usize = 0): void {
  const from = start ? start : o;
  let j = j0;
  for (; j + 32 <= j1; j += 32) {
    const oj = o + (<usize>j << 2);
    const sj = from + (<usize>j << 2);
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
    let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
    if (acc) {
      c0 = v128.load(sj); c1 = v128.load(sj, 16); c2 = v128.load(sj, 32); c3 = v128.load(sj, 48);
      c4 = v128.load(sj, 64); c5 = v128.load(sj, 80); c6 = v128.load(sj, 96); c7 = v128.load(sj, 112);
    }
    let ap = a;
    let bp = b + (<usize>j << 2);
    for (let k = 0; k < K; k++) {
      const s = v128.load32_splat(ap);
      c0 = madd(s, v128.load(bp), c0); c1 = madd(s, v128.load(bp, 16), c1);
      c2 = madd(s, v128.load(bp, 32), c2); c3 = madd(s, v128.load(bp, 48), c3);
      c4 = madd(s, v128.load(bp, 64), c4); c5 = madd(s, v128.load(bp, 80), c5);
      c6 = madd(s, v128.load(bp, 96), c6); c7 = madd(s, v128.load(bp, 112), c7);
      ap += aks;
      bp += ldb;
    }
    v128.store(oj, c0); v128.store(oj, c1, 16); v128.store(oj, c2, 32); v128.store(oj, c3, 48);
    v128.store(oj, c4, 64); v128.store(oj, c5, 80); v128.store(oj, c6, 96); v128.store(oj, c7, 112);
  }
  for (; j < j1; j += 4) {
    const n = imin(4, j1 - j);
    const oj = o + (<usize>j << 2);
    let c = acc ? loadN(from + (<usize>j << 2), n) : f32x4.splat(0);
    let ap = a;
    let bp = b + (<usize>j << 2);
    if (n == 4) {
      for (let k = 0; k < K; k++) {
        c = madd(v128.load32_splat(ap), v128.load(bp), c);
        ap += aks;
        bp += ldb;
      }
    } else {
      for (let k = 0; k < K; k++) {
        c = madd(v128.load32_splat(ap), loadN(bp, n), c);
        ap += aks;
        bp += ldb;
      }
    }
    storeN(oj, c, n);
  }
}

/**
 * The blocked product behind matmul and matmulTN: out(M,N) (+)= A @ B(K,N) where A row i,
 * step k is at a + i*ars + k*aks (NN: ars = K*4, aks = 4; TN: ars = 4, aks = M*4). With a
 * bias (N floats; NN without acc) out starts as the bias in every row instead of 0: the bits
 * of filling the rows with it and accumulating, without the pass that fills them.
 */
export function gemmBlock(o: usize, a: usize, ars: usize, aks: usize, b: usize, M: i32, K: i32, N: i32, acc: bool, transA: bool, i0: i32, i1: i32, j0: i32, j1: i32, bias: usize = 0, rawB: bool = false): void {
  if (K <= 0) {
    if (bias) {
      for (let i = i0; i < i1; i++) memory.copy(o + (<usize>i * <usize>N + <usize>j0) * 4, bias + (<usize>j0 << 2), <usize>(j1 - j0) * 4);
    } else if (!acc) zeroBlock(o, N, i0, i1, j0, j1);
    return;
  }
  const ldo = <usize>N << 2;
  const ldb = <usize>N << 2;
  // B in place (no packing) when few rows use each B element (packing would cost as much as
  // it saves), or when B is small enough to stay in L2, its rows are 32-byte multiples and
  // the rows are not so many that the copy is free anyway (measured: the contiguous packed
  // panels win from ~1000 rows on), or when the caller says so (rawB: a layer loop's rows,
  // which read their Wh every step). Any path gives the same bits.
  const smallB = !transA && (N & 7) == 0 && M < 1024 && <i64>K * <i64>N <= <i64>knob(RAW_B_MAX_FLOATS);
  if (M < knob(RAW_ROWS_BELOW) || smallB || rawB) {
    let jt = j0; // columns from jt on: one row at a time
    if (M >= 4) {
      // 4x8 tiles straight on B (8-column panels within the rows of B), the rest by rows; a
      // few rows (a layer loop's part) take each panel down all their rows while it is in L1,
      // more rows keep their A tile while the panels stream by
      jt = j0 + ((j1 - j0) & ~7);
      if (i1 - i0 <= 16) {
        for (let j = j0; j < jt; j += 8) {
          for (let i = i0; i < i1; i += 4) {
            tile(o + <usize>i * ldo + (<usize>j << 2), ldo, a + <usize>i * ars, ars, aks, b + (<usize>j << 2), ldb, K, imin(4, i1 - i), 8, acc || bias != 0, bias ? bias + (<usize>j << 2) : 0);
          }
        }
      } else {
        for (let i = i0; i < i1; i += 4) {
          const ai = a + <usize>i * ars;
          const oi = o + <usize>i * ldo;
          for (let j = j0; j < jt; j += 8) {
            tile(oi + (<usize>j << 2), ldo, ai, ars, aks, b + (<usize>j << 2), ldb, K, imin(4, i1 - i), 8, acc || bias != 0, bias ? bias + (<usize>j << 2) : 0);
          }
        }
      }
    }
    if (jt < j1) {
      for (let i = i0; i < i1; i++) rowTimesB(o + <usize>i * ldo, a + <usize>i * ars, aks, b, ldb, K, jt, j1, acc || bias != 0, bias);
    }
    return;
  }
  const bp = scratch + BP_OFF;
  const ap = scratch + AP_OFF;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = imin(KC, K - k0);
    const load = acc || k0 > 0 || bias != 0;
    const fromBias = bias != 0 && k0 == 0;
    for (let jb = j0; jb < j1; jb += NC) {
      const nc = imin(NC, j1 - jb);
      packB(bp, b + <usize>k0 * ldb + (<usize>jb << 2), ldb, kc, nc);
      for (let i = i0; i < i1; i += 4) {
        const rows = imin(4, i1 - i);
        let ai = a + <usize>i * ars + <usize>k0 * aks;
        let rs = ars;
        let ks = aks;
        if (transA) {
          // A^T rows are 4 adjacent floats at a stride of M*4 bytes: copy them together so
          // the panel stays in L1 (with M a power of two its lines would fall into a couple
          // of L1 sets and be evicted before the next tile uses them)
          packAT(ap, ai, aks, kc, rows);
          ai = ap;
          rs = 4;
          ks = 16;
        }
        const oi = o + <usize>i * ldo + (<usize>jb << 2);
        for (let p = 0; p < nc; p += 8) {
          tile(oi + (<usize>p << 2), ldo, ai, rs, ks, bp + <usize>p * <usize>kc * 4, 32, kc, rows, imin(8, nc - p), load, fromBias ? bias + (<usize>(jb + p) << 2) : 0);
        }
      }
    }
  }
}

/**
 * matmulNT on a block: out(M,N) (+)= A(M,K) @ B(N,K)^T. B is transposed into the packed
 * panel layout, then the same micro-kernel as matmul runs. bpk, when not 0, is that packing
 * done already for all of B (j0 = 0, N <= NC): k block k0 at bpk + k0 * (N rounded up to 8) floats.
 */
export function gemmNTBlock(o: usize, a: usize, b: usize, M: i32, K: i32, N: i32, acc: bool, i0: i32, i1: i32, j0: i32, j1: i32, bpk: usize = 0): void {
  if (K <= 0) {
    if (!acc) zeroBlock(o, N, i0, i1, j0, j1);
    return;
  }
  const ldo = <usize>N << 2;
  const lda = <usize>K << 2;
  if (M < knob(RAW_ROWS_BELOW)) {
    // few rows: dot products on B in place (sums in another order than the packed path, so
    // this is decided on M, never on the block, to keep threads bit-identical)
    for (let i = i0; i < i1; i++) rowDotB(o + <usize>i * ldo, a + <usize>i * lda, b, K, j0, j1, acc);
    return;
  }
  let bp = scratch + BP_OFF;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = imin(KC, K - k0);
    const load = acc || k0 > 0;
    for (let jb = j0; jb < j1; jb += NC) {
      const nc = imin(NC, j1 - jb);
      if (bpk) bp = bpk + <usize>k0 * <usize>((N + 7) & ~7) * 4;
      else packBT(bp, b + <usize>jb * lda + (<usize>k0 << 2), lda, kc, nc);
      for (let i = i0; i < i1; i += 4) {
        const rows = imin(4, i1 - i);
        const ai = a + <usize>i * lda + (<usize>k0 << 2);
        const oi = o + <usize>i * ldo + (<usize>jb << 2);
        for (let p = 0; p < nc; p += 8) {
          tile(oi + (<usize>p << 2), ldo, ai, lda, 4, bp + <usize>p * <usize>kc * 4, 32, kc, rows, imin(8, nc - p), load);
        }
      }
    }
  }
}

/**
 * One output row of matmulNT without packing: o[j] = (acc ? o[j] : 0) + dot(a, B[j,:]) for
 * j in [j0, j1), four rows of B at a time, k in steps of 4 (the last step zero padded).
 */
export function rowDotB(o: usize, a: usize, b: usize, K: i32, j0: i32, j1: i32, acc: bool): void {
  const ldb = <usize>K << 2;
  const k4 = K & ~3;
  const kr = K - k4;
  for (let j = j0; j < j1; j += 4) {
    const n = imin(4, j1 - j);
    const b0 = b + <usize>j * ldb;
    const b1 = n > 1 ? b0 + ldb : b0;
    const b2 = n > 2 ? b0 + 2 * ldb : b0;
    const b3 = n > 3 ? b0 + 3 * ldb : b0;
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
    for (let k = 0; k < k4; k += 4) {
      const off = <usize>k << 2;
      const x = v128.load(a + off);
      c0 = madd(x, v128.load(b0 + off), c0);
      c1 = madd(x, v128.load(b1 + off), c1);
      c2 = madd(x, v128.load(b2 + off), c2);
      c3 = madd(x, v128.load(b3 + off), c3);
    }
    if (kr) {
      const off = <usize>k4 << 2;
      const x = loadN(a + off, kr);
      c0 = madd(x, loadN(b0 + off, kr), c0);
      c1 = madd(x, loadN(b1 + off, kr), c1);
      c2 = madd(x, loadN(b2 + off, kr), c2);
      c3 = madd(x, loadN(b3 + off, kr), c3);
    }
    let r = hsum4(c0, c1, c2, c3);
    const oj = o + (<usize>j << 2);
    if (acc) r = f32x4.add(loadN(oj, n), r);
    storeN(oj, r, n);
  }
}

/** Runs one kind of product on a block of its output (bias: NN without acc only). */
export function productBlock(kind: i32, o: usize, a: usize, b: usize, M: i32, K: i32, N: i32, acc: bool, i0: i32, i1: i32, j0: i32, j1: i32, bias: usize = 0): void {
  if (kind == NN) gemmBlock(o, a, <usize>K << 2, 4, b, M, K, N, acc, false, i0, i1, j0, j1, bias);
  else if (kind == TN) gemmBlock(o, a, 4, <usize>M << 2, b, M, K, N, true, true, i0, i1, j0, j1);
  else gemmNTBlock(o, a, b, M, K, N, acc, i0, i1, j0, j1);
}
