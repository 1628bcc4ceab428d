// `npm run bench`: training and sampling speed of charrnn on data/tinyshakespeare.txt, for the
// plain TypeScript kernels, the WebAssembly kernels and the native kernels (when the addon is
// built) on 1 and 2 threads. A script, not a test. bench/sweep.ts sweeps training shapes.
//
//   node dist/bench.js [--json] [--configs C1,C2,C3] [--kernels js,wasm,native] [--threads 1,2]
//                      [--window 2] [--windows 5] [--skip-slow]
//
// Configurations (the issue's):
//   C1: rnn, hidden 100, 1 layer, one-hot, seq 25, batch 1, Adagrad lr 0.1 (min-char-rnn)
//   C2: lstm, hidden 128, 2 layers, embedding 128, seq 50, batch 50
//   C3: lstm, hidden 512, 2 layers, embedding 512, seq 50, batch 50
// Each figure is the median of several timed windows after a warm-up. GFLOP/s counts useful
// work (forwardFlops in measure.ts): training = 3 x forward.

import { Batcher } from '../src/data/batcher';
import type { ModelConfig, OptimizerKind } from '../src/config';
import { readCorpus, splitCorpus } from '../src/data/corpus';
import { Model } from '../src/engine/model';
import { Rng } from '../src/engine/rng';
import { Sampler } from '../src/sample/sampler';
import { Trainer } from '../src/train/step';
import { join } from 'node:path';
import { availableKernels, forwardFlops, measure } from './measure';

interface Config {
  name: string;
  model: ModelConfig;
  B: number;
  T: number;
  optimizer: OptimizerKind;
  lr: number;
}

const CONFIGS: Config[] = [
  { name: 'C1', model: { model: 'rnn', hidden: 100, layers: 1, embed: 0, dropout: 0 }, B: 1, T: 25, optimizer: 'adagrad', lr: 0.1 },
  { name: 'C2', model: { model: 'lstm', hidden: 128, layers: 2, embed: 128, dropout: 0 }, B: 50, T: 50, optimizer: 'adagrad', lr: 0.03 },
  { name: 'C3', model: { model: 'lstm', hidden: 512, layers: 2, embed: 512, dropout: 0 }, B: 50, T: 50, optimizer: 'adagrad', lr: 0.03 },
];

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const json = process.argv.includes('--json');
const windowSeconds = Number(arg('--window', '2'));
const windows = Number(arg('--windows', '5'));
const configNames = arg('--configs', 'C1,C2,C3').split(',');
const kernelList = availableKernels(arg('--kernels', 'js,wasm,native').split(','));
const threadList = arg('--threads', '1,2').split(',').map(Number);
const skipSlow = process.argv.includes('--skip-slow');

const measureSteps = (step: () => number, minWindows = windows) => measure(step, minWindows, windowSeconds);

interface Row {
  config: string;
  task: 'train' | 'sample';
  kernels: string;
  threads: number;
  charsPerSec: number;
  gflops: number;
  arenaMB: number;
  windows: number;
}

const corpus = readCorpus([join(__dirname, '..', 'data', 'tinyshakespeare.txt')]);
const { train } = splitCorpus(corpus.ids, 0.1);
const V = corpus.vocab.size;
const rows: Row[] = [];

function log(s: string): void {
  if (!json) process.stderr.write(s + '\n');
}

for (const c of CONFIGS.filter((c) => configNames.includes(c.name))) {
  const flopsPerChar = forwardFlops(c.model, V);
  for (const kernels of kernelList) {
    for (const threads of kernels === 'js' ? [1] : threadList) {
      // The plain TypeScript kernels need about a minute per C3 step: fewer windows there.
      const slow = kernels === 'js' && c.name === 'C3';
      if (slow && skipSlow) continue;
      // training
      const model = new Model(c.model, { config: c.model, vocabSize: V, shapes: [{ B: c.B, T: c.T }], optimizer: c.optimizer, kernels, threads });
      const rng = new Rng(1);
      model.init(rng);
      const trainer = new Trainer(model, new Batcher(train, c.B, c.T), { optimizer: c.optimizer, lr: c.lr, clip: 5, clipNorm: 0, reduction: 'mean' }, rng);
      const chars = c.B * c.T;
      const t = measureSteps(() => (trainer.step(c.lr), chars), slow ? 1 : windows);
      rows.push({
        config: c.name,
        task: 'train',
        kernels,
        threads,
        charsPerSec: t.perSecond,
        gflops: (t.perSecond * 3 * flopsPerChar) / 1e9,
        arenaMB: model.bytes / 2 ** 20,
        windows: t.windows,
      });
      log(`${c.name} train  ${kernels} x${threads}: ${Math.round(t.perSecond).toLocaleString('en-US')} chars/s`);
      model.close();

      // sampling at batch 1 (C2 and C3)
      if (c.name === 'C1') continue;
      // batch-1 sampling runs on one thread, but for the native kernels (as `charrnn sample`)
      if (threads !== 1 && kernels !== 'native') continue;
      const sm = new Model(c.model, { config: c.model, vocabSize: V, shapes: [{ B: 1, T: 1 }], kernels, threads });
      sm.init(new Rng(2));
      const sampler = new Sampler(sm, corpus.vocab, new Rng(3));
      sampler.reset();
      let id = 0;
      const s = measureSteps(() => {
        for (let i = 0; i < 100; i++) {
          sampler.feed(id);
          id = sampler.pick({ temperature: 1, argmax: false });
        }
        return 100;
      });
      rows.push({
        config: c.name,
        task: 'sample',
        kernels,
        threads,
        charsPerSec: s.perSecond,
        gflops: (s.perSecond * flopsPerChar) / 1e9,
        arenaMB: sm.bytes / 2 ** 20,
        windows: s.windows,
      });
      log(`${c.name} sample ${kernels} x${threads}: ${Math.round(s.perSecond).toLocaleString('en-US')} chars/s`);
      sm.close();
    }
  }
}

const peakRssMB = process.resourceUsage().maxRSS / 1024;
if (json) {
  for (const r of rows) process.stdout.write(JSON.stringify({ bench: 'speed', ...r }) + '\n');
  process.stdout.write(JSON.stringify({ bench: 'memory', peakRssMB }) + '\n');
} else {
  const fmt = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const lines = [
    '',
    `charrnn speed on data/tinyshakespeare.txt (median of ${windows} windows of ${windowSeconds} s after a warm-up)`,
    '',
    '| config | task | kernels | threads | chars/s | GFLOP/s | arena MB | vs js |',
    '|---|---|---|---|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const base = rows.find((b) => b.config === r.config && b.task === r.task && b.kernels === 'js');
    const ratio = base ? `${fmt(r.charsPerSec / base.charsPerSec, 1)}x` : '-';
    lines.push(`| ${r.config} | ${r.task} | ${r.kernels} | ${r.threads} | ${fmt(r.charsPerSec)} | ${fmt(r.gflops, 2)} | ${fmt(r.arenaMB, 1)} | ${ratio} |`);
  }
  lines.push('', `peak resident set size of this benchmark: ${fmt(peakRssMB)} MB`);
  process.stdout.write(lines.join('\n') + '\n');
}
