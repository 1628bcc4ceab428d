// The whole model on the WebAssembly and the native kernels (float32) against the plain TypeScript kernels in
// float64, whose forward is checked against a naive implementation and whose gradients are
// checked by finite differences (engine-forward, engine-gradcheck): same weights, same inputs,
// same initial state; forward and every gradient, every cell, one-hot and embedding, 1-2 layers.

import { describe, expect, it } from 'vitest';
import { Rng } from '../src/engine/rng';
import { CELLS, NATIVE_MISSING, NATIVE_SKIP_NOTE, WASM_MISSING, makeModel, randomIds, randomizeParams, randomState, setBatch, type SmallModel } from './helpers/engine';

const B = 3;
const T = 7;
const models: SmallModel[] = CELLS.flatMap((kind) => [
  { kind, H: 24, L: 1, E: 0, V: 11 },
  { kind, H: 17, L: 2, E: 9, V: 13 },
]);

const backends = [
  { kernels: 'wasm' as const, skip: WASM_MISSING, note: '' },
  { kernels: 'native' as const, skip: NATIVE_MISSING !== null, note: NATIVE_SKIP_NOTE },
];

describe.each(backends)('$kernels kernels (float32) = js kernels (float64), whole model$note', ({ kernels, skip }) => {
  it.skipIf(skip).each(models)('$kind L=$L E=$E: probabilities, loss, every gradient and dh0', (s) => {
    const rng = new Rng(`wasm-${s.kind}-${s.L}-${s.E}`);
    const ref = makeModel(s, [{ B, T }], { dtype: 'f64', kernels: 'js' });
    const w = makeModel(s, [{ B, T }], { dtype: 'f32', kernels });
    try {
      randomizeParams(ref, rng, 0.4);
      w.params.flat.set(ref.params.flat);
      const state = randomState(rng, s, B);
      const ids = randomIds(rng, T * B + B, s.V);
      for (const m of [ref, w]) {
        const ws = m.workspaces[0];
        setBatch(ws, ids.slice(0, T * B), ids.slice(B));
        ws.loadState(state);
        m.grads.flat.fill(0);
      }
      const lossRef = ref.workspaces[0].forward(T);
      const lossW = w.workspaces[0].forward(T);
      expect(Math.abs(lossW - lossRef) / lossRef).toBeLessThan(1e-5);
      let dp = 0;
      for (let i = 0; i < T * B * s.V; i++) dp = Math.max(dp, Math.abs(w.workspaces[0].probs[i] - ref.workspaces[0].probs[i]));
      expect(dp).toBeLessThan(1e-5);

      ref.workspaces[0].backward(T, 1);
      w.workspaces[0].backward(T, 1);
      for (const t of ref.layout.tensors) {
        const a = ref.grads.t[t.name];
        const b = w.grads.t[t.name];
        let scale = 0;
        let diff = 0;
        for (let i = 0; i < a.length; i++) {
          scale = Math.max(scale, Math.abs(a[i]));
          diff = Math.max(diff, Math.abs(a[i] - b[i]));
        }
        expect(scale, `${t.name} has a gradient`).toBeGreaterThan(0);
        expect(diff / scale, `${t.name}: max |${kernels} - js| / max |js|`).toBeLessThan(1e-4);
      }
      // the initial state's gradient too
      for (let l = 0; l < s.L; l++) {
        const a = ref.workspaces[0].layers[l].dhsAt[0];
        const b = w.workspaces[0].layers[l].dhsAt[0];
        let scale = 0;
        let diff = 0;
        for (let i = 0; i < a.length; i++) {
          scale = Math.max(scale, Math.abs(a[i]));
          diff = Math.max(diff, Math.abs(a[i] - b[i]));
        }
        expect(diff / scale, `dh0 of layer ${l}`).toBeLessThan(1e-4);
      }
    } finally {
      ref.close();
      w.close();
    }
  });
});
