// Layout and tuning of the kernel module: the block sizes of the products, the tuning knobs
// (kept in the shared job block so every thread decides alike), the per-thread scratch and the
// job block layouts, and init(), which each thread's instance calls with their addresses.
// The memory map is in kernels.ts.

// Tuning

/** k block: rows of B packed at a time (packed A panel = KC*16 bytes, stays in L1). */
export const KC: i32 = 256;
/** n block: columns of B packed at a time (packed B block = KC*NC*4 = 256 KiB, in L2). */
export const NC: i32 = 256;
// (KC 128..384 x NC 256..1024 all measured within noise of each other on this machine.)

// The heuristics live in the job block (TUNE below), shared by all threads: each thread
// must take the same decisions for bit-identical results. Knob numbers (defaults: see
// defaultTuning; they are in the Tuning interface of wasm.ts too):
/** 0: products with fewer output rows than this read B in place (packing would not pay). */
export const RAW_ROWS_BELOW = 0;
/** 1: matmul reads B in place, unpacked, when it has at most this many floats (fits L2). */
export const RAW_B_MAX_FLOATS = 1;
/** 2: products below this many multiply-adds (M*K*N) run on the calling thread only. */
export const SPLIT_MIN_MACS = 2;
/** 3: recurrent-cell steps below this many elements (B*H) run on the calling thread only. */
export const SPLIT_MIN_CELL = 3;
/** 4, 5: spins (atomic loads) before a waiting worker / main thread sleeps on the futex. */
export const SPIN_WORKER = 4;
export const SPIN_MAIN = 5;
export const KNOBS = 6;

/**
 * Floats of packed B a thread's scratch holds: a KC x NC block of any product, or a whole
 * recurrent Wh^T up to H = 256 (256 x 1024), packed once for an LSTM layer's backward loop.
 */
export const PACK_FLOATS: i32 = 1 << 18;

// Scratch layout per thread (byte offsets).
export const BP_OFF: usize = 0;
export const AP_OFF: usize = <usize>PACK_FLOATS * 4;
export const TMP_OFF: usize = AP_OFF + <usize>KC * 16;
export const SCRATCH_BYTES: usize = TMP_OFF + 128 + 64;

// Job block layout (byte offsets), one cache line each: what the spinning workers read
// (SEQ, TUNE) is apart from what changes during a job (TICKET, DONE).
export const CTRL_BYTES: usize = 384;
export const SEQ: usize = 0; // bumped for every job; workers sleep on it
export const TICKET: usize = 64; // (parts << 16) | next part to claim
export const DONE: usize = 128; // parts finished; the main thread sleeps on it
export const QUIT: usize = 132;
export const FAILED: usize = 136; // a worker trapped in a part (see workerFailed)
export const ARGS: usize = 192; // the job: kind and up to 15 i32 arguments
export const TUNE: usize = 256; // KNOBS i32
export const FARGS: usize = 320; // the job's float64 arguments (optim.ts: up to 8)

export const NN: i32 = 0;
export const TN: i32 = 1;
export const NT: i32 = 2;

// Per instance (per thread): where this thread's scratch and the shared job block are.
export let scratch: usize = 0;
export let ctrl: usize = 0;
export let nthreads: i32 = 1;

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

@inline export function knob(k: i32): i32 {
  return load<i32>(ctrl + TUNE + (<usize>k << 2));
}
