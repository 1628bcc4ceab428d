// An LSTM layer's whole time loop in one call (src/engine/kernels/types.ts lstmLayerForward and
// lstmLayerBackward): per step the recurrent product and the cell, the same bits as
// cells/lstm.ts's loop over matmul and lstmForward (matmulNT and lstmBackward going back).
//
// On several threads with a small Wh (H <= 256 here: its transpose packs into one thread's
// scratch, and it stays in a core's L2) the batch rows are split: a stream's recurrence reads only its own row of h and c,
// so each thread runs its rows through every step on its own, one job a layer instead of two
// a step and no thread waiting for another. Row blocks start on multiples of 4 (the tile's
// rows) and every product decides its path on the whole batch, so each element sees the code
// it sees in the whole product. Otherwise the steps run one after the other, each product and
// cell split as the exported kernels split them.
//
// Shape legend: B batch, H hidden, G = 4H gate width, T steps.

import { BP_OFF, KC, NC, NN, NT, PACK_FLOATS, RAW_ROWS_BELOW, SPLIT_MIN_MACS, knob, nthreads, scratch } from './layout';
import { imin } from './simd';
import { lstmBackward, lstmBackwardRows, lstmForward, lstmForwardRows } from './cells';
import { gemmBlock, gemmNTBlock, packBT } from './products';
import { LSTM_LAYER_B, LSTM_LAYER_F, arg, partStart, product, ptr, runJob, setArg, setPtr } from './threads';

/** Rows of a part at least; the batch is split only when every part gets this many. */
const MIN_ROWS: i32 = 4;

/** Parts to split a layer's rows into (1: step by step instead). */
function rowParts(B: i32, H: i32): i32 {
  const G = 4 * H;
  if (nthreads <= 1 || B < 2 * MIN_ROWS || <i64>G * <i64>H > <i64>PACK_FLOATS || H > NC) return 1;
  if (<i64>B * <i64>H * <i64>G < <i64>knob(SPLIT_MIN_MACS)) return 1;
  return nthreads < B / MIN_ROWS ? nthreads : B / MIN_ROWS;
}

/** hs(T+1,B,H), cs(T+1,B,H): slot 0 carried in, 1..T written; gates(T,B,4H): x Wx + b in, activations out; Wh(H,4H). */
export function lstmLayerForward(hs: usize, cs: usize, gates: usize, Wh: usize, B: i32, H: i32, steps: i32): void {
  const parts = rowParts(B, H);
  if (parts > 1) {
    setPtr(1, hs); setPtr(2, cs); setPtr(3, gates); setPtr(4, Wh); setArg(5, B); setArg(6, H); setArg(7, steps);
    runJob(LSTM_LAYER_F, parts);
    return;
  }
  const bh = (<usize>B * <usize>H) << 2, bg = bh << 2;
  for (let t = 0; t < steps; t++) {
    const s = <usize>t;
    // forward: gates = x_t Wx + b (on entry) + h_{t-1} Wh
    product(NN, gates + s * bg, hs + s * bh, Wh, B, H, 4 * H, true);
    lstmForward(hs + (s + 1) * bh, cs + (s + 1) * bh, gates + s * bg, cs + s * bh, B, H);
  }
}

/** Writes dgates(T,B,4H); dc(B,H): of c_T in, of c_0 out; dhs(T+1,B,H): from above in 1..T, dhs[t] += dgates_t Wh^T. */
export function lstmLayerBackward(dgates: usize, dc: usize, dhs: usize, gates: usize, cs: usize, Wh: usize, B: i32, H: i32, steps: i32): void {
  const parts = rowParts(B, H);
  if (parts > 1) {
    setPtr(1, dgates); setPtr(2, dc); setPtr(3, dhs); setPtr(4, gates); setPtr(5, cs); setPtr(6, Wh);
    setArg(7, B); setArg(8, H); setArg(9, steps);
    runJob(LSTM_LAYER_B, parts);
    return;
  }
  const bh = (<usize>B * <usize>H) << 2, bg = bh << 2;
  for (let t = steps - 1; t >= 0; t--) {
    const s = <usize>t;
    // forward: c_t = f*c_{t-1} + i*g, h_t = o*tanh(c_t); dc becomes dc_{t-1}
    lstmBackward(dgates + s * bg, dc, dhs + (s + 1) * bh, gates + s * bg, cs + (s + 1) * bh, cs + s * bh, B, H);
    // forward: gates = x_t Wx + h_{t-1} Wh + b  =>  dh_{t-1} += dgates Wh^T
    product(NT, dhs + s * bh, dgates + s * bg, Wh, B, 4 * H, H, true);
  }
}

/** A part of LSTM_LAYER_F: rows [b0, b1) through every step. */
export function lstmLayerForwardPart(part: i32, parts: i32): void {
  const hs = ptr(1), cs = ptr(2), gates = ptr(3), Wh = ptr(4);
  const B = arg(5), H = arg(6), steps = arg(7);
  const b0 = partStart(part, parts, B, MIN_ROWS), b1 = partStart(part + 1, parts, B, MIN_ROWS);
  if (b0 >= b1) return;
  const bh = (<usize>B * <usize>H) << 2, bg = bh << 2;
  for (let t = 0; t < steps; t++) {
    const s = <usize>t;
    // Wh read in place (it stays in L2; packing it would cost a copy of it a step)
    gemmBlock(gates + s * bg, hs + s * bh, <usize>H << 2, 4, Wh, B, H, 4 * H, true, false, b0, b1, 0, 4 * H, 0, true);
    lstmForwardRows(hs + (s + 1) * bh, cs + (s + 1) * bh, gates + s * bg, cs + s * bh, b0, b1, H);
  }
}

/**
 * A part of LSTM_LAYER_B: rows [b0, b1) through every step, back. Wh^T is packed once into
 * this thread's scratch, every k block's panels one after the other, for all the steps'
 * products (gemmNTBlock would pack it again every step).
 */
export function lstmLayerBackwardPart(part: i32, parts: i32): void {
  const dgates = ptr(1), dc = ptr(2), dhs = ptr(3), gates = ptr(4), cs = ptr(5), Wh = ptr(6);
  const B = arg(7), H = arg(8), steps = arg(9);
  const b0 = partStart(part, parts, B, MIN_ROWS), b1 = partStart(part + 1, parts, B, MIN_ROWS);
  if (b0 >= b1) return;
  const G = 4 * H;
  const packed = B >= knob(RAW_ROWS_BELOW); // else gemmNTBlock takes dot products on Wh in place
  const bp = scratch + BP_OFF;
  const npad = <usize>((H + 7) & ~7);
  if (packed) for (let k0 = 0; k0 < G; k0 += KC) packBT(bp + <usize>k0 * npad * 4, Wh + (<usize>k0 << 2), <usize>G << 2, imin(KC, G - k0), H);
  const bh = (<usize>B * <usize>H) << 2, bg = bh << 2;
  for (let t = steps - 1; t >= 0; t--) {
    const s = <usize>t;
    lstmBackwardRows(dgates + s * bg, dc, dhs + (s + 1) * bh, gates + s * bg, cs + (s + 1) * bh, cs + s * bh, b0, b1, H);
    gemmNTBlock(dhs + s * bh, dgates + s * bg, Wh, B, G, H, true, b0, b1, 0, H, packed ? bp : 0);
  }
}
