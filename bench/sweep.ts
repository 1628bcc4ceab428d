// `npm run bench` (after bench.ts): a sweep of training shapes, 2-layer LSTMs with hidden
// 128-1024, embedding 0 (one-hot) / 64 / H, batch 16-64, seq 32-64, on the native and wasm
// kernels at the given thread count. Prints chars/s, GFLOP/s of useful work (measure.ts) and
// the share of the best GFLOP/s of the same kernels among shapes with H >= 128, flagging those
// below 70%. The shapes are measured in rounds, each shape in turn a window after a short
// warm-up, and each figure is the median of its rounds: the shares compare shapes measured
// across the same minutes, so a slow spell of a shared machine falls on all of them alike
// (one shape after the other, the first shapes and the last could differ by 10-20% here).
//
//   node dist/bench-sweep.js [--json] [--kernels native,wasm] [--threads 2] [--hidden 128,256,512,1024]
//                            [--embeds 0,64,H] [--shapes 16x32,32x64,64x64] [--window 1] [--warmup 0.5] [--rounds 3]
//
// Shape legend: B batch, T steps, E embedding, H hidden, V vocab.

import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { ModelConfig } from '../src/config';
import { Batcher } from '../src/data/batcher';
import { readCorpus, splitCorpus } from '../src/data/corpus';
import type { KernelKind } from '../src/engine/kernels';
import { Model } from '../src/engine/model';
import { Rng } from '../src/engine/rng';
import { Trainer } from '../src/train/step';
import { availableKernels, forwardFlops, measure, median } from './measure';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const json = process.argv.includes('--json');
const kernelList = availableKernels(arg('--kernels', 'native,wasm').split(','));
const threads = Number(arg('--threads', String(Math.min(2, availableParallelism()))));
const hiddens = arg('--hidden', '128,256,512,1024').split(',').map(Number);
const embeds = arg('--embeds', '0,64,H').split(',');
const shapes = arg('--shapes', '16x32,32x64,64x64').split(',').map((s) => s.split('x').map(Number) as [number, number]);
const windowSeconds = Number(arg('--window', '1'));
const warmupSeconds = Number(arg('--warmup', '0.5'));
const rounds = Number(arg('--rounds', '3'));

const corpus = readCorpus([join(__dirname, '..', 'data', 'tinyshakespeare.txt')]);
const { train } = splitCorpus(corpus.ids, 0.1);
const V = corpus.vocab.size;

interface Row {
  kernels: string;
  H: number;
  E: number;
  B: number;
  T: number;
  charsPerSec: number;
  gflops: number;
}
const rows: Row[] = [];

interface Shape {
  kernels: KernelKind;
  m: ModelConfig;
  B: number;
  T: number;
}
const shapeList: Shape[] = [];
for (const kernels of kernelList)
  for (const H of hiddens)
    for (const e of embeds)
      for (const [B, T] of shapes) {
        const E = e === 'H' ? H : Number(e);
        shapeList.push({ kernels, m: { model: 'lstm', hidden: H, layers: 2, embed: E, dropout: 0 }, B, T });
      }

/** One round's chars/s of a shape: a fresh model, a warm-up, one window. */
function measureShape({ kernels, m, B, T }: Shape): number {
  const model = new Model(m, { config: m, vocabSize: V, shapes: [{ B, T }], optimizer: 'adam', kernels, threads });
  try {
    const rng = new Rng(1);
    model.init(rng);
    const trainer = new Trainer(model, new Batcher(train, B, T), { optimizer: 'adam', lr: 2e-3, clip: 5, clipNorm: 0, reduction: 'mean' }, rng);
    return measure(() => (trainer.step(2e-3), B * T), 1, windowSeconds, warmupSeconds).perSecond;
  } finally {
    model.close();
  }
}

const rates: number[][] = shapeList.map(() => []);
for (let r = 0; r < rounds; r++) {
  shapeList.forEach((s, i) => rates[i].push(measureShape(s)));
  if (!json) process.stderr.write(`round ${r + 1} of ${rounds} done\n`);
}
shapeList.forEach(({ kernels, m, B, T }, i) => {
  const charsPerSec = median(rates[i]);
  const row = { kernels, H: m.hidden, E: m.embed, B, T, charsPerSec, gflops: (charsPerSec * 3 * forwardFlops(m, V)) / 1e9 };
  rows.push(row);
  if (!json) process.stderr.write(`${kernels} H${row.H} E${row.E} B${B} T${T}: ${Math.round(charsPerSec).toLocaleString('en-US')} chars/s, ${row.gflops.toFixed(1)} GFLOP/s\n`);
});

const best = new Map<string, number>();
for (const r of rows) if (r.H >= 128) best.set(r.kernels, Math.max(best.get(r.kernels) ?? 0, r.gflops));
const share = (r: Row) => r.gflops / (best.get(r.kernels) ?? r.gflops);
if (json) {
  for (const r of rows) process.stdout.write(JSON.stringify({ bench: 'sweep', threads, ...r, shareOfBest: share(r) }) + '\n');
} else {
  const fmt = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const lines = [
    '',
    `charrnn training shapes: 2-layer LSTM, ${threads} thread${threads === 1 ? '' : 's'} (median of ${rounds} rounds over the shapes, each a window of ${windowSeconds} s after a warm-up of ${warmupSeconds} s)`,
    '',
    '| kernels | hidden | embed | batch x seq | chars/s | GFLOP/s | of best |',
    '|---|---:|---:|---|---:|---:|---:|',
  ];
  for (const r of rows) {
    const low = r.H >= 128 && share(r) < 0.7 ? ' (< 70%)' : '';
    lines.push(`| ${r.kernels} | ${r.H} | ${r.E || 'one-hot'} | ${r.B} x ${r.T} | ${fmt(r.charsPerSec)} | ${fmt(r.gflops, 1)} | ${fmt(100 * share(r))}%${low} |`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}
