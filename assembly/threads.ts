import { gruBackwardRows, gruForwardRows, lstmBackwardRows, lstmForwardRows } from './cells';
import { lstmLayerBackwardPart, lstmLayerForwardPart } from './layer';
import { ARGS, DONE, FAILED, FARGS, NT, QUIT, SEQ, SPIN_MAIN, SPIN_WORKER, SPLIT_MIN_CELL, SPLIT_MIN_MACS, TICKET, ctrl, knob, nthreads } from './layout';
import { optimPart } from './optim';
import { productBlock } from './products';
import { imin } from './simd';

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
// Jobs: the three products (products.ts), split into row or column blocks starting on
// multiples of 8 (see productBlock), the recurrent cells (cells.ts), split by batch rows
// (element-wise: any split gives the same bits), LSTM layers' time loops (layer.ts), split
// by batch rows too, and the optimizer's clip and update (optim.ts), split by ranges.

export const LSTM_F: i32 = 3;
export const LSTM_B: i32 = 4;
export const GRU_F: i32 = 5;
export const GRU_B: i32 = 6;
export const LSTM_LAYER_F: i32 = 7;
export const LSTM_LAYER_B: i32 = 8;
export const CLIP: i32 = 9;
export const UPDATE: i32 = 10;

@inline export function arg(i: i32): i32 {
  return load<i32>(ctrl + ARGS + (<usize>i << 2));
}
@inline export function ptr(i: i32): usize {
  return load<usize>(ctrl + ARGS + (<usize>i << 2));
}
@inline export function setArg(i: i32, v: i32): void {
  store<i32>(ctrl + ARGS + (<usize>i << 2), v);
}
@inline export function setPtr(i: i32, v: usize): void {
  store<usize>(ctrl + ARGS + (<usize>i << 2), v);
}
@inline export function farg(i: i32): f64 {
  return load<f64>(ctrl + FARGS + (<usize>i << 3));
}
@inline export function setFarg(i: i32, v: f64): void {
  store<f64>(ctrl + FARGS + (<usize>i << 3), v);
}
/** First row (or column) of part `part` of `parts`: size cut in units of `unit`, as evenly as possible. */
@inline export function partStart(part: i32, parts: i32, size: i32, unit: i32): i32 {
  const units = (size + unit - 1) / unit;
  return imin(<i32>((<i64>part * units) / parts) * unit, size);
}

export function computePart(part: i32, parts: i32): void {
  const kind = arg(0);
  if (kind <= NT) {
    // args: kind, out, a, b, M, K, N, acc, splitRows, bias
    const M = arg(4), K = arg(5), N = arg(6);
    const acc = arg(7) != 0;
    const splitRows = arg(8) != 0;
    const size = splitRows ? M : N;
    const s0 = partStart(part, parts, size, 8);
    const s1 = partStart(part + 1, parts, size, 8);
    if (s0 >= s1) return;
    if (splitRows) productBlock(kind, ptr(1), ptr(2), ptr(3), M, K, N, acc, s0, s1, 0, N, ptr(9));
    else productBlock(kind, ptr(1), ptr(2), ptr(3), M, K, N, acc, 0, M, s0, s1, ptr(9));
    return;
  }
  // an LSTM layer's time loop (layer.ts): its own args and row parts
  if (kind == LSTM_LAYER_F) return lstmLayerForwardPart(part, parts);
  if (kind == LSTM_LAYER_B) return lstmLayerBackwardPart(part, parts);
  // the optimizer's passes over the parameters (optim.ts)
  if (kind == CLIP || kind == UPDATE) return optimPart(part, parts);
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
export function claimParts(): void {
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
export function runJob(kind: i32, parts: i32): void {
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
@inline export function cellParts(B: i32, work: i32): i32 {
  return nthreads > 1 && work >= knob(SPLIT_MIN_CELL) ? imin(nthreads, B) : 1;
}

/** Runs a product, split between the threads when it is big enough to pay for the wake-up (bias: productBlock). */
export function product(kind: i32, o: usize, a: usize, b: usize, M: i32, K: i32, N: i32, acc: bool, bias: usize = 0): void {
  if (M <= 0 || N <= 0) return;
  const macs = <i64>M * <i64>K * <i64>N;
  const splitRows = M >= N;
  const units = ((splitRows ? M : N) + 7) >> 3;
  const parts = imin(nthreads, units);
  if (parts <= 1 || macs < <i64>knob(SPLIT_MIN_MACS)) {
    productBlock(kind, o, a, b, M, K, N, acc, 0, M, 0, N, bias);
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
  setPtr(9, bias);
  runJob(kind, parts);
}
