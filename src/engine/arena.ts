// The arena: every float buffer of a model (parameters, gradients, optimizer state,
// activations) and the integer id buffers the kernels read are views into ONE
// ArrayBuffer, allocated once. With the WebAssembly kernels that buffer is the
// WebAssembly memory, so a view's byteOffset is the pointer the kernel receives:
// no copies per call, no allocation per step.
//
// Allocation is done twice with the same code: once with a Counter to learn the size,
// once with the real Arena to carve the views (see carve() in model.ts).

export type Dtype = 'f32' | 'f64';
/** A float buffer: float32 for training, float64 for gradient checks and parity tests. */
export type Vec = Float32Array | Float64Array;

/** Every view starts on a 64-byte boundary (a cache line; 4 SIMD lanes of f32 or more). */
const ALIGN = 64;

export interface Allocator {
  readonly dtype: Dtype;
  /** n floats of the arena's dtype, zeroed. */
  floats(n: number): Vec;
  /** n int32 values, zeroed (token ids the kernels read). */
  ints(n: number): Int32Array;
}

export function bytesPerFloat(dtype: Dtype): number {
  return dtype === 'f32' ? 4 : 8;
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/** Counts the bytes an allocation sequence needs; the views it returns are empty placeholders. */
export class Counter implements Allocator {
  bytes = 0;
  constructor(readonly dtype: Dtype) {}
  floats(n: number): Vec {
    this.bytes = alignUp(this.bytes) + n * bytesPerFloat(this.dtype);
    return this.dtype === 'f32' ? new Float32Array(0) : new Float64Array(0);
  }
  ints(n: number): Int32Array {
    this.bytes = alignUp(this.bytes) + n * 4;
    return new Int32Array(0);
  }
}

/** Carves views out of one buffer, in order, from byte `base` on. */
export class Arena implements Allocator {
  private offset: number;
  constructor(
    readonly dtype: Dtype,
    readonly buffer: ArrayBuffer | SharedArrayBuffer,
    base = 0,
  ) {
    this.offset = base;
  }
  private take(bytes: number): number {
    const at = alignUp(this.offset);
    if (at + bytes > this.buffer.byteLength) {
      throw new Error(`arena overflow: need ${at + bytes} bytes, have ${this.buffer.byteLength}`);
    }
    this.offset = at + bytes;
    return at;
  }
  floats(n: number): Vec {
    const at = this.take(n * bytesPerFloat(this.dtype));
    return this.dtype === 'f32' ? new Float32Array(this.buffer, at, n) : new Float64Array(this.buffer, at, n);
  }
  ints(n: number): Int32Array {
    return new Int32Array(this.buffer, this.take(n * 4), n);
  }
  get used(): number {
    return this.offset;
  }
}
