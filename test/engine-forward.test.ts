// The engine's forward pass against a naive scalar implementation written from the cell
// equations (test/helpers/naive.ts), in float64: probabilities, summed loss and the carried
// final state, for every cell, 1-2 layers, one-hot and embedding input, random weights and a
// random initial state. Also the initialisation (LSTM forget-gate bias) and parameter counts.
//
// Shape legend: B streams, T steps, E embedding, H hidden, V vocab, L layers, D input width.

import { describe, expect, it } from 'vitest';
import type { CellKind } from '../src/config';
import { Rng } from '../src/engine/rng';
import { CELLS, makeModel, maxAbsDiff, randomIds, randomizeParams, randomState, setBatch, type SmallModel } from './helpers/engine';
import { naiveForward, naiveNetFrom, splitState } from './helpers/naive';

const cases: (SmallModel & { B: number; T: number })[] = [];
for (const kind of CELLS) for (const L of [1, 2]) for (const E of [0, 4]) cases.push({ kind, L, E, H: 5, V: 7, B: 3, T: 6 });

describe('forward = naive scalar implementation (float64)', () => {
  it.each(cases)('$kind L=$L E=$E', (c) => {
    const { B, T } = c;
    const model = makeModel(c, [{ B, T }]);
    const ws = model.workspaces[0];
    const rng = new Rng(`forward-${c.kind}-${c.L}-${c.E}`);
    randomizeParams(model, rng);
    const inputs = randomIds(rng, T * B, c.V);
    const targets = randomIds(rng, T * B, c.V);
    setBatch(ws, inputs, targets);
    const state = randomState(rng, c, B);
    const { h0, c0 } = splitState(state, c.kind, c.L, B, c.H);
    const net = naiveNetFrom(c.kind, c.V, c.H, c.L, c.E, model.params.t);
    const ref = naiveForward(net, inputs, targets, B, T, h0, c0);

    ws.loadState(state);
    const loss = ws.forward(T);
    expect(maxAbsDiff(ws.probs.subarray(0, T * B * c.V), ref.probs)).toBeLessThan(1e-10);
    expect(Math.abs(loss - ref.loss) / ref.loss).toBeLessThan(1e-10);
    // probabilities sum to one and the loss is what they say
    let fromProbs = 0;
    for (let i = 0; i < T * B; i++) fromProbs -= Math.log(ws.probs[i * c.V + targets[i]]);
    expect(Math.abs(fromProbs - loss) / loss).toBeLessThan(1e-12);

    // The carried state after the chunk is the naive final state.
    const after = new Float64Array(ws.stateSize);
    ws.saveState(after);
    const per = B * c.H * (c.kind === 'lstm' ? 2 : 1);
    const want: number[] = [];
    for (let l = 0; l < c.L; l++) {
      for (let b = 0; b < B; b++) want.push(...ref.h[l][b]);
      if (c.kind === 'lstm') for (let b = 0; b < B; b++) want.push(...ref.c[l][b]);
    }
    expect(want.length).toBe(per * c.L);
    expect(maxAbsDiff(after, want)).toBeLessThan(1e-12);

    // From a zero state (resetState) as well, and without targets (loss 0, same probs).
    ws.resetState();
    const ref0 = naiveForward(net, inputs, null, B, T);
    expect(ws.forward(T, { withTargets: false })).toBe(0);
    expect(maxAbsDiff(ws.probs.subarray(0, T * B * c.V), ref0.probs)).toBeLessThan(1e-10);
  });

  it('a forward of fewer steps than T uses only those steps', () => {
    const c: SmallModel = { kind: 'gru', L: 2, E: 3, H: 4, V: 6 };
    const B = 2;
    const model = makeModel(c, [{ B, T: 7 }]);
    const ws = model.workspaces[0];
    const rng = new Rng('short');
    randomizeParams(model, rng);
    const inputs = randomIds(rng, 7 * B, c.V);
    const targets = randomIds(rng, 7 * B, c.V);
    setBatch(ws, inputs, targets);
    ws.resetState();
    const loss = ws.forward(3);
    const ref = naiveForward(naiveNetFrom(c.kind, c.V, c.H, c.L, c.E, model.params.t), inputs.slice(0, 3 * B), targets.slice(0, 3 * B), B, 3);
    expect(maxAbsDiff(ws.probs.subarray(0, 3 * B * c.V), ref.probs)).toBeLessThan(1e-10);
    expect(Math.abs(loss - ref.loss) / ref.loss).toBeLessThan(1e-10);
  });
});

