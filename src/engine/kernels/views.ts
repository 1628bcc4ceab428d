// The Kernels interface over a backend whose kernels take byte offsets into one buffer (the
// wasm module's exports, the native addon's functions): every view is checked to be a view
// of that buffer, of the right type and length, then its byteOffset is passed. Both backends
// export the same signatures (PointerKernels).
//
// Shape legend: B batch, H hidden, V vocab; M, K, N generic matrix sizes.

import type { Vec } from '../arena';
import type { Kernels } from './types';

/** The kernels with pointers (byte offsets) and sizes: the wasm exports, the addon's functions. */
export interface PointerKernels {
  matmul(out: number, a: number, b: number, M: number, K: number, N: number, acc: number): void;
  matmulTN(out: number, a: number, b: number, M: number, K: number, N: number): void;
  /** Optional: Kernels.matmulTNSum in one call (else sumRows then matmulTN). */
  matmulTNSum?(out: number, a: number, b: number, dbias: number, M: number, K: number, N: number): void;
  matmulNT(out: number, a: number, b: number, M: number, K: number, N: number, acc: number): void;
  vexp(out: number, x: number, n: number): void;
  vsigmoid(out: number, x: number, n: number): void;
  tanh(g: number, n: number): void;
  tanhBackward(da: number, dh: number, h: number, n: number): void;
  mul(out: number, a: number, b: number, n: number): void;
  fillRows(out: number, bias: number, M: number, N: number): void;
  sumRows(dbias: number, d: number, M: number, N: number): void;
  /** These four return 1 + the row of the first id out of range (nothing done), else 0 (>= 0 loss). */
  gatherRows(out: number, ids: number, table: number, M: number, N: number, acc: number, rows: number): number;
  scatterRows(dtable: number, d: number, ids: number, M: number, N: number, rows: number): number;
  lstmForward(h: number, c: number, gates: number, cPrev: number, B: number, H: number): void;
  lstmBackward(dgates: number, dc: number, dh: number, gates: number, c: number, cPrev: number, B: number, H: number): void;
  gruForward(h: number, xg: number, hg: number, hPrev: number, B: number, H: number): void;
  gruBackward(dxg: number, dhg: number, dhPrev: number, dh: number, act: number, hg: number, hPrev: number, B: number, H: number): void;
  /** The loss, or -(1 + row) of the first target out of range; targets 0 means none. */
  softmaxXent(probs: number, targets: number, M: number, V: number): number;
  softmaxXentBackward(dlogits: number, probs: number, targets: number, scale: number, M: number, V: number): number;
  matmulBias(out: number, a: number, b: number, bias: number, M: number, K: number, N: number): void;
  /** Optional: Kernels.lstmLayerForward and lstmLayerBackward. */
  lstmLayerForward?(hs: number, cs: number, gates: number, Wh: number, B: number, H: number, steps: number): void;
  lstmLayerBackward?(dgates: number, dc: number, dhs: number, gates: number, cs: number, Wh: number, B: number, H: number, steps: number): void;
  /** Optional: 1 while the b operands of matmul and matmulNT stay constant, 0 after (Kernels.weightsBegin). */
  hold?(on: number): void;
  /** Optional: Kernels.clip and Kernels.update (slot offsets 0 = none). */
  clip?(g: number, c: number, n: number): void;
  update?(p: number, g: number, s0: number, s1: number, kind: number, lr: number, eps: number, decay: number, b1: number, b2: number, c1: number, c2: number, n: number, clip: number, zeroGrad: number): void;
}

/**
 * The Kernels interface over a backend's exports: checks the views, passes their byte offsets.
 * `name` names the backend in the messages.
 */
