// Truncated BPTT bookkeeping: a sequence run as one chunk equals the same sequence run as
// several chunks with the state carried; the Batcher's stream layout and epoch wrap; the
// Trainer's state reset on wrap; evaluateText against the naive forward of whole streams.
//
// Shape legend: B streams, T steps, E embedding, H hidden, V vocab, L layers.

import { describe, expect, it } from 'vitest';
import type { Dtype } from '../src/engine/arena';
import { Batcher } from '../src/data/batcher';
import type { OptimConfig } from '../src/config';
import type { KernelKind } from '../src/engine/kernels';
import { Rng } from '../src/engine/rng';
import { evaluateText, Trainer } from '../src/train/step';
import { CELLS, F32_KERNELS, kernelsMissing, copyOf, makeModel, maxAbsDiff, randomIds, randomizeParams, randomState, type SmallModel } from './helpers/engine';
import { naiveForward, naiveNetFrom } from './helpers/naive';

const TOTAL = 12;
const CHUNK = 4;

/** Whole (T=12) vs 3 chunks of 4 on two models with the same weights and initial state. */
function chunkedVsWhole(s: SmallModel, dtype: Dtype, kernels: KernelKind) {
  const B = 3;
  const whole = makeModel(s, [{ B, T: TOTAL }], { dtype, kernels });
  const chunked = makeModel(s, [{ B, T: CHUNK }], { dtype, kernels });
  const rng = new Rng(`tbptt-${s.kind}-${s.L}-${s.E}`);
  randomizeParams(whole, rng);
  chunked.params.flat.set(whole.params.flat);
  const inputs = randomIds(rng, TOTAL * B, s.V);
  const targets = randomIds(rng, TOTAL * B, s.V);
  const state = randomState(rng, s, B);

  const w = whole.workspaces[0];
  w.inputs.set(inputs);
  w.targets.set(targets);
  w.loadState(state);
  const wholeLoss = w.forward(TOTAL);
  const wholeProbs = copyOf(w.probs, TOTAL * B * s.V);
  const wholeFinal = new Float64Array(w.stateSize);
  w.saveState(wholeFinal);

  const c = chunked.workspaces[0];
  c.loadState(state);
  let chunkLoss = 0;
  const chunkProbs = new Float64Array(TOTAL * B * s.V);
  for (let k = 0; k < TOTAL / CHUNK; k++) {
    // rows t of the chunk are rows k*CHUNK + t of the whole (time-major (T,B))
    c.inputs.set(inputs.slice(k * CHUNK * B, (k + 1) * CHUNK * B));
    c.targets.set(targets.slice(k * CHUNK * B, (k + 1) * CHUNK * B));
    chunkLoss += c.forward(CHUNK);
    chunkProbs.set(c.probs.subarray(0, CHUNK * B * s.V), k * CHUNK * B * s.V);
  }
  const chunkFinal = new Float64Array(c.stateSize);
  c.saveState(chunkFinal);
  whole.close();
  chunked.close();
  return { wholeLoss, chunkLoss, wholeProbs, chunkProbs, wholeFinal, chunkFinal };
}

const models: SmallModel[] = [];
for (const kind of CELLS) {
  models.push({ kind, L: 2, E: 0, H: 6, V: 9 });
  models.push({ kind, L: 1, E: 5, H: 6, V: 9 });
}