/** Number of trainable values, from the architecture (independent of the layout code). */
function expectedCount(kind: CellKind, V: number, H: number, L: number, E: number): number {
  const g = kind === 'lstm' ? 4 : kind === 'gru' ? 3 : 1; // gates
  const biases = kind === 'gru' ? 2 : 1; // GRU: b and bh
  let n = E > 0 ? V * E : 0;
  for (let l = 0; l < L; l++) {
    const D = l === 0 ? (E > 0 ? E : V) : H;
    n += D * g * H + H * g * H + biases * g * H;
  }
  return n + H * V + V;
}

describe('initialisation and parameter counts', () => {
  it('2x128 LSTM, one-hot, V=65 has 239,297 parameters', () => {
    const s: SmallModel = { kind: 'lstm', H: 128, L: 2, E: 0, V: 65 };
    expect(expectedCount('lstm', 65, 128, 2, 0)).toBe(239297);
    expect(makeModel(s, [{ B: 1, T: 1 }]).paramCount).toBe(239297);
  });

  it.each([
    ['rnn', 100, 1, 0, 65],
    ['rnn', 32, 3, 8, 50],
    ['lstm', 64, 1, 16, 83],
    ['lstm', 20, 3, 0, 10],
    ['gru', 128, 2, 0, 65],
    ['gru', 16, 2, 24, 97],
  ] as [CellKind, number, number, number, number][])('%s H=%i L=%i E=%i V=%i: count and tensor shapes', (kind, H, L, E, V) => {
    const model = makeModel({ kind, H, L, E, V }, [{ B: 1, T: 1 }]);
    expect(model.paramCount).toBe(expectedCount(kind, V, H, L, E));
    // The flat buffer holds every tensor (with padding), tensors do not overlap.
    let end = 0;
    let sum = 0;
    for (const t of model.layout.tensors) {
      expect(t.offset).toBeGreaterThanOrEqual(end);
      end = t.offset + t.size;
      sum += t.size;
      expect(t.size).toBe(t.shape.reduce((a, b) => a * b, 1));
    }
    expect(sum).toBe(model.paramCount);
    expect(model.params.flat.length).toBeGreaterThanOrEqual(end);
  });

  it.each(CELLS)('%s init: biases (LSTM forget gate = 1, all else 0), weight ranges', (kind) => {
    const H = 16;
    const V = 11;
    const L = 2;
    const model = makeModel({ kind, H, L, E: 0, V }, [{ B: 1, T: 1 }]);
    model.init(new Rng('init'));
    const t = model.params.t;
    for (let l = 0; l < L; l++) {
      const b = t[`l${l}.b`];
      const G = kind === 'lstm' ? 4 * H : kind === 'gru' ? 3 * H : H;
      expect(b.length).toBe(G);
      for (let j = 0; j < G; j++) {
        const forget = kind === 'lstm' && j >= H && j < 2 * H;
        expect(b[j]).toBe(forget ? 1 : 0);
      }
      if (kind === 'gru') expect(Array.from(t[`l${l}.bh`]).every((x) => x === 0)).toBe(true);
      for (const w of ['Wx', 'Wh']) {
        const v = Array.from(t[`l${l}.${w}`]);
        if (kind === 'rnn') {
          // min-char-rnn: randn * 0.01
          const sd = Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
          expect(sd).toBeGreaterThan(0.008);
          expect(sd).toBeLessThan(0.012);
        } else {
          // PyTorch: uniform(-1/sqrt(H), 1/sqrt(H))
          const a = 1 / Math.sqrt(H);
          expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(a);
          expect(Math.max(...v.map(Math.abs))).toBeGreaterThan(0.8 * a);
        }
      }
    }
    expect(Array.from(t['out.b']).every((x) => x === 0)).toBe(true);
    // Same seed, same model.
    const again = makeModel({ kind, H, L, E: 0, V }, [{ B: 1, T: 1 }]);
    again.init(new Rng('init'));
    expect(Array.from(again.params.flat)).toEqual(Array.from(model.params.flat));
  });
});
