// charrnn WebAssembly SIMD kernels (AssemblyScript, 128-bit SIMD, float32).
// Contract: src/src/engine/kernels/types.ts; semantics: src/src/engine/kernels/js.ts (the reference); JS side:
// src/src/engine/kernels/wasm.ts. Built by `npm run build` with assembly/asconfig.json.
//
// Shape legend: B batch, H hidden, G gate width (4H lstm, 3H gru), V vocab; M, K, N generic
// matrix sizes. Matrices are row-major float32. Every pointer is a byte address in the
// memory; every size is an element count. "o" out, "a"/"b" operands, "ld*" row strides in
// bytes, "ks" the byte step from one k to the next.
//
// Memory map (laid out by wasm.ts and handed to init() in every thread):
//   [0, heapBase)  nothing: this module has no static data, so instantiating it again in each
//                  worker thread writes nothing into the shared memory
//   ctrl           CTRL_BYTES: the job block the threads share (see "Threads" below)
//   scratch[t]     SCRATCH_BYTES per thread: packed panels of B and A, a 4x8 tile buffer
//   base ...       the arena (all model buffers)
//
// The matrix products all run one register-blocked micro-kernel, tile(): a 4x8 block of
// the output held in 8 v128 accumulators while k runs, fed by a packed copy of B (kc rows
// of 8 floats, contiguous) so its loads stream through L1 whatever N is (N*4 a multiple of
// 4 KiB would otherwise alias every row of B into the same L1 set). Each output element is
// computed as out + a0*b0 + a1*b1 + ... in k order in one f32 lane whichever variant of the
// code touches it, so results do not depend on how the work is split between threads.
// With --enable relaxed-simd (dist/kernels-relaxed.wasm) madd() is a fused multiply-add.

// ---------------------------------------------------------------------------------------
// Tuning

/** k block: rows of B packed at a time (packed A panel = KC*16 bytes, stays in L1). */
const KC: i32 = 256;
/** n block: columns of B packed at a time (packed B block = KC*NC*4 = 256 KiB, in L2). */
const NC: i32 = 256;
// (KC 128..384 x NC 256..1024 all measured within noise of each other on this machine.)

// The heuristics live in the job block (TUNE below), shared by all threads: each thread
// must take the same decisions for bit-identical results. Knob numbers (defaults: see
// defaultTuning; they are in the Tuning interface of wasm.ts too):
/** 0: products with fewer output rows than this read B in place (packing would not pay). */
const RAW_ROWS_BELOW = 0;
/** 1: matmul reads B in place, unpacked, when it has at most this many floats (fits L2). */
const RAW_B_MAX_FLOATS = 1;
/** 2: products below this many multiply-adds (M*K*N) run on the calling thread only. */
const SPLIT_MIN_MACS = 2;
/** 3: recurrent-cell steps below this many elements (B*H) run on the calling thread only. */
const SPLIT_MIN_CELL = 3;
/** 4, 5: spins (atomic loads) before a waiting worker / main thread sleeps on the futex. */
const SPIN_WORKER = 4;
const SPIN_MAIN = 5;
const KNOBS = 6;

// Scratch layout per thread (byte offsets).
const BP_OFF: usize = 0;
const AP_OFF: usize = <usize>KC * <usize>NC * 4;
const TMP_OFF: usize = AP_OFF + <usize>KC * 16;
const SCRATCH_BYTES: usize = TMP_OFF + 128 + 64;

// Job block layout (byte offsets), one cache line each: what the spinning workers read
// (SEQ, TUNE) is apart from what changes during a job (TICKET, DONE).
const CTRL_BYTES: usize = 320;
const SEQ: usize = 0; // bumped for every job; workers sleep on it
const TICKET: usize = 64; // (parts << 16) | next part to claim
const DONE: usize = 128; // parts finished; the main thread sleeps on it
const QUIT: usize = 132;
const FAILED: usize = 136; // a worker trapped in a part (see workerFailed)
const ARGS: usize = 192; // the job: kind and up to 15 i32 arguments
const TUNE: usize = 256; // KNOBS i32

const NN: i32 = 0;
const TN: i32 = 1;
const NT: i32 = 2;

// Per instance (per thread): where this thread's scratch and the shared job block are.
let scratch: usize = 0;
let ctrl: usize = 0;
let nthreads: i32 = 1;

export function heapBase(): usize {
  return __heap_base;
}
export function ctrlBytes(): usize {
  return CTRL_BYTES;
}
export function scratchBytes(): usize {
  return SCRATCH_BYTES;
}
/** Called once per instance: the shared job block, this thread's scratch, the thread count. */
export function init(ctrlPtr: usize, scratchPtr: usize, threads: i32): void {
  ctrl = ctrlPtr;
  scratch = scratchPtr;
  nthreads = threads;
}