describe('one chunk of 12 = three chunks of 4 with the state carried', () => {
  it.each(models)('$kind L=$L E=$E float64', (s) => {
    const r = chunkedVsWhole(s, 'f64', 'js');
    // The same operations on the same rows: bit-identical probabilities and final state.
    expect(Array.from(r.chunkProbs)).toEqual(Array.from(r.wholeProbs));
    expect(Array.from(r.chunkFinal)).toEqual(Array.from(r.wholeFinal));
    // The loss is summed in a different grouping.
    expect(Math.abs(r.chunkLoss - r.wholeLoss) / r.wholeLoss).toBeLessThan(1e-14);
  });

  describe.each(F32_KERNELS)('float32 %s kernels', (kernels) => {
    it.skipIf(kernelsMissing(kernels)).each(models)('$kind L=$L E=$E', (s) => {
      const r = chunkedVsWhole(s, 'f32', kernels);
      expect(maxAbsDiff(r.chunkProbs, r.wholeProbs)).toBeLessThanOrEqual(kernels === 'js' ? 0 : 1e-6);
      expect(maxAbsDiff(r.chunkFinal, r.wholeFinal)).toBeLessThanOrEqual(kernels === 'js' ? 0 : 1e-6);
      expect(Math.abs(r.chunkLoss - r.wholeLoss) / r.wholeLoss).toBeLessThan(1e-6);
    });
  });

  it('without the carry the chunks differ (the test can see a missing carry)', () => {
    const s: SmallModel = { kind: 'lstm', L: 1, E: 0, H: 6, V: 9 };
    const m = makeModel(s, [{ B: 3, T: CHUNK }]);
    const rng = new Rng('nocarry');
    randomizeParams(m, rng);
    const ws = m.workspaces[0];
    ws.inputs.set(randomIds(rng, CHUNK * 3, s.V));
    ws.targets.set(randomIds(rng, CHUNK * 3, s.V));
    ws.resetState();
    const first = ws.forward(CHUNK);
    const again = ws.forward(CHUNK); // same ids, carried state
    ws.resetState();
    expect(ws.forward(CHUNK)).toBe(first);
    expect(again).not.toBe(first);
  });
});

describe('Batcher', () => {
  it('cuts B contiguous streams, time-major (T,B), wraps after the last full batch', () => {
    const N = 103;
    const B = 4;
    const T = 5;
    const data = Uint16Array.from({ length: N }, (_, i) => (i * 7919) % 1000); // distinct values
    const batcher = new Batcher(data, B, T);
    const streamLen = Math.floor((N - 1) / B);
    expect(batcher.streamLen).toBe(streamLen);
    expect(batcher.batchesPerEpoch).toBe(Math.floor(streamLen / T));
    const inputs = new Int32Array(T * B);
    const targets = new Int32Array(T * B);
    const per = batcher.batchesPerEpoch;
    for (let call = 0; call < 3 * per + 2; call++) {
      const wrapped = batcher.next(inputs, targets);
      const k = call % per; // batch index within the epoch
      expect(wrapped).toBe(call > 0 && k === 0);
      expect(batcher.epoch).toBe(Math.floor(call / per));
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) {
          const at = b * streamLen + k * T + t; // stream b, contiguous within and across batches
          expect(inputs[t * B + b]).toBe(data[at]);
          expect(targets[t * B + b]).toBe(data[at + 1]);
        }
      }
    }
  });

  it('rejects a text shorter than one batch', () => {
    expect(() => new Batcher(new Uint8Array(20), 4, 5)).toThrow(/shorter than one batch/);
    expect(() => new Batcher(new Uint8Array(21), 4, 5)).not.toThrow();
  });
});

