// One recurrent layer's buffers and the work every cell shares: the input projection of all
// T steps as one large product (or a gather of rows for one-hot input), and its backward.
// The time loops themselves, which differ per cell, are in cells/*.ts.
//
// Shape legend: B batch, T steps, D input width, H hidden, G gate width (H rnn, 4H lstm,
// 3H gru). Activations are time-major: row t*B + b of a (T,B,X) buffer is step t, stream b.

import type { Allocator, Vec } from '../arena';
import type { CellKind } from '../../config';
import type { Kernels } from '../kernels/types';
import type { ParamBuffer } from '../params';

export function gateWidth(kind: CellKind, H: number): number {
  return kind === 'lstm' ? 4 * H : kind === 'gru' ? 3 * H : H;
}

export class Layer {
  readonly G: number;
  // Weights and their gradients (views into the model's flat buffers).
  readonly Wx: Vec; // (D, G)   D = V for one-hot input
  readonly Wh: Vec; // (H, G)
  readonly b: Vec; // (G)       added to x Wx
  readonly bh: Vec | null; // (G) GRU only: added to h Wh (inside r * (.) for the n gate)
  readonly dWx: Vec; // (D, G)
  readonly dWh: Vec; // (H, G)
  readonly db: Vec; // (G)
  readonly dbh: Vec | null; // (G)
  // Activations, kept for backward.
  readonly xg: Vec; // (T, B, G) x Wx + b, then the gate activations in place
  readonly hg: Vec | null; // (T, B, G) GRU only: h Wh + bh
  readonly hs: Vec; // (T+1, B, H) hs[0] is the state carried in from the previous chunk
  readonly cs: Vec | null; // (T+1, B, H) LSTM cell state, same convention
  // Gradients of activations.
  readonly dxg: Vec; // (T, B, G)
  readonly dhg: Vec | null; // (T, B, G) GRU only
  readonly dhs: Vec; // (T+1, B, H) dhs[0]: gradient of the initial state
  readonly dc: Vec | null; // (B, H) LSTM: dc carried backwards through time; dc0 at the end
  // Per-step views, made once so the time loops allocate nothing: xgAt[t] is (B, G) at step t.
  readonly xgAt: Vec[];
  readonly hgAt: Vec[];
  readonly dxgAt: Vec[];
  readonly dhgAt: Vec[];
  readonly hsAt: Vec[]; // T+1 views of (B, H)
  readonly csAt: Vec[];
  readonly dhsAt: Vec[];
  private readonly outFull: Vec; // (T, B, H) hs[1..T]
  private readonly dOutFull: Vec; // (T, B, H) dhs[1..T]

  constructor(
    readonly kind: CellKind,
    readonly index: number,
    readonly D: number,
    readonly H: number,
    readonly B: number,
    readonly T: number,
    params: ParamBuffer,
    grads: ParamBuffer,
    alloc: Allocator,
  ) {
    const G = (this.G = gateWidth(kind, H));
    const p = `l${index}.`;
    this.Wx = params.t[p + 'Wx'];
    this.Wh = params.t[p + 'Wh'];
    this.b = params.t[p + 'b'];
    this.dWx = grads.t[p + 'Wx'];
    this.dWh = grads.t[p + 'Wh'];
    this.db = grads.t[p + 'b'];
    const gru = kind === 'gru';
    this.bh = gru ? params.t[p + 'bh'] : null;
    this.dbh = gru ? grads.t[p + 'bh'] : null;
    this.xg = alloc.floats(T * B * G);
    this.hg = gru ? alloc.floats(T * B * G) : null;
    this.hs = alloc.floats((T + 1) * B * H);
    this.cs = kind === 'lstm' ? alloc.floats((T + 1) * B * H) : null;
    this.dxg = alloc.floats(T * B * G);
    this.dhg = gru ? alloc.floats(T * B * G) : null;
    this.dhs = alloc.floats((T + 1) * B * H);
    this.dc = kind === 'lstm' ? alloc.floats(B * H) : null;
    const steps = (v: Vec | null, w: number, count: number): Vec[] =>
      v ? Array.from({ length: count }, (_, t) => v.subarray(t * B * w, (t + 1) * B * w)) : [];
    this.xgAt = steps(this.xg, G, T);
    this.hgAt = steps(this.hg, G, T);
    this.dxgAt = steps(this.dxg, G, T);
    this.dhgAt = steps(this.dhg, G, T);
    this.hsAt = steps(this.hs, H, T + 1);
    this.csAt = steps(this.cs, H, T + 1);
    this.dhsAt = steps(this.dhs, H, T + 1);
    this.outFull = this.hs.subarray(B * H);
    this.dOutFull = this.dhs.subarray(B * H);
  }