export function viewKernels(name: 'wasm' | 'native', ex: PointerKernels, buffer: ArrayBuffer | SharedArrayBuffer): Kernels {
  // A view elsewhere (a plain ArrayBuffer, a Float64Array) would make the kernel read and
  // write unrelated memory; a short one would overrun into its neighbours. Both are cheap
  // to rule out. The messages are only built when throwing (no allocation per call).
  function f32(v: Vec, n: number, kernel: string, arg: string): number {
    if (v.buffer !== buffer || !(v instanceof Float32Array)) {
      throw new Error(
        `${name} kernels: ${kernel}: ${arg} must be a Float32Array view of the ${name} memory ` +
          `(carve it from backend.buffer with an f32 Arena), got ${v.constructor.name}`,
      );
    }
    if (v.length < n) throw new RangeError(`${name} kernels: ${kernel}: ${arg} has ${v.length} floats, needs ${n}`);
    return v.byteOffset;
  }
  function i32(v: Int32Array, n: number, kernel: string, arg: string): number {
    if (v.buffer !== buffer || !(v instanceof Int32Array)) {
      throw new Error(`${name} kernels: ${kernel}: ${arg} must be an Int32Array view of the ${name} memory`);
    }
    if (v.length < n) throw new RangeError(`${name} kernels: ${kernel}: ${arg} has ${v.length} ids, needs ${n}`);
    return v.byteOffset;
  }
  /** Rows of a table(rows, N) view. */
  const rowsOf = (v: Vec, N: number): number => (N > 0 ? Math.floor(v.length / N) : 0x7fffffff);
  /** Throws for the status a kernel returned when an id was out of range (it did nothing). */
  function checkIds(status: number, kernel: string, ids: Int32Array, limit: number): void {
    if (status === 0) return;
    const i = status - 1;
    throw new RangeError(`${name} kernels: ${kernel}: id ${ids[i]} at row ${i} is outside [0, ${limit})`);
  }

  return {
    name,

    matmul(out, a, b, M, K, N, acc) {
      ex.matmul(f32(out, M * N, 'matmul', 'out'), f32(a, M * K, 'matmul', 'a'), f32(b, K * N, 'matmul', 'b'), M, K, N, acc ? 1 : 0);
    },
    matmulTN(out, a, b, M, K, N) {
      ex.matmulTN(f32(out, M * N, 'matmulTN', 'out'), f32(a, K * M, 'matmulTN', 'a'), f32(b, K * N, 'matmulTN', 'b'), M, K, N);
    },
    matmulTNSum(out, a, b, dbias, M, K, N) {
      const o = f32(out, M * N, 'matmulTNSum', 'out'), x = f32(a, K * M, 'matmulTNSum', 'a'), d = f32(b, K * N, 'matmulTNSum', 'b');
      const s = f32(dbias, N, 'matmulTNSum', 'dbias');
      if (ex.matmulTNSum) return ex.matmulTNSum(o, x, d, s, M, K, N);
      ex.sumRows(s, d, K, N);
      ex.matmulTN(o, x, d, M, K, N);
    },
    matmulNT(out, a, b, M, K, N, acc) {
      ex.matmulNT(f32(out, M * N, 'matmulNT', 'out'), f32(a, M * K, 'matmulNT', 'a'), f32(b, N * K, 'matmulNT', 'b'), M, K, N, acc ? 1 : 0);
    },
    matmulBias(out, a, b, bias, M, K, N) {
      const o = f32(out, M * N, 'matmulBias', 'out'), x = f32(a, M * K, 'matmulBias', 'a'), w = f32(b, K * N, 'matmulBias', 'b');
      const c = f32(bias, N, 'matmulBias', 'bias');
      ex.matmulBias(o, x, w, c, M, K, N);
    },
    fillRows(out, bias, M, N) {
      ex.fillRows(f32(out, M * N, 'fillRows', 'out'), f32(bias, N, 'fillRows', 'bias'), M, N);
    },
    sumRows(dbias, d, M, N) {
      ex.sumRows(f32(dbias, N, 'sumRows', 'dbias'), f32(d, M * N, 'sumRows', 'd'), M, N);
    },
    gatherRows(out, ids, table, M, N, acc) {
      const rows = rowsOf(table, N);
      const status = ex.gatherRows(
        f32(out, M * N, 'gatherRows', 'out'), i32(ids, M, 'gatherRows', 'ids'), f32(table, 0, 'gatherRows', 'table'),
        M, N, acc ? 1 : 0, rows,
      );
      checkIds(status, 'gatherRows', ids, rows);
    },
    scatterRows(dtable, d, ids, M, N) {
      const rows = rowsOf(dtable, N);
      const status = ex.scatterRows(
        f32(dtable, 0, 'scatterRows', 'dtable'), f32(d, M * N, 'scatterRows', 'd'), i32(ids, M, 'scatterRows', 'ids'),
        M, N, rows,
      );
      checkIds(status, 'scatterRows', ids, rows);
    },
    mul(out, a, b, n) {
      ex.mul(f32(out, n, 'mul', 'out'), f32(a, n, 'mul', 'a'), f32(b, n, 'mul', 'b'), n);
    },
    tanh(g, n) {
      ex.tanh(f32(g, n, 'tanh', 'g'), n);
    },
    tanhBackward(da, dh, h, n) {
      ex.tanhBackward(f32(da, n, 'tanhBackward', 'da'), f32(dh, n, 'tanhBackward', 'dh'), f32(h, n, 'tanhBackward', 'h'), n);
    },
    lstmForward(h, c, gates, cPrev, B, H) {
      const n = B * H;
      ex.lstmForward(
        f32(h, n, 'lstmForward', 'h'), f32(c, n, 'lstmForward', 'c'), f32(gates, 4 * n, 'lstmForward', 'gates'),
        f32(cPrev, n, 'lstmForward', 'cPrev'), B, H,
      );
    },
    lstmBackward(dgates, dc, dh, gates, c, cPrev, B, H) {
      const n = B * H;
      ex.lstmBackward(
        f32(dgates, 4 * n, 'lstmBackward', 'dgates'), f32(dc, n, 'lstmBackward', 'dc'), f32(dh, n, 'lstmBackward', 'dh'),
        f32(gates, 4 * n, 'lstmBackward', 'gates'), f32(c, n, 'lstmBackward', 'c'), f32(cPrev, n, 'lstmBackward', 'cPrev'), B, H,
      );
    },
    gruForward(h, xg, hg, hPrev, B, H) {
      const n = B * H;
      ex.gruForward(
        f32(h, n, 'gruForward', 'h'), f32(xg, 3 * n, 'gruForward', 'xg'), f32(hg, 3 * n, 'gruForward', 'hg'),
        f32(hPrev, n, 'gruForward', 'hPrev'), B, H,
      );
    },
    gruBackward(dxg, dhg, dhPrev, dh, act, hg, hPrev, B, H) {
      const n = B * H;
      ex.gruBackward(
        f32(dxg, 3 * n, 'gruBackward', 'dxg'), f32(dhg, 3 * n, 'gruBackward', 'dhg'), f32(dhPrev, n, 'gruBackward', 'dhPrev'),
        f32(dh, n, 'gruBackward', 'dh'), f32(act, 3 * n, 'gruBackward', 'act'), f32(hg, 3 * n, 'gruBackward', 'hg'),
        f32(hPrev, n, 'gruBackward', 'hPrev'), B, H,
      );
    },
    softmaxXent(probs, targets, M, V) {
      const p = f32(probs, M * V, 'softmaxXent', 'probs');
      const loss = ex.softmaxXent(p, targets ? i32(targets, M, 'softmaxXent', 'targets') : 0, M, V);
      if (loss < 0 && targets) checkIds(-loss, 'softmaxXent', targets, V); // (a NaN loss is not < 0)
      return loss;
    },
    softmaxXentBackward(dlogits, probs, targets, scale, M, V) {
      const status = ex.softmaxXentBackward(
        f32(dlogits, M * V, 'softmaxXentBackward', 'dlogits'), f32(probs, M * V, 'softmaxXentBackward', 'probs'),
        i32(targets, M, 'softmaxXentBackward', 'targets'), scale, M, V,
      );
      checkIds(status, 'softmaxXentBackward', targets, V);
    },
    ...(ex.clip && ex.update
      ? {
          clip: (g: Vec, c: number, n: number) => ex.clip!(f32(g, n, 'clip', 'g'), c, n),
          update: (p: Vec, g: Vec, s0: Vec | null, s1: Vec | null, kind: number, lr: number, eps: number, decay: number, b1: number, b2: number, c1: number, c2: number, n: number, clip: number, zeroGrad: boolean) =>
            ex.update!(
              f32(p, n, 'update', 'p'), f32(g, n, 'update', 'g'), s0 ? f32(s0, n, 'update', 's0') : 0, s1 ? f32(s1, n, 'update', 's1') : 0,
              kind, lr, eps, decay, b1, b2, c1, c2, n, clip, zeroGrad ? 1 : 0,
            ),
        }
      : {}),
    ...(ex.lstmLayerForward && ex.lstmLayerBackward
      ? {
          lstmLayerForward: (hs: Vec, cs: Vec, gates: Vec, Wh: Vec, B: number, H: number, steps: number) => {
            const n = (steps + 1) * B * H;
            const k = 'lstmLayerForward';
            ex.lstmLayerForward!(f32(hs, n, k, 'hs'), f32(cs, n, k, 'cs'), f32(gates, steps * B * 4 * H, k, 'gates'), f32(Wh, H * 4 * H, k, 'Wh'), B, H, steps);
          },
          lstmLayerBackward: (dgates: Vec, dc: Vec, dhs: Vec, gates: Vec, cs: Vec, Wh: Vec, B: number, H: number, steps: number) => {
            const n = (steps + 1) * B * H;
            const g = steps * B * 4 * H;
            const k = 'lstmLayerBackward';
            ex.lstmLayerBackward!(
              f32(dgates, g, k, 'dgates'), f32(dc, B * H, k, 'dc'), f32(dhs, n, k, 'dhs'), f32(gates, g, k, 'gates'), f32(cs, n, k, 'cs'),
              f32(Wh, H * 4 * H, k, 'Wh'), B, H, steps,
            );
          },
        }
      : {}),
    ...(ex.hold
      ? {
          weightsBegin: () => ex.hold!(1),
          weightsEnd: () => ex.hold!(0),
        }
      : {}),
  };
}