describe('Trainer', () => {
  it.each(CELLS)('%s: the state is carried between steps and reset exactly when the streams wrap', (kind) => {
    const s: SmallModel = { kind, L: 2, E: 0, H: 5, V: 6 };
    const B = 2;
    const T = 3;
    const model = makeModel(s, [{ B, T }], { optimizer: 'adagrad' });
    const rng = new Rng(`trainer-${kind}`);
    randomizeParams(model, rng);
    const data = Uint8Array.from(randomIds(rng, 2 * 3 * 4 + 1 + 3, s.V)); // 4 batches per epoch
    const batcher = new Batcher(data, B, T);
    expect(batcher.batchesPerEpoch).toBe(4);
    const optim: OptimConfig = { optimizer: 'adagrad', lr: 0.05, clip: 5, clipNorm: 0, reduction: 'mean' };
    const trainer = new Trainer(model, batcher, optim, rng);
    const ws = trainer.ws;
    let prevFinal: Float64Array[] | null = null;
    let resets = 0;
    for (let step = 0; step < 11; step++) {
      const willWrap = batcher.pos >= batcher.batchesPerEpoch;
      const r = trainer.step(0.05);
      expect(Number.isFinite(r.loss)).toBe(true);
      for (let l = 0; l < s.L; l++) {
        const L = ws.layers[l];
        const initial = Array.from(L.hsAt[0]);
        const initialC = L.cs ? Array.from(L.csAt[0]) : [];
        if (step === 0 || willWrap) {
          expect(initial.every((x) => x === 0)).toBe(true);
          expect(initialC.every((x) => x === 0)).toBe(true);
        } else {
          // the final state of the previous step (h, and c for LSTM)
          expect(initial).toEqual(Array.from(prevFinal![2 * l]));
          expect(initialC).toEqual(Array.from(prevFinal![2 * l + 1]));
          expect(initial.some((x) => x !== 0)).toBe(true);
        }
      }
      if (willWrap) resets++;
      prevFinal = ws.layers.flatMap((L) => [copyOf(L.hsAt[T]), L.cs ? copyOf(L.csAt[T]) : new Float64Array(0)]);
    }
    expect(resets).toBe(2); // steps 4 and 8
    expect(trainer.iter).toBe(11);
  });

  it('evaluate() leaves the training state as it was', () => {
    const s: SmallModel = { kind: 'lstm', L: 2, E: 0, H: 5, V: 6 };
    const model = makeModel(s, [{ B: 2, T: 3 }], { optimizer: 'sgd' });
    const rng = new Rng('eval-state');
    randomizeParams(model, rng);
    const data = Uint8Array.from(randomIds(rng, 40, s.V));
    const optim: OptimConfig = { optimizer: 'sgd', lr: 0.1, clip: 0, clipNorm: 0, reduction: 'mean' };
    const a = new Trainer(model, new Batcher(data, 2, 3), optim, rng);
    const twin = makeModel(s, [{ B: 2, T: 3 }], { optimizer: 'sgd' });
    twin.params.flat.set(model.params.flat);
    const b = new Trainer(twin, new Batcher(data, 2, 3), optim, new Rng('unused'));
    for (let i = 0; i < 3; i++) {
      expect(a.step(0.1).loss).toBe(b.step(0.1).loss);
    }
    const ev = a.evaluate(Uint8Array.from(randomIds(rng, 25, s.V)));
    expect(ev.count).toBe(2 * 12);
    // The trainer that evaluated continues exactly like its twin that did not.
    for (let i = 0; i < 3; i++) {
      expect(a.step(0.1).loss).toBe(b.step(0.1).loss);
    }
    expect(Array.from(model.params.flat)).toEqual(Array.from(twin.params.flat));
  });
});

describe('evaluateText', () => {
  it.each([
    [100, 4, 5],
    [97, 3, 7],
    [50, 1, 8],
  ])('N=%i B=%i T=%i: mean loss of every stream run whole (naive), all but < B characters', (N, B, T) => {
    const s: SmallModel = { kind: 'gru', L: 2, E: 3, H: 4, V: 7 };
    const model = makeModel(s, [{ B, T }]);
    const rng = new Rng(`evaltext-${N}`);
    randomizeParams(model, rng);
    const data = Uint8Array.from(randomIds(rng, N, s.V));
    const ws = model.workspaces[0];
    // a stale carried state must not leak into the evaluation
    ws.loadState(randomState(rng, s, B));
    const r = evaluateText(ws, data);

    const streamLen = Math.floor((N - 1) / B);
    expect(r.count).toBe(B * streamLen);
    const uncovered = N - 1 - r.count; // predictions left out
    expect(uncovered).toBeGreaterThanOrEqual(0);
    expect(uncovered).toBeLessThan(B);
    // Reference: the B streams as one naive forward of streamLen steps from a zero state.
    const inputs: number[] = [];
    const targets: number[] = [];
    for (let t = 0; t < streamLen; t++) {
      for (let b = 0; b < B; b++) {
        inputs.push(data[b * streamLen + t]);
        targets.push(data[b * streamLen + t + 1]);
      }
    }
    const ref = naiveForward(naiveNetFrom(s.kind, s.V, s.H, s.L, s.E, model.params.t), inputs, targets, B, streamLen);
    expect(Math.abs(r.loss - ref.loss / r.count) / r.loss).toBeLessThan(1e-12);
  });
});
