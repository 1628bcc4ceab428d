// The optimizers and gradient clipping against the textbook formulas, computed by hand here
// (scalar by scalar, float64), and the optimizer as Trainer.step drives it.

import { describe, expect, it } from 'vitest';
import { Batcher } from '../src/data/batcher';
import { OPTIM_CONSTANTS, type OptimConfig, type OptimizerKind } from '../src/config';
import { optimizerSlots } from '../src/engine/model';
import { clipByNorm, clipByValue, globalNorm, optimizerStep } from '../src/engine/optim';
import { Rng } from '../src/engine/rng';
import { Trainer } from '../src/train/step';
import { copyOf, makeModel, randomIds, randomizeParams, type SmallModel } from './helpers/engine';

const P0 = [0.5, -1.25, 2, 0, -0.003, 7.5, 1e-3];
const G1 = [0.1, -2, 0, 3.5, 1e-6, -0.25, 40];
const G2 = [-0.3, -1, 0.5, 3.5, -2e-6, 0.75, -10];

function close(got: ArrayLike<number>, want: number[], rel = 1e-14): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(got[i] - want[i]), `value ${i}: got ${got[i]} want ${want[i]}`).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(want[i])));
  }
}

/** Runs the engine's optimizer for the given gradients, from zeroed state. */
function run(kind: OptimizerKind, lr: number, grads: number[][]): { p: Float64Array; slots: Float64Array[] } {
  const p = Float64Array.from(P0);
  const slots = Array.from({ length: optimizerSlots(kind) }, () => new Float64Array(P0.length));
  grads.forEach((g, i) => optimizerStep(kind, p, Float64Array.from(g), slots, lr, i + 1));
  return { p, slots };
}

describe('optimizers (one and two steps, by hand)', () => {
  it('the constants are the usual ones', () => {
    expect(OPTIM_CONSTANTS).toEqual({ eps: 1e-8, rmspropDecay: 0.95, adamBeta1: 0.9, adamBeta2: 0.999 });
  });

  it('sgd: p -= lr g', () => {
    const lr = 0.3;
    const { p } = run('sgd', lr, [G1, G2]);
    close(p, P0.map((x, i) => x - lr * G1[i] - lr * G2[i]));
    expect(optimizerSlots('sgd')).toBe(0);
  });

  it('adagrad (min-char-rnn): mem += g*g; p -= lr g / sqrt(mem + 1e-8)', () => {
    const lr = 0.1;
    const one = run('adagrad', lr, [G1]);
    const want1 = P0.map((x, i) => x - (lr * G1[i]) / Math.sqrt(G1[i] * G1[i] + 1e-8));
    close(one.p, want1);
    close(one.slots[0], G1.map((g) => g * g));
    const two = run('adagrad', lr, [G1, G2]);
    const mem2 = G1.map((g, i) => g * g + G2[i] * G2[i]);
    close(two.p, want1.map((x, i) => x - (lr * G2[i]) / Math.sqrt(mem2[i] + 1e-8)));
  });

  it('rmsprop (char-rnn): m = 0.95 m + 0.05 g^2; p -= lr g / (sqrt(m) + 1e-8)', () => {
    const lr = 2e-3;
    const m1 = G1.map((g) => 0.05 * g * g);
    const want1 = P0.map((x, i) => x - (lr * G1[i]) / (Math.sqrt(m1[i]) + 1e-8));
    close(run('rmsprop', lr, [G1]).p, want1);
    const m2 = m1.map((m, i) => 0.95 * m + 0.05 * G2[i] * G2[i]);
    const two = run('rmsprop', lr, [G1, G2]);
    close(two.p, want1.map((x, i) => x - (lr * G2[i]) / (Math.sqrt(m2[i]) + 1e-8)));
    close(two.slots[0], m2);
  });

  it('adam: bias-corrected, beta 0.9/0.999, eps 1e-8, two steps', () => {
    const lr = 1e-2;
    let p = P0.slice();
    let m = P0.map(() => 0);
    let v = P0.map(() => 0);
    const wants: number[][] = [];
    [G1, G2].forEach((g, k) => {
      const t = k + 1;
      m = m.map((mi, i) => 0.9 * mi + 0.1 * g[i]);
      v = v.map((vi, i) => 0.999 * vi + 0.001 * g[i] * g[i]);
      const mhat = m.map((mi) => mi / (1 - 0.9 ** t));
      const vhat = v.map((vi) => vi / (1 - 0.999 ** t));
      p = p.map((x, i) => x - (lr * mhat[i]) / (Math.sqrt(vhat[i]) + 1e-8));
      wants.push(p.slice());
    });
    // step 1 moves every value with a non-zero gradient by ~lr (mhat/sqrt(vhat) = sign(g))
    expect(Math.abs(wants[0][0] - P0[0] + lr)).toBeLessThan(1e-9);
    close(run('adam', lr, [G1]).p, wants[0], 1e-13);
    const two = run('adam', lr, [G1, G2]);
    close(two.p, wants[1], 1e-13);
    close(two.slots[0], m, 1e-13);
    close(two.slots[1], v, 1e-13);
  });

  it('works on float32 buffers (same formulas, float32 storage)', () => {
    const p = Float32Array.from(P0);
    const mem = new Float32Array(P0.length);
    optimizerStep('adagrad', p, Float32Array.from(G1), [mem], 0.1, 1);
    const want = P0.map((x, i) => Math.fround(Math.fround(x) - (0.1 * Math.fround(G1[i])) / Math.sqrt(Math.fround(Math.fround(G1[i]) ** 2) + 1e-8)));
    for (let i = 0; i < P0.length; i++) expect(Math.abs(p[i] - want[i])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want[i])));
  });
});

