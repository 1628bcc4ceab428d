// Gradient check of the whole model (embedding or one-hot -> L cells -> linear -> softmax ->
// summed cross-entropy) in float64: the backward pass against sixth-order central
// differences of Workspace.forward, for EVERY parameter value and every value of the initial
// state (h0, and c0 for LSTM, of every layer), with randomised weights, biases and state.
// With dropout the masks are held fixed by re-seeding the generator before every forward.
//
// Shape legend: B streams, T steps, E embedding, H hidden, V vocab, L layers.

import { describe, expect, it } from 'vitest';
import type { CellKind } from '../src/config';
import { Rng } from '../src/engine/rng';
import { CELLS, copyOf, makeModel, randomIds, randomizeParams, randomState, setBatch, type SmallModel } from './helpers/engine';
import { centralDiff2, centralDiff6, emptyReport, merge, record, type GradReport } from './helpers/gradcheck';

const TOL = 1e-6;
const summary: Record<string, { rel6: number; rel2: number; count: number }> = {};

interface Case {
  kind: CellKind;
  L: number;
  E: number;
  dropout: number;
  B: number;
  T: number;
  H: number;
  V: number;
  /** Steps run (a partial chunk when < T, as at the end of an evaluated text). */
  steps?: number;
}

/** Runs the check; returns the report of the sixth-order check and the worst 2nd-order error. */
function gradcheck(c: Case): { r: GradReport; rel2: GradReport } {
  const s: SmallModel = { kind: c.kind, H: c.H, L: c.L, E: c.E, V: c.V, dropout: c.dropout };
  const { B, T } = c;
  const steps = c.steps ?? T;
  const model = makeModel(s, [{ B, T }]);
  const ws = model.workspaces[0];
  const rng = new Rng(`gradcheck-${c.kind}-${c.L}-${c.E}-${c.dropout}`);
  randomizeParams(model, rng);
  setBatch(ws, randomIds(rng, T * B, c.V), randomIds(rng, T * B, c.V));
  const state = randomState(rng, s, B);
  expect(state.length).toBe(ws.stateSize);

  const fwd = () => (c.dropout > 0 ? { train: true, rng: new Rng('fixed-mask') } : {});
  const loss = (): number => {
    ws.loadState(state); // forward carries the previous forward's state: start over each time
    return ws.forward(steps, fwd());
  };

  if (steps < T) {
    // leave values of a full chunk in every buffer: a partial chunk must not read them
    ws.loadState(state);
    ws.forward(T, fwd());
    ws.backward(T, 1);
  }
  // Analytic gradients.
  model.grads.flat.fill(0); // backward accumulates: the caller zeroes, as Trainer.step does
  const l0 = loss();
  expect(Number.isFinite(l0)).toBe(true);
  ws.backward(steps, 1);
  const grads: Record<string, Float64Array> = {};
  for (const t of model.layout.tensors) grads[t.name] = copyOf(model.grads.t[t.name]);
  const dState = new Float64Array(state.length);
  let at = 0;
  for (const L of ws.layers) {
    dState.set(L.dhsAt[0], at);
    if (L.dc) dState.set(L.dc, at + B * c.H);
    at += L.stateSize;
  }
  if (c.dropout > 0) {
    // the masks really drop something and keep something
    for (const m of ws.masks) {
      const vals = new Set(Array.from(m.subarray(0, steps * B * c.H)));
      expect(vals).toEqual(new Set([0, 1 / (1 - c.dropout)]));
    }
  }

  const r = emptyReport();
  const r2 = emptyReport();
  for (const t of model.layout.tensors) {
    const v = model.params.t[t.name];
    for (let i = 0; i < t.size; i++) {
      const get = () => v[i];
      const set = (x: number) => {
        v[i] = x;
      };
      record(r, `${t.name}[${i}]`, grads[t.name][i], centralDiff6(loss, get, set));
      record(r2, `${t.name}[${i}]`, grads[t.name][i], centralDiff2(loss, get, set));
    }
  }
  // The initial state: h0 (and c0) of every layer.
  const rs = emptyReport();
  for (let i = 0; i < state.length; i++) {
    const get = () => state[i];
    const set = (x: number) => {
      state[i] = x;
    };
    record(rs, `state[${i}]`, dState[i], centralDiff6(loss, get, set));
    record(r2, `state[${i}]`, dState[i], centralDiff2(loss, get, set));
  }
  // Every value of the initial state influences the loss (the check did not degenerate).
  expect(rs.nonZero).toBe(state.length);
  merge(r, rs);
  // Weights and state restored exactly: the loss is the same as before the check.
  expect(loss()).toBe(l0);
  return { r, rel2: r2 };
}

