// Parameters live in one flat float buffer with named views. Gradients and every optimizer
// state slot use the same layout, so an optimizer is one loop over the buffer and a
// checkpoint addresses tensors by name.

import type { Allocator, Vec } from './arena';

export interface TensorSpec {
  name: string;
  shape: number[];
}

export interface TensorLayout extends TensorSpec {
  offset: number; // index of the first element in the flat buffer
  size: number; // product of shape
}

/** Each tensor starts on a 16-float boundary (64 bytes for f32), so SIMD rows start aligned. */
const PAD = 16;

export class ParamLayout {
  readonly tensors: TensorLayout[] = [];
  readonly byName = new Map<string, TensorLayout>();
  /** Length of the flat buffer, padding included. */
  readonly total: number;
  /** Number of trainable values, padding excluded. */
  readonly count: number;

  constructor(specs: TensorSpec[]) {
    let offset = 0;
    let count = 0;
    for (const s of specs) {
      const size = s.shape.reduce((a, b) => a * b, 1);
      const t = { name: s.name, shape: s.shape.slice(), offset, size };
      this.tensors.push(t);
      this.byName.set(s.name, t);
      offset += Math.ceil(size / PAD) * PAD;
      count += size;
    }
    this.total = offset;
    this.count = count;
  }

  get(name: string): TensorLayout {
    const t = this.byName.get(name);
    if (!t) throw new Error(`no tensor named ${name}`);
    return t;
  }

  /** The named views of one flat buffer laid out this way. */
  views(flat: Vec): Record<string, Vec> {
    const out: Record<string, Vec> = {};
    for (const t of this.tensors) out[t.name] = flat.subarray(t.offset, t.offset + t.size);
    return out;
  }
}

/** A flat buffer laid out by a ParamLayout, with its named views. */
export class ParamBuffer {
  readonly flat: Vec;
  readonly t: Record<string, Vec>;
  constructor(
    readonly layout: ParamLayout,
    alloc: Allocator,
  ) {
    this.flat = alloc.floats(layout.total);
    this.t = layout.views(this.flat);
  }
}