describe('gradient clipping', () => {
  it('clipByValue clips every value to [-c, c] and leaves the others', () => {
    const g = Float64Array.from([0.5, -7, 5, -5, 12.25, -0.0, 4.999, -5.001]);
    clipByValue(g, 5);
    expect(Array.from(g)).toEqual([0.5, -5, 5, -5, 5, -0.0, 4.999, -5]);
  });

  it('clipByNorm scales to the max norm and returns the norm before clipping', () => {
    const g = Float64Array.from([3, -4, 12, 0, 1e-3]);
    const norm = Math.sqrt(9 + 16 + 144 + 1e-6);
    const before = Array.from(g);
    expect(globalNorm(g)).toBeCloseTo(norm, 14);
    expect(clipByNorm(g, 2)).toBeCloseTo(norm, 14);
    let n2 = 0;
    for (let i = 0; i < g.length; i++) {
      n2 += g[i] * g[i];
      expect(g[i] / before[i] || 0).toBeCloseTo(before[i] === 0 ? 0 : 2 / norm, 12); // same direction
    }
    expect(Math.abs(Math.sqrt(n2) - 2)).toBeLessThan(1e-10);
  });

  it('clipByNorm leaves a gradient within the norm untouched', () => {
    const g = Float32Array.from([0.3, -0.4]);
    expect(clipByNorm(g, 1)).toBeCloseTo(0.5, 6);
    expect(Array.from(g)).toEqual(Array.from(Float32Array.from([0.3, -0.4])));
  });
});

describe('Trainer.step: reduction, norm clip, value clip, update', () => {
  it.each(['mean', 'sum'] as const)('reduction %s, clipNorm then clip then adam, by hand on the gradients', (reduction) => {
    const s: SmallModel = { kind: 'rnn', L: 1, E: 0, H: 4, V: 5 };
    const B = 2;
    const T = 3;
    const optimizer: OptimizerKind = 'adam';
    const model = makeModel(s, [{ B, T }], { optimizer });
    const twin = makeModel(s, [{ B, T }], { optimizer });
    const rng = new Rng(`trainer-step-${reduction}`);
    randomizeParams(model, rng, 2);
    twin.params.flat.set(model.params.flat);
    const data = Uint8Array.from(randomIds(rng, B * T + 1, s.V));
    const optim: OptimConfig = { optimizer, lr: 0.01, clip: 0.05, clipNorm: 0.5, reduction };
    const trainer = new Trainer(model, new Batcher(data, B, T), optim, rng);
    const r = trainer.step(0.01);

    // By hand on the twin: gradient of the summed loss, scaled, norm-clipped, value-clipped.
    const ws = twin.workspaces[0];
    new Batcher(data, B, T).next(ws.inputs, ws.targets);
    twin.grads.flat.fill(0);
    const sum = ws.forward(T);
    ws.backward(T, 1);
    expect(r.loss).toBeCloseTo(sum / (B * T), 12);
    const g = copyOf(twin.grads.flat).map((x) => (reduction === 'mean' ? x / (B * T) : x));
    const norm = Math.sqrt(g.reduce((a, x) => a + x * x, 0));
    expect(Math.abs(r.gradNorm - norm) / norm).toBeLessThan(1e-12);
    expect(norm).toBeGreaterThan(0.5); // the norm clip is active
    const clipped = g.map((x) => Math.min(0.05, Math.max(-0.05, (x * 0.5) / norm)));
    const want = Array.from(twin.params.flat).map((p, i) => {
      const m = 0.1 * clipped[i];
      const v = 0.001 * clipped[i] * clipped[i];
      return p - (0.01 * (m / 0.1)) / (Math.sqrt(v / 0.001) + 1e-8);
    });
    close(model.params.flat, want, 1e-12);
    expect(trainer.iter).toBe(1);
    // the update zeroed the gradients for the next step (whose forwardBackward then skips its fill)
    expect(model.grads.flat.some((x) => x !== 0)).toBe(false);
    expect(g.some((x) => x !== 0)).toBe(true);
  });
});

describe('optimizerStep with the gradient clipped first and zeroed after', () => {
  it.each(['sgd', 'adagrad', 'rmsprop', 'adam'] as const)('%s: the same values as clipByValue then the update, and g left zero', (kind) => {
    const slots = () => Array.from({ length: optimizerSlots(kind) }, () => new Float32Array(P0.length).fill(0.5));
    const [p1, p2] = [Float32Array.from(P0), Float32Array.from(P0)];
    const [s1, s2] = [slots(), slots()];
    const [g1, g2] = [Float32Array.from(G1), Float32Array.from(G1)];
    optimizerStep(kind, p1, g1, s1, 0.1, 1, undefined, { clip: 3, zeroGrad: true });
    clipByValue(g2, 3);
    optimizerStep(kind, p2, g2, s2, 0.1, 1);
    expect(Array.from(p1)).toEqual(Array.from(p2));
    s1.forEach((s, i) => expect(Array.from(s)).toEqual(Array.from(s2[i])));
    expect(Array.from(p1)).not.toEqual(Array.from(Float32Array.from(P0)));
    expect(Array.from(g1)).toEqual(P0.map(() => 0));
  });
});