const cases: Case[] = [];
for (const kind of CELLS) {
  for (const E of [0, 3]) {
    for (const L of [1, 2]) {
      cases.push({ kind, L, E, dropout: 0, B: L === 1 ? 3 : 2, T: L === 1 ? 5 : 4, H: L === 1 ? 4 : 3, V: E > 0 ? 7 : 5 });
    }
  }
}
// Dropout with fixed masks (between the layers and before the output layer).
for (const kind of CELLS) cases.push({ kind, L: 2, E: 3, dropout: 0.3, B: 2, T: 4, H: 4, V: 6 });
// A partial chunk: 3 of T = 6 steps (the rest of the buffers holds stale values).
for (const kind of CELLS) cases.push({ kind, L: 2, E: 0, dropout: 0, B: 2, T: 6, H: 3, V: 5, steps: 3 });

describe('gradient check (float64, every parameter and initial state value)', () => {
  it.each(cases)('$kind L=$L E=$E dropout=$dropout (B=$B T=$T H=$H V=$V steps=$steps)', (c) => {
    const { r, rel2 } = gradcheck(c);
    summary[`${c.kind} L=${c.L} E=${c.E} p=${c.dropout}${c.steps ? ` steps=${c.steps}/${c.T}` : ''}`] = { rel6: r.maxRel, rel2: rel2.maxRel, count: r.count };
    // Most values have a non-zero gradient (one-hot rows / embedding rows of absent ids are 0).
    expect(r.nonZero).toBeGreaterThan(0.7 * r.count);
    expect(r.maxRel, `worst at ${r.where}: analytic ${r.analytic} numeric ${r.numeric}`).toBeLessThan(TOL);
  });

  it('the check fails on a wrong gradient (sanity of the harness)', () => {
    // The same harness on a deliberately corrupted backward must report a large error.
    const s: SmallModel = { kind: 'lstm', H: 3, L: 1, E: 0, V: 5 };
    const model = makeModel(s, [{ B: 2, T: 3 }]);
    const ws = model.workspaces[0];
    const rng = new Rng('harness');
    randomizeParams(model, rng);
    setBatch(ws, randomIds(rng, 6, 5), randomIds(rng, 6, 5));
    const state = randomState(rng, s, 2);
    const loss = () => {
      ws.loadState(state);
      return ws.forward(3);
    };
    model.grads.flat.fill(0);
    loss();
    ws.backward(3, 0.5); // half the gradient of the summed loss
    const w = model.params.t['l0.Wh'];
    const g = model.grads.t['l0.Wh'];
    const r = emptyReport();
    for (let i = 0; i < w.length; i++) {
      record(r, `Wh[${i}]`, g[i], centralDiff6(loss, () => w[i], (x) => (w[i] = x)));
    }
    expect(r.maxRel).toBeGreaterThan(0.3);
  });

  it('summary', () => {
    const rows = Object.entries(summary);
    expect(rows.length).toBe(cases.length);
    let worst = 0;
    for (const [, v] of rows) worst = Math.max(worst, v.rel6);
    console.log(
      'gradcheck max relative errors (6th-order h=2^-7 | 2nd-order h=1e-5):\n' +
        rows.map(([k, v]) => `  ${k.padEnd(30)} ${v.count} values  ${v.rel6.toExponential(2)} | ${v.rel2.toExponential(2)}`).join('\n') +
        `\n  worst: ${worst.toExponential(2)}`,
    );
    expect(worst).toBeLessThan(TOL);
  });
});
