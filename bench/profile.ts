// `npm run bench:profile`: where a training step's time goes, kernel by kernel (and product by
// shape), for one configuration of bench.ts: calls per step, milliseconds per step, share of
// the step, and GFLOP/s of each product. The evidence the issue asks for when a configuration
// falls short of its peer. Wall-clock time by default; --cpu counts the process's CPU time
// instead (steadier on a shared machine, but it adds up the threads' time).
//
//   node dist/bench-profile.js [--config C2 | --shape H128,E64,B16,T32] [--kernels native] [--threads 2] [--steps 10] [--cpu]
//
// Shape legend: M, K, N generic matrix sizes (products are labelled kind MxKxN).

import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { ModelConfig } from '../src/config';
import { Batcher } from '../src/data/batcher';
import { readCorpus, splitCorpus } from '../src/data/corpus';
import { Model } from '../src/engine/model';
import { Rng } from '../src/engine/rng';
import { Trainer } from '../src/train/step';
import { availableKernels, forwardFlops } from './measure';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const CONFIGS: Record<string, { model: ModelConfig; B: number; T: number }> = {
  C1: { model: { model: 'rnn', hidden: 100, layers: 1, embed: 0, dropout: 0 }, B: 1, T: 25 },
  C2: { model: { model: 'lstm', hidden: 128, layers: 2, embed: 128, dropout: 0 }, B: 50, T: 50 },
  C3: { model: { model: 'lstm', hidden: 512, layers: 2, embed: 512, dropout: 0 }, B: 50, T: 50 },
  // the recipe study's 2 x 256 with an embedding and dropout (docs/recipes.md)
  R256: { model: { model: 'lstm', hidden: 256, layers: 2, embed: 64, dropout: 0.1 }, B: 32, T: 64 },
};
// --shape H128,E64,B16,T32: a 2-layer LSTM of the sweep's (bench/sweep.ts), in place of --config
const shape = arg('--shape', '');
if (shape) {
  const v = Object.fromEntries(shape.split(',').map((s) => [s[0], Number(s.slice(1))]));
  CONFIGS[shape] = { model: { model: 'lstm', hidden: v.H, layers: 2, embed: v.E ?? 0, dropout: 0 }, B: v.B, T: v.T };
}
const name = shape || arg('--config', 'C2');
const c = CONFIGS[name];
if (!c) throw new Error(`unknown --config ${name} (${Object.keys(CONFIGS).join(', ')})`);
const [kernels] = availableKernels([arg('--kernels', 'native')]);
if (!kernels) process.exit(1);
const threads = Number(arg('--threads', String(Math.min(2, availableParallelism()))));
const steps = Number(arg('--steps', '10'));
const cpu = process.argv.includes('--cpu');
const now = cpu
  ? () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    }
  : () => performance.now();

const corpus = readCorpus([join(__dirname, '..', 'data', 'tinyshakespeare.txt')]);
const { train } = splitCorpus(corpus.ids, 0.1);
const V = corpus.vocab.size;
// Adam at the sweep's 2e-3 (0.03, Adagrad's rate, sends Adam's weights far enough to slow the products)
const adam = name === 'R256' || !!shape;
const lr = adam ? 2e-3 : 0.03;
const model = new Model(c.model, { config: c.model, vocabSize: V, shapes: [{ B: c.B, T: c.T }], optimizer: adam ? 'adam' : 'adagrad', kernels, threads });
const rng = new Rng(1);
model.init(rng);
const trainer = new Trainer(model, new Batcher(train, c.B, c.T), { optimizer: adam ? 'adam' : 'adagrad', lr, clip: 5, clipNorm: 0, reduction: 'mean' }, rng);

// Every kernel timed (the kernels object is this backend's own, so it can be wrapped in place).
const time = new Map<string, { ms: number; calls: number; flops: number }>();
const k = model.backend.kernels as unknown as Record<string, unknown>;
for (const key of Object.keys(k)) {
  const f = k[key];
  if (typeof f !== 'function') continue;
  k[key] = (...args: number[]) => {
    const t0 = now();
    const r = (f as (...a: number[]) => unknown)(...args);
    const dt = now() - t0;
    const product = key.startsWith('matmul');
    const at = key === 'matmulBias' || key === 'matmulTNSum' ? 4 : 3; // (out, a, b, [bias or dbias,] M, K, N)
    const label = product ? `${key} ${args[at]}x${args[at + 1]}x${args[at + 2]}` : key;
    const e = time.get(label) ?? { ms: 0, calls: 0, flops: 0 };
    e.ms += dt;
    e.calls++;
    if (product) e.flops += 2 * args[at] * args[at + 1] * args[at + 2];
    time.set(label, e);
    return r;
  };
}

for (let i = 0; i < 3; i++) trainer.step(lr); // warm-up: JIT, packed buffers, threads
time.clear();
const t0 = now();
for (let i = 0; i < steps; i++) trainer.step(lr);
const stepMs = (now() - t0) / steps;
model.close();

const fmt = (x: number, d = 2) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
let kernelMs = 0;
for (const e of time.values()) kernelMs += e.ms / steps;
const chars = c.B * c.T;
const lines = [
  `${name} train, ${kernels} x${threads} thread${threads === 1 ? '' : 's'}, ${cpu ? 'CPU' : 'wall-clock'} time, mean of ${steps} steps: ` +
    `${fmt(stepMs)} ms a step (${fmt((chars / stepMs) * 1000, 0)} chars/s, ${fmt((chars * 3 * forwardFlops(c.model, V)) / stepMs / 1e6, 1)} GFLOP/s useful)`,
  '',
  '| kernel | calls/step | ms/step | share | GFLOP/s |',
  '|---|---:|---:|---:|---:|',
];
for (const [label, e] of [...time.entries()].sort((a, b) => b[1].ms - a[1].ms)) {
  const g = e.flops ? fmt(e.flops / e.ms / 1e6, 1) : '';
  lines.push(`| ${label} | ${fmt(e.calls / steps, 0)} | ${fmt(e.ms / steps)} | ${fmt((100 * e.ms) / steps / stepMs, 1)}% | ${g} |`);
}
lines.push(`| outside the kernels (optimizer, clipping, batching, JS) | | ${fmt(stepMs - kernelMs)} | ${fmt((100 * (stepMs - kernelMs)) / stepMs, 1)}% | |`);
process.stdout.write(lines.join('\n') + '\n');