/** Main thread, once: the default heuristics (measured on 2 cores, see bench/). */
export function defaultTuning(): void {
  setTuning(RAW_ROWS_BELOW, 12);
  setTuning(RAW_B_MAX_FLOATS, 131072);
  setTuning(SPLIT_MIN_MACS, 524288);
  setTuning(SPLIT_MIN_CELL, 4096);
  setTuning(SPIN_WORKER, 1 << 20); // ~0.5 ms
  setTuning(SPIN_MAIN, 1 << 22); // ~2 ms
}

/** Sets heuristic `knob` to value (a negative value only reads it); returns the old value. */
export function setTuning(knob: i32, value: i32): i32 {
  if (<u32>knob >= <u32>KNOBS) return -1;
  const p = ctrl + TUNE + (<usize>knob << 2);
  const old = atomic.load<i32>(p);
  if (value >= 0) atomic.store<i32>(p, value);
  return old;
}

@inline function knob(k: i32): i32 {
  return load<i32>(ctrl + TUNE + (<usize>k << 2));
}

// ---------------------------------------------------------------------------------------
// Small helpers

@inline function madd(a: v128, b: v128, c: v128): v128 {
  // c + a*b; fused (one rounding) when built with relaxed SIMD
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

@inline function imin(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

/** n (1..4) floats from p into the low lanes, zeros above: never reads past p + 4n. */
@inline function loadN(p: usize, n: i32): v128 {
  if (n >= 4) return v128.load(p);
  let v = v128.load32_zero(p);
  if (n > 1) v = v128.load32_lane(p, v, 1, 4);
  if (n > 2) v = v128.load32_lane(p, v, 2, 8);
  return v;
}

/** Stores the low n (1..4) lanes of v at p. */
@inline function storeN(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, v);
    return;
  }
  v128.store32_lane(p, v, 0);
  if (n > 1) v128.store32_lane(p, v, 1, 4);
  if (n > 2) v128.store32_lane(p, v, 2, 8);
}

/** [sum c0, sum c1, sum c2, sum c3]: four horizontal sums in one vector. */
@inline function hsum4(c0: v128, c1: v128, c2: v128, c3: v128): v128 {
  const u0 = f32x4.add(v128.shuffle<f32>(c0, c1, 0, 4, 1, 5), v128.shuffle<f32>(c0, c1, 2, 6, 3, 7));
  const u1 = f32x4.add(v128.shuffle<f32>(c2, c3, 0, 4, 1, 5), v128.shuffle<f32>(c2, c3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(u0, u1, 0, 1, 4, 5), v128.shuffle<f32>(u0, u1, 2, 3, 6, 7));
}

// ---------------------------------------------------------------------------------------
// The micro-kernel

/** Copies a rows x cols corner of the out tile into the 4x8 buffer t, zero padded. */
function tileIn(o: usize, ldo: usize, rows: i32, cols: i32, t: usize): void {
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 8; c++) {
      store<f32>(t + <usize>((r << 3) + c) * 4, r < rows && c < cols ? load<f32>(o + <usize>r * ldo + (<usize>c << 2)) : 0);
    }
  }
}

/** Copies the valid rows x cols corner of the 4x8 buffer t back into the out tile. */
function tileOut(o: usize, ldo: usize, rows: i32, cols: i32, t: usize): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      store<f32>(o + <usize>r * ldo + (<usize>c << 2), load<f32>(t + <usize>((r << 3) + c) * 4));
    }
  }
}

/**
 * out[0:rows, 0:cols] = (accum ? out : 0) + A(rows, kc) @ B(kc, 8), rows <= 4, cols <= 8.
 * A row r starts at a + r*ars, consecutive k are aks bytes apart; B row k is the 8 floats at
 * b + k*bks (zero padded beyond cols). Missing rows (rows < 4) repeat row 0 and are not
 * stored, so edge tiles run the same arithmetic as full ones.
 */
