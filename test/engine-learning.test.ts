// End-to-end learning with the Trainer in float32, on the plain TypeScript kernels and on the
// WebAssembly kernels (skipped only when dist/kernels.wasm is not built):
//   (a) a 2-layer LSTM and a 2-layer GRU memorise a short repeating text (< 0.05 nats/char);
//   (b) a small LSTM trained for a fixed number of steps on tinyshakespeare reaches a
//       validation loss (last 10% of the text, all of it) below 2.45 nats/char (unigram
//       entropy of the text: ~3.3; measured with these settings: ~2.2).
// Seeded: the same numbers every run on the same kernels. No time assertions.
//
// Shape legend: B streams, T steps, H hidden, V vocab.

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Batcher } from '../src/data/batcher';
import type { CellKind, ModelConfig, OptimConfig, OptimizerKind } from '../src/config';
import { corpusFromText, readCorpus, splitCorpus, type Ids } from '../src/data/corpus';
import type { KernelKind } from '../src/engine/kernels';
import { Model } from '../src/engine/model';
import { Rng } from '../src/engine/rng';
import { Trainer } from '../src/train/step';
import { F32_KERNELS, SHAKESPEARE, kernelsMissing } from './helpers/engine';

interface Run {
  kind: CellKind;
  layers: number;
  hidden: number;
  B: number;
  T: number;
  optimizer: OptimizerKind;
  lr: number;
  steps: number;
}

function train(run: Run, data: Ids, V: number, kernels: KernelKind, seed: string) {
  const config: ModelConfig = { model: run.kind, hidden: run.hidden, layers: run.layers, embed: 0, dropout: 0 };
  const model = new Model(config, { config, vocabSize: V, shapes: [{ B: run.B, T: run.T }], optimizer: run.optimizer, dtype: 'f32', kernels });
  const rng = new Rng(seed);
  model.init(rng);
  const optim: OptimConfig = { optimizer: run.optimizer, lr: run.lr, clip: 5, clipNorm: 0, reduction: 'mean' };
  const trainer = new Trainer(model, new Batcher(data, run.B, run.T), optim, rng);
  const losses: number[] = [];
  const t0 = performance.now();
  for (let s = 0; s < run.steps; s++) losses.push(trainer.step(run.lr).loss);
  return { model, trainer, losses, seconds: (performance.now() - t0) / 1000 };
}

const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
const report: string[] = [];

describe.each(F32_KERNELS)('learning, float32, %s kernels', (kernels) => {
  const skip = kernelsMissing(kernels);

  it.skipIf(skip).each([
    { kind: 'lstm', layers: 2, hidden: 24, B: 4, T: 30, optimizer: 'adam', lr: 2e-2, steps: 300 },
    { kind: 'gru', layers: 2, hidden: 24, B: 4, T: 30, optimizer: 'adam', lr: 1e-2, steps: 300 },
  ] as Run[])('$kind x$layers memorises a repeating text', (run) => {
    const text = 'hello world, this is charrnn. '.repeat(40);
    const corpus = corpusFromText(text);
    const r = train(run, corpus.ids, corpus.vocab.size, kernels, `repeat-${run.kind}`);
    const first = r.losses[0];
    const last = mean(r.losses.slice(-10));
    const whole = r.trainer.evaluate(corpus.ids).loss; // the whole text, state carried through
    r.model.close();
    report.push(`${kernels} ${run.kind}x${run.layers} repeat: step 1 ${first.toFixed(3)}, last 10 ${last.toFixed(4)}, whole text ${whole.toFixed(4)} nats/char, ${r.seconds.toFixed(1)} s`);
    expect(first).toBeGreaterThan(2); // started from ~ln V
    expect(last).toBeLessThan(0.05);
    expect(whole).toBeLessThan(0.05);
  }, 60_000);

  it.skipIf(skip)(
    'a small LSTM learns tinyshakespeare: validation loss < 2.45 nats/char',
    () => {
      const corpus = readCorpus([fileURLToPath(SHAKESPEARE)]);
      const { train: tr, val } = splitCorpus(corpus.ids, 0.1);
      const run: Run = { kind: 'lstm', layers: 1, hidden: 32, B: 32, T: 32, optimizer: 'adagrad', lr: 0.1, steps: 200 };
      const r = train(run, tr, corpus.vocab.size, kernels, 'shakespeare');
      const t0 = performance.now();
      const ev = r.trainer.evaluate(val);
      const evalSeconds = (performance.now() - t0) / 1000;
      r.model.close();
      report.push(
        `${kernels} tinyshakespeare lstm 1x${run.hidden} B${run.B} T${run.T} ${run.optimizer} ${run.lr} x${run.steps}: ` +
          `train ${mean(r.losses.slice(0, 10)).toFixed(3)} -> ${mean(r.losses.slice(-10)).toFixed(3)}, ` +
          `val ${ev.loss.toFixed(3)} nats/char over ${ev.count} chars; train ${r.seconds.toFixed(1)} s, eval ${evalSeconds.toFixed(1)} s`,
      );
      expect(ev.count).toBeGreaterThan(val.length - 32 - 1);
      expect(ev.loss).toBeLessThan(2.45);
    },
    180_000,
  );
});

describe('learning report', () => {
  it('summary', () => {
    console.log('learning:\n  ' + report.join('\n  '));
    expect(report.length).toBeGreaterThanOrEqual(3);
  });
});