  /** The outputs h_1..h_steps as one (steps*B, H) block. */
  outputs(steps: number): Vec {
    if (steps === this.T) return this.outFull;
    return this.hs.subarray(this.B * this.H, this.B * this.H * (steps + 1));
  }

  /** Gradient buffer of the outputs h_1..h_steps, (steps*B, H); the layer above writes it. */
  dOutputs(steps: number): Vec {
    if (steps === this.T) return this.dOutFull;
    return this.dhs.subarray(this.B * this.H, this.B * this.H * (steps + 1));
  }

  /** xg = x Wx + b for all steps at once: one large product, or a gather for one-hot ids. */
  project(k: Kernels, x: Vec | null, ids: Int32Array | null, steps: number): void {
    const M = steps * this.B;
    if (x) return k.matmulBias(this.xg, x, this.Wx, this.b, M, this.D, this.G);
    k.fillRows(this.xg, this.b, M, this.G);
    k.gatherRows(this.xg, ids!, this.Wx, M, this.G, true);
  }

  /**
   * Backward of project() and of the recurrent products, once per chunk (the per-step loop
   * only propagates dh). forward: xg = x Wx + b; gates += h_{t-1} Wh.
   * Accumulates dWx, db, dWh (and dbh); writes dx(steps*B, D) when x is given.
   */
  projectBackward(k: Kernels, dx: Vec | null, x: Vec | null, ids: Int32Array | null, steps: number): void {
    const M = steps * this.B;
    const hPrev = this.hs.subarray(0, M * this.H); // h_0..h_{steps-1}, contiguous
    if (x) k.matmulTNSum(this.dWx, x, this.dxg, this.db, this.D, M, this.G);
    else k.scatterRows(this.dWx, this.dxg, ids!, M, this.G);
    if (dx) k.matmulNT(dx, this.dxg, this.Wx, M, this.G, this.D, false);
    const dRec = this.dhg ?? this.dxg; // gradient of the recurrent pre-activations
    // bias gradients are column sums, each taken by a product reading the same matrix: db with
    // dWx's (above), else with dWh's when it reads dxg (LSTM, RNN); dbh (GRU) with dWh's
    const dbRec = this.dbh ?? (x ? null : this.db);
    if (!x && this.dbh) k.sumRows(this.db, this.dxg, M, this.G);
    if (dbRec) k.matmulTNSum(this.dWh, hPrev, dRec, dbRec, this.H, M, this.G);
    else k.matmulTN(this.dWh, hPrev, dRec, this.H, M, this.G);
  }

  /** Carry the state at the end of `steps` into slot 0 for the next chunk (truncated BPTT). */
  carry(steps: number): void {
    const n = this.B * this.H;
    this.hs.copyWithin(0, steps * n, (steps + 1) * n);
    this.cs?.copyWithin(0, steps * n, (steps + 1) * n);
  }

  resetState(): void {
    const n = this.B * this.H;
    this.hs.fill(0, 0, n);
    this.cs?.fill(0, 0, n);
  }

  /**
   * Reorder the streams of the carried state: stream b takes what stream rows[b] held (beam
   * search). Slot 1 serves as scratch, so the activations of the last forward are lost:
   * inference only, no backward after it. Allocates nothing.
   */
  gatherState(rows: ArrayLike<number>): void {
    gatherRows(this.hs, rows, this.B, this.H);
    if (this.cs) gatherRows(this.cs, rows, this.B, this.H);
  }

  /** Size of the carried state: h (and c for LSTM). */
  get stateSize(): number {
    return this.B * this.H * (this.cs ? 2 : 1);
  }

  saveState(into: Vec, at: number): void {
    const n = this.B * this.H;
    into.set(this.hs.subarray(0, n), at);
    if (this.cs) into.set(this.cs.subarray(0, n), at + n);
  }

  loadState(from: ArrayLike<number>, at: number): void {
    const n = this.B * this.H;
    for (let i = 0; i < n; i++) this.hs[i] = from[at + i];
    if (this.cs) for (let i = 0; i < n; i++) this.cs[i] = from[at + n + i];
  }
}

/** v's slot 0 (B, H) row b <- row rows[b], through slot 1 as scratch. */
function gatherRows(v: Vec, rows: ArrayLike<number>, B: number, H: number): void {
  const n = B * H;
  v.copyWithin(n, 0, n);
  for (let b = 0; b < B; b++) v.copyWithin(b * H, n + rows[b] * H, n + (rows[b] + 1) * H);
}