function tile(o: usize, ldo: usize, a: usize, ars: usize, aks: usize, b: usize, bks: usize, kc: i32, rows: i32, cols: i32, accum: bool): void {
  const full = rows == 4 && cols == 8;
  let a0 = a;
  let a1 = rows > 1 ? a + ars : a;
  let a2 = rows > 2 ? a + 2 * ars : a;
  let a3 = rows > 3 ? a + 3 * ars : a;
  const t = scratch + TMP_OFF;
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  if (accum) {
    let src = o;
    let ld = ldo;
    if (!full) {
      tileIn(o, ldo, rows, cols, t);
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
function packB(dst: usize, b: usize, ldb: usize, kc: i32, nc: i32): void {
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
@inline function rowOrZero(p: usize, valid: bool): v128 {
  return valid ? v128.load(p) : f32x4.splat(0);
}

/**
 * Packs the transpose of B(nc, kc) with rows ldb bytes apart (NT: B is (N,K)) into the
 * same panel layout: dst[p][k][c] = B[8p + c][k], zero padded beyond nc.
 */
function packBT(dst: usize, b: usize, ldb: usize, kc: i32, nc: i32): void {
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
function packAT(dst: usize, a: usize, lda: usize, kc: i32, rows: i32): void {
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
function zeroBlock(o: usize, N: i32, i0: i32, i1: i32, j0: i32, j1: i32): void {
  for (let i = i0; i < i1; i++) memory.fill(o + (<usize>i * <usize>N + <usize>j0) * 4, 0, <usize>(j1 - j0) * 4);
}

/**
 * One output row of a matrix-vector style product on B in place (no packing):
 * o[j0:j1] = (acc ? o : 0) + sum_k a[k*aks] * B[k, j], B row k at b + k*ldb.
 */
function rowTimesB(o: usize, a: usize, aks: usize, b: usize, ldb: usize, K: i32, j0: i32, j1: i32, acc: bool): void {
  let j = j0;
  for (; j + 32 <= j1; j += 32) {
    const oj = o + (<usize>j << 2);
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
    let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
    if (acc) {
      c0 = v128.load(oj); c1 = v128.load(oj, 16); c2 = v128.load(oj, 32); c3 = v128.load(oj, 48);
      c4 = v128.load(oj, 64); c5 = v128.load(oj, 80); c6 = v128.load(oj, 96); c7 = v128.load(oj, 112);
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
    let c = acc ? loadN(oj, n) : f32x4.splat(0);
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
 * step k is at a + i*ars + k*aks (NN: ars = K*4, aks = 4; TN: ars = 4, aks = M*4).
 */
function gemmBlock(o: usize, a: usize, ars: usize, aks: usize, b: usize, M: i32, K: i32, N: i32, acc: bool, transA: bool, i0: i32, i1: i32, j0: i32, j1: i32): void {
  if (K <= 0) {
    if (!acc) zeroBlock(o, N, i0, i1, j0, j1);
    return;
  }
  const ldo = <usize>N << 2;
  const ldb = <usize>N << 2;
  // B in place (no packing) when few rows use each B element (packing would cost as much as
  // it saves), or when B is small enough to stay in L2, its rows are 32-byte multiples and
  // the rows are not so many that the copy is free anyway (measured: the contiguous packed
  // panels win from ~1000 rows on). Any path gives the same bits.
  const smallB = !transA && (N & 7) == 0 && M < 1024 && <i64>K * <i64>N <= <i64>knob(RAW_B_MAX_FLOATS);
  if (M < knob(RAW_ROWS_BELOW) || smallB) {
    let jt = j0; // columns from jt on: one row at a time
    if (M >= 4) {
      // 4x8 tiles straight on B (8-column panels within the rows of B), the rest by rows
      jt = j0 + ((j1 - j0) & ~7);
      for (let i = i0; i < i1; i += 4) {
        const ai = a + <usize>i * ars;
        const oi = o + <usize>i * ldo;
        for (let j = j0; j < jt; j += 8) {
          tile(oi + (<usize>j << 2), ldo, ai, ars, aks, b + (<usize>j << 2), ldb, K, imin(4, i1 - i), 8, acc);
        }
      }
    }
    if (jt < j1) {
      for (let i = i0; i < i1; i++) rowTimesB(o + <usize>i * ldo, a + <usize>i * ars, aks, b, ldb, K, jt, j1, acc);
    }
    return;
  }
  const bp = scratch + BP_OFF;
  const ap = scratch + AP_OFF;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = imin(KC, K - k0);
    const load = acc || k0 > 0;
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
          tile(oi + (<usize>p << 2), ldo, ai, rs, ks, bp + <usize>p * <usize>kc * 4, 32, kc, rows, imin(8, nc - p), load);
        }
      }
    }
  }
}

/**
 * matmulNT on a block: out(M,N) (+)= A(M,K) @ B(N,K)^T. B is transposed into the packed
 * panel layout, then the same micro-kernel as matmul runs.
 */
function gemmNTBlock(o: usize, a: usize, b: usize, M: i32, K: i32, N: i32, acc: bool, i0: i32, i1: i32, j0: i32, j1: i32): void {
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
  const bp = scratch + BP_OFF;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = imin(KC, K - k0);
    const load = acc || k0 > 0;
    for (let jb = j0; jb < j1; jb += NC) {
      const nc = imin(NC, j1 - jb);
      packBT(bp, b + <usize>jb * lda + (<usize>k0 << 2), lda, kc, nc);
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
function rowDotB(o: usize, a: usize, b: usize, K: i32, j0: i32, j1: i32, acc: bool): void {
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

/** Runs one kind of product on a block of its output. */
function productBlock(kind: i32, o: usize, a: usize, b: usize, M: i32, K: i32, N: i32, acc: bool, i0: i32, i1: i32, j0: i32, j1: i32): void {
  if (kind == NN) gemmBlock(o, a, <usize>K << 2, 4, b, M, K, N, acc, false, i0, i1, j0, j1);
  else if (kind == TN) gemmBlock(o, a, 4, <usize>M << 2, b, M, K, N, true, true, i0, i1, j0, j1);
  else gemmNTBlock(o, a, b, M, K, N, acc, i0, i1, j0, j1);
}

// ---------------------------------------------------------------------------------------
// Threads. Every thread runs its own instance of this module on the shared memory. The
// calling (main) thread publishes a job in the block at ctrl: its kind and arguments,
// DONE = 0 and TICKET = (parts << 16) | 0, then bumps SEQ and wakes the workers. Everybody,
// main thread included, claims parts by compare-and-swap on TICKET (a part is claimed only
// while the ticket still belongs to the current job, so the arguments read after the claim
// are the right ones), computes the part and increments DONE; the main thread returns when
// DONE reaches parts. A worker that is slow to wake simply finds no part left. Waiting
// threads spin for a while (the next job usually follows within microseconds), then sleep
// on the futex (memory.atomic.wait32).
//
// Jobs: the three products, split into row or column blocks starting on multiples of 8
// (see above), and the recurrent cells, split by batch rows (elementwise: any split gives
// the same bits).

const LSTM_F: i32 = 3;
const LSTM_B: i32 = 4;
const GRU_F: i32 = 5;
const GRU_B: i32 = 6;

@inline function arg(i: i32): i32 {
  return load<i32>(ctrl + ARGS + (<usize>i << 2));
}
@inline function ptr(i: i32): usize {
  return load<usize>(ctrl + ARGS + (<usize>i << 2));
}
@inline function setArg(i: i32, v: i32): void {
  store<i32>(ctrl + ARGS + (<usize>i << 2), v);
}
@inline function setPtr(i: i32, v: usize): void {
  store<usize>(ctrl + ARGS + (<usize>i << 2), v);
}
/** First row (or column) of part `part` of `parts`: size cut in units of `unit`, as evenly as possible. */
@inline function partStart(part: i32, parts: i32, size: i32, unit: i32): i32 {
  const units = (size + unit - 1) / unit;
  return imin(<i32>((<i64>part * units) / parts) * unit, size);
}

function computePart(part: i32, parts: i32): void {
  const kind = arg(0);
  if (kind <= NT) {
    // args: kind, out, a, b, M, K, N, acc, splitRows
    const M = arg(4), K = arg(5), N = arg(6);
    const acc = arg(7) != 0;
    const splitRows = arg(8) != 0;
    const size = splitRows ? M : N;
    const s0 = partStart(part, parts, size, 8);
    const s1 = partStart(part + 1, parts, size, 8);
    if (s0 >= s1) return;
    if (splitRows) productBlock(kind, ptr(1), ptr(2), ptr(3), M, K, N, acc, s0, s1, 0, N);
    else productBlock(kind, ptr(1), ptr(2), ptr(3), M, K, N, acc, 0, M, s0, s1);
    return;
  }
  // recurrent cells: the last two args are B and H; split the B rows
  const nargs = kind == GRU_B ? 9 : kind == LSTM_B ? 8 : 6;
  const B = arg(nargs - 1);
  const H = arg(nargs);
  const b0 = partStart(part, parts, B, 1);
  const b1 = partStart(part + 1, parts, B, 1);
  if (kind == LSTM_F) lstmForwardRows(ptr(1), ptr(2), ptr(3), ptr(4), b0, b1, H);
  else if (kind == LSTM_B) lstmBackwardRows(ptr(1), ptr(2), ptr(3), ptr(4), ptr(5), ptr(6), b0, b1, H);
  else if (kind == GRU_F) gruForwardRows(ptr(1), ptr(2), ptr(3), ptr(4), b0, b1, H);
  else gruBackwardRows(ptr(1), ptr(2), ptr(3), ptr(4), ptr(5), ptr(6), ptr(7), b0, b1, H);
}

/** Claims and computes parts of the current job until none is left. */
function claimParts(): void {
  while (true) {
    const t = atomic.load<i32>(ctrl + TICKET);
    const next = t & 0xffff;
    const parts = t >>> 16;
    if (next >= parts) return;
    if (atomic.cmpxchg<i32>(ctrl + TICKET, t, t + 1) != t) continue;
    computePart(next, parts);
    if (atomic.add<i32>(ctrl + DONE, 1) + 1 == parts) atomic.notify(ctrl + DONE);
  }
}

/** A worker thread's whole life: wait for jobs, help with them, return when told to quit. */
export function workerLoop(): void {
  let seen = atomic.load<i32>(ctrl + SEQ);
  while (!atomic.load<i32>(ctrl + QUIT)) {
    let s = atomic.load<i32>(ctrl + SEQ);
    let spins = 0;
    const maxSpins = knob(SPIN_WORKER);
    while (s == seen) {
      if (++spins > maxSpins) {
        memory.atomic.wait32(ctrl + SEQ, seen, -1);
        spins = 0;
      }
      s = atomic.load<i32>(ctrl + SEQ);
    }
    seen = s;
    claimParts();
  }
}

/**
 * A worker whose workerLoop trapped (it can only trap inside a part it had claimed) calls
 * this so the main thread does not wait forever for that part; the main thread then traps
 * too instead of returning a half-computed result.
 */
export function workerFailed(): void {
  atomic.store<i32>(ctrl + FAILED, 1);
  atomic.add<i32>(ctrl + DONE, 1);
  atomic.notify(ctrl + DONE);
}

/** Main thread: tells the workers to return from workerLoop. */
export function stopWorkers(): void {
  atomic.store<i32>(ctrl + QUIT, 1);
  atomic.add<i32>(ctrl + SEQ, 1);
  atomic.notify(ctrl + SEQ, -1);
}

/** Main thread: runs the job whose args are set, in `parts` parts, with the workers. */
function runJob(kind: i32, parts: i32): void {
  setArg(0, kind);
  atomic.store<i32>(ctrl + DONE, 0);
  atomic.store<i32>(ctrl + TICKET, parts << 16);
  atomic.add<i32>(ctrl + SEQ, 1);
  atomic.notify(ctrl + SEQ, -1);
  claimParts();
  // the remaining parts are being computed by workers: wait for them
  let spins = 0;
  const maxSpins = knob(SPIN_MAIN);
  let d = atomic.load<i32>(ctrl + DONE);
  while (d < parts) {
    if (++spins > maxSpins) {
      memory.atomic.wait32(ctrl + DONE, d, 1000000); // 1 ms, then look again
      spins = 0;
    }
    d = atomic.load<i32>(ctrl + DONE);
  }
  if (atomic.load<i32>(ctrl + FAILED)) unreachable(); // a worker trapped: see its error
}

/** Parts to split a recurrent-cell step of B rows x `work` elements into (1: don't). */
@inline function cellParts(B: i32, work: i32): i32 {
  return nthreads > 1 && work >= knob(SPLIT_MIN_CELL) ? imin(nthreads, B) : 1;
}

/** Runs a product, split between the threads when it is big enough to pay for the wake-up. */
function product(kind: i32, o: usize, a: usize, b: usize, M: i32, K: i32, N: i32, acc: bool): void {
  if (M <= 0 || N <= 0) return;
  const macs = <i64>M * <i64>K * <i64>N;
  const splitRows = M >= N;
  const units = ((splitRows ? M : N) + 7) >> 3;
  const parts = imin(nthreads, units);
  if (parts <= 1 || macs < <i64>knob(SPLIT_MIN_MACS)) {
    productBlock(kind, o, a, b, M, K, N, acc, 0, M, 0, N);
    return;
  }
  setPtr(1, o);
  setPtr(2, a);
  setPtr(3, b);
  setArg(4, M);
  setArg(5, K);
  setArg(6, N);
  setArg(7, acc ? 1 : 0);
  setArg(8, splitRows ? 1 : 0);
  runJob(kind, parts);
}

// ---------------------------------------------------------------------------------------
// Matrix products (src/engine/kernels/types.ts)

/** out(M,N) = (acc ? out : 0) + a(M,K) @ b(K,N). */
export function matmul(out: usize, a: usize, b: usize, M: i32, K: i32, N: i32, acc: i32): void {
  product(NN, out, a, b, M, K, N, acc != 0);
}

/** out(M,N) += a(K,M)^T @ b(K,N). */
export function matmulTN(out: usize, a: usize, b: usize, M: i32, K: i32, N: i32): void {
  product(TN, out, a, b, M, K, N, true);
}

/** out(M,N) = (acc ? out : 0) + a(M,K) @ b(N,K)^T. */
export function matmulNT(out: usize, a: usize, b: usize, M: i32, K: i32, N: i32, acc: i32): void {
  product(NT, out, a, b, M, K, N, acc != 0);
}

// ---------------------------------------------------------------------------------------
// Vector math: exp, sigmoid, tanh on 4 lanes, ~1-2 ulp (float32), no NaN for large inputs.

/**
 * e^x: x = n ln2 + r, |r| <= ln2/2 (Cody-Waite split of ln2), e^r by the Cephes expf
 * polynomial, 2^n applied as two factors 2^(n>>1) * 2^(n - n>>1) so that results from the
 * subnormal range up to overflow (inf) come out right. x is clamped to [-104, 88.8] first
 * (beyond: 0 or inf anyway) with pmin/pmax, which keep NaN and compile to one minps/maxps
 * (f32x4.min/max must order NaNs and cost a dozen instructions on x86). n = round(x/ln2)
 * comes from adding 1.5*2^23: the sum's low mantissa bits are n as an integer.
 */
@inline function exp4(x: v128): v128 {
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
@inline function sigmoid4(x: v128): v128 {
  const e = exp4(f32x4.neg(f32x4.abs(x)));
  const d = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), e));
  return v128.bitselect(d, f32x4.mul(e, d), f32x4.ge(x, f32x4.splat(0)));
}

/**
 * tanh: for |x| < 0.625 the Cephes tanhf odd polynomial (1 - 2/(e^2x + 1) would cancel),
 * otherwise sign(x) * (1 - 2/(e^2|x| + 1)), which tends to exactly 1 as e^2|x| overflows.
 */
@inline function tanh4(x: v128): v128 {
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
@inline function oneMinusSq(x: v128): v128 {
  return f32x4.mul(f32x4.sub(f32x4.splat(1), x), f32x4.add(f32x4.splat(1), x));
}

// The elementwise kernels below run 4 elements per step and finish a row with the same
// vector code on one lane (tails use load32_zero / store32_lane), so every element gets the
// same arithmetic whatever its position.

@inline function ld(p: usize, one: bool): v128 {
  return one ? v128.load32_zero(p) : v128.load(p);
}
@inline function st(p: usize, v: v128, one: bool): void {
  if (one) v128.store32_lane(p, v, 0);
  else v128.store(p, v);
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

// ---------------------------------------------------------------------------------------
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
@inline function addRow(dst: usize, src: usize, n: i32): void {
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
function badId(ids: usize, M: i32, rows: i32): i32 {
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

// LSTM: gates(B,4H) = [i f o g] per row; c, h, cPrev (B,H).

@inline function lstmForwardStep(hp: usize, cp: usize, gp: usize, cpp: usize, gh: usize, one: bool): void {
  const i = sigmoid4(ld(gp, one));
  const f = sigmoid4(ld(gp + gh, one));
  const o = sigmoid4(ld(gp + 2 * gh, one));
  const g = tanh4(ld(gp + 3 * gh, one));
  const ct = f32x4.add(f32x4.mul(f, ld(cpp, one)), f32x4.mul(i, g));
  st(gp, i, one);
  st(gp + gh, f, one);
  st(gp + 2 * gh, o, one);
  st(gp + 3 * gh, g, one);
  st(cp, ct, one);
  st(hp, f32x4.mul(o, tanh4(ct)), one);
}

/** gates in place to activations; c = f*cPrev + i*g; h = o*tanh(c). */
export function lstmForward(h: usize, c: usize, gates: usize, cPrev: usize, B: i32, H: i32): void {
  const parts = cellParts(B, B * H);
  if (parts <= 1) {
    lstmForwardRows(h, c, gates, cPrev, 0, B, H);
    return;
  }
  setPtr(1, h); setPtr(2, c); setPtr(3, gates); setPtr(4, cPrev); setArg(5, B); setArg(6, H);
  runJob(LSTM_F, parts);
}

function lstmForwardRows(h: usize, c: usize, gates: usize, cPrev: usize, b0: i32, b1: i32, H: i32): void {
  const gh = <usize>H << 2;
  for (let b = b0; b < b1; b++) {
    const gb = gates + <usize>b * 4 * gh;
    const hb = <usize>b * gh;
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const off = <usize>j << 2;
      lstmForwardStep(h + hb + off, c + hb + off, gb + off, cPrev + hb + off, gh, false);
    }
    for (; j < H; j++) {
      const off = <usize>j << 2;
      lstmForwardStep(h + hb + off, c + hb + off, gb + off, cPrev + hb + off, gh, true);
    }
  }
}

@inline function lstmBackwardStep(dgp: usize, dcp: usize, dhp: usize, gp: usize, cp: usize, cpp: usize, gh: usize, one: bool): void {
  const one4 = f32x4.splat(1);
  const i = ld(gp, one);
  const f = ld(gp + gh, one);
  const o = ld(gp + 2 * gh, one);
  const g = ld(gp + 3 * gh, one);
  const tc = tanh4(ld(cp, one));
  const dh = ld(dhp, one);
  const cprev = ld(cpp, one);
  // forward: h = o * tanh(c)
  const dc = f32x4.add(ld(dcp, one), f32x4.mul(f32x4.mul(dh, o), oneMinusSq(tc)));
  const dO = f32x4.mul(dh, tc);
  // forward: c = f * cPrev + i * g
  const dI = f32x4.mul(dc, g);
  const dF = f32x4.mul(dc, cprev);
  const dG = f32x4.mul(dc, i);
  st(dcp, f32x4.mul(dc, f), one);
  // forward: i, f, o = sigmoid(.), g = tanh(.)
  st(dgp, f32x4.mul(f32x4.mul(dI, i), f32x4.sub(one4, i)), one);
  st(dgp + gh, f32x4.mul(f32x4.mul(dF, f), f32x4.sub(one4, f)), one);
  st(dgp + 2 * gh, f32x4.mul(f32x4.mul(dO, o), f32x4.sub(one4, o)), one);
  st(dgp + 3 * gh, f32x4.mul(dG, oneMinusSq(g)), one);
}

/** Writes dgates(B,4H); dc(B,H) in place from dL/dc to dL/dcPrev; dh(B,H) total dL/dh. */
export function lstmBackward(dgates: usize, dc: usize, dh: usize, gates: usize, c: usize, cPrev: usize, B: i32, H: i32): void {
  const parts = cellParts(B, B * H);
  if (parts <= 1) {
    lstmBackwardRows(dgates, dc, dh, gates, c, cPrev, 0, B, H);
    return;
  }
  setPtr(1, dgates); setPtr(2, dc); setPtr(3, dh); setPtr(4, gates); setPtr(5, c); setPtr(6, cPrev);
  setArg(7, B); setArg(8, H);
  runJob(LSTM_B, parts);
}

function lstmBackwardRows(dgates: usize, dc: usize, dh: usize, gates: usize, c: usize, cPrev: usize, b0: i32, b1: i32, H: i32): void {
  const gh = <usize>H << 2;
  for (let b = b0; b < b1; b++) {
    const gb = <usize>b * 4 * gh;
    const hb = <usize>b * gh;
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const off = <usize>j << 2;
      lstmBackwardStep(dgates + gb + off, dc + hb + off, dh + hb + off, gates + gb + off, c + hb + off, cPrev + hb + off, gh, false);
    }
    for (; j < H; j++) {
      const off = <usize>j << 2;
      lstmBackwardStep(dgates + gb + off, dc + hb + off, dh + hb + off, gates + gb + off, c + hb + off, cPrev + hb + off, gh, true);
    }
  }
}

// GRU: xg, hg (B,3H) = [r z n] per row; h, hPrev (B,H).

@inline function gruForwardStep(hp: usize, xp: usize, hgp: usize, hpp: usize, gh: usize, one: bool): void {
  const r = sigmoid4(f32x4.add(ld(xp, one), ld(hgp, one)));
  const z = sigmoid4(f32x4.add(ld(xp + gh, one), ld(hgp + gh, one)));
  const n = tanh4(f32x4.add(ld(xp + 2 * gh, one), f32x4.mul(r, ld(hgp + 2 * gh, one))));
  st(xp, r, one);
  st(xp + gh, z, one);
  st(xp + 2 * gh, n, one);
  st(hp, f32x4.add(f32x4.mul(f32x4.sub(f32x4.splat(1), z), n), f32x4.mul(z, ld(hpp, one))), one);
}

/** xg in place to (r, z, n); h = (1-z)*n + z*hPrev. */
export function gruForward(h: usize, xg: usize, hg: usize, hPrev: usize, B: i32, H: i32): void {
  const parts = cellParts(B, B * H);
  if (parts <= 1) {
    gruForwardRows(h, xg, hg, hPrev, 0, B, H);
    return;
  }
  setPtr(1, h); setPtr(2, xg); setPtr(3, hg); setPtr(4, hPrev); setArg(5, B); setArg(6, H);
  runJob(GRU_F, parts);
}

function gruForwardRows(h: usize, xg: usize, hg: usize, hPrev: usize, b0: i32, b1: i32, H: i32): void {
  const gh = <usize>H << 2;
  for (let b = b0; b < b1; b++) {
    const gb = <usize>b * 3 * gh;
    const hb = <usize>b * gh;
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const off = <usize>j << 2;
      gruForwardStep(h + hb + off, xg + gb + off, hg + gb + off, hPrev + hb + off, gh, false);
    }
    for (; j < H; j++) {
      const off = <usize>j << 2;
      gruForwardStep(h + hb + off, xg + gb + off, hg + gb + off, hPrev + hb + off, gh, true);
    }
  }
}

@inline function gruBackwardStep(dxp: usize, dhgp: usize, dhpp: usize, dhp: usize, ap: usize, hgp: usize, hpp: usize, gh: usize, one: bool): void {
  const one4 = f32x4.splat(1);
  const r = ld(ap, one);
  const z = ld(ap + gh, one);
  const n = ld(ap + 2 * gh, one);
  const hn = ld(hgp + 2 * gh, one);
  const dh = ld(dhp, one);
  // forward: h = (1 - z) * n + z * hPrev
  const dn = f32x4.mul(dh, f32x4.sub(one4, z));
  const dz = f32x4.mul(dh, f32x4.sub(ld(hpp, one), n));
  st(dhpp, f32x4.add(ld(dhpp, one), f32x4.mul(dh, z)), one);
  // forward: n = tanh(xn + r * hn)
  const dan = f32x4.mul(dn, oneMinusSq(n));
  const dr = f32x4.mul(dan, hn);
  // forward: r = sigmoid(xr + hr), z = sigmoid(xz + hz)
  const dar = f32x4.mul(f32x4.mul(dr, r), f32x4.sub(one4, r));
  const daz = f32x4.mul(f32x4.mul(dz, z), f32x4.sub(one4, z));
  st(dxp, dar, one);
  st(dxp + gh, daz, one);
  st(dxp + 2 * gh, dan, one);
  st(dhgp, dar, one);
  st(dhgp + gh, daz, one);
  st(dhgp + 2 * gh, f32x4.mul(dan, r), one);
}

/** Writes dxg, dhg (B,3H); dhPrev(B,H) += dh*z. act = (r,z,n) from forward. */
export function gruBackward(dxg: usize, dhg: usize, dhPrev: usize, dh: usize, act: usize, hg: usize, hPrev: usize, B: i32, H: i32): void {
  const parts = cellParts(B, B * H);
  if (parts <= 1) {
    gruBackwardRows(dxg, dhg, dhPrev, dh, act, hg, hPrev, 0, B, H);
    return;
  }
  setPtr(1, dxg); setPtr(2, dhg); setPtr(3, dhPrev); setPtr(4, dh); setPtr(5, act); setPtr(6, hg);
  setPtr(7, hPrev); setArg(8, B); setArg(9, H);
  runJob(GRU_B, parts);
}

function gruBackwardRows(dxg: usize, dhg: usize, dhPrev: usize, dh: usize, act: usize, hg: usize, hPrev: usize, b0: i32, b1: i32, H: i32): void {
  const gh = <usize>H << 2;
  for (let b = b0; b < b1; b++) {
    const gb = <usize>b * 3 * gh;
    const hb = <usize>b * gh;
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const off = <usize>j << 2;
      gruBackwardStep(dxg + gb + off, dhg + gb + off, dhPrev + hb + off, dh + hb + off, act + gb + off, hg + gb + off, hPrev + hb + off, gh, false);
    }
    for (; j < H; j++) {
      const off = <usize>j << 2;
      gruBackwardStep(dxg + gb + off, dhg + gb + off, dhPrev + hb + off, dh + hb + off, act + gb + off, hg + gb + off, hPrev + hb + off, gh, true);
    }
  }
}

/**
 * Natural log in f64 (musl's log without lookup tables: the standard library's Math.log
 * brings a 4 KiB table as a data segment, which every worker's instantiation would
 * rewrite in the shared memory).
 */
function ln(x: f64): f64 {
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
