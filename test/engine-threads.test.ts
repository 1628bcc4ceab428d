// The thread count changes how the wasm and native kernels split the work, never the numbers:
// training the same model from the same seed on 1, 2 and 3 threads gives bit-identical weights.

import { describe, expect, it } from 'vitest';
import { Batcher } from '../src/data/batcher';
import type { ModelConfig } from '../src/config';
import { readCorpus, splitCorpus } from '../src/data/corpus';
import { Model } from '../src/engine/model';
import { Rng } from '../src/engine/rng';
import { Trainer } from '../src/train/step';
import { join } from 'node:path';
import type { KernelKind } from '../src/engine/kernels';
import { tuneNative } from '../src/engine/kernels/native';
import { NATIVE_MISSING, NATIVE_SKIP_NOTE, WASM_MISSING } from './helpers/engine';

const corpus = readCorpus([join(__dirname, '..', 'data', 'tinyshakespeare.txt')]);
const { train } = splitCorpus(corpus.ids.subarray(0, 200_000), 0.1);

function trainOn(kernels: KernelKind, threads: number, config: ModelConfig, steps: number): { params: Float32Array; losses: number[] } {
  const model = new Model(config, {
    config,
    vocabSize: corpus.vocab.size,
    shapes: [{ B: 32, T: 40 }],
    optimizer: 'adam',
    kernels,
    threads,
  });
  try {
    const rng = new Rng(5);
    model.init(rng);
    const trainer = new Trainer(model, new Batcher(train, 32, 40), { optimizer: 'adam', lr: 3e-3, clip: 5, clipNorm: 1, reduction: 'mean' }, rng);
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) losses.push(trainer.step(3e-3).loss);
    return { params: Float32Array.from(model.params.flat), losses };
  } finally {
    model.close();
  }
}

const backends = [
  { kernels: 'wasm' as const, skip: WASM_MISSING, note: '' },
  { kernels: 'native' as const, skip: NATIVE_MISSING !== null, note: NATIVE_SKIP_NOTE },
];

describe.each(backends)('$kernels kernels: results do not depend on the thread count$note', ({ kernels, skip }) => {
  const configs: ModelConfig[] = [
    { model: 'lstm', hidden: 192, layers: 2, embed: 48, dropout: 0.1 },
    { model: 'gru', hidden: 136, layers: 2, embed: 0, dropout: 0 },
    { model: 'rnn', hidden: 100, layers: 1, embed: 0, dropout: 0 },
  ];
  it.skipIf(skip).each(configs)('$model $layers x $hidden: 1, 2 and 3 threads give the same bits', (config) => {
    const one = trainOn(kernels, 1, config, 6);
    for (const threads of [2, 3]) {
      const many = trainOn(kernels, threads, config, 6);
      expect(many.losses).toEqual(one.losses);
      let differ = 0;
      for (let i = 0; i < one.params.length; i++) if (!Object.is(one.params[i], many.params[i])) differ++;
      expect(differ, `parameters that differ with ${threads} threads`).toBe(0);
    }
    // and training did move the weights (the comparison is not between two untouched models)
    expect(one.losses[5]).toBeLessThan(one.losses[0]);
  });
});

describe.skipIf(NATIVE_MISSING !== null)(`native kernels: every product and cell step split, small shapes too${NATIVE_SKIP_NOTE}`, () => {
  it.each([
    { model: 'lstm', hidden: 37, layers: 2, embed: 11, dropout: 0 },
    { model: 'gru', hidden: 29, layers: 1, embed: 0, dropout: 0 },
  ] as ModelConfig[])('$model $layers x $hidden: 1, 2 and 3 threads give the same bits', (config) => {
    const old = tuneNative({ splitMinMacs: 0, splitMinElems: 0 });
    try {
      const one = trainOn('native', 1, config, 4);
      for (const threads of [2, 3]) {
        const many = trainOn('native', threads, config, 4);
        expect(many.losses).toEqual(one.losses);
        let differ = 0;
        for (let i = 0; i < one.params.length; i++) if (!Object.is(one.params[i], many.params[i])) differ++;
        expect(differ, `parameters that differ with ${threads} threads`).toBe(0);
      }
      expect(one.losses[3]).toBeLessThan(one.losses[0]);
    } finally {
      tuneNative(old);
    }
  });
});
