// `npm run bench` (after bench.ts): a sweep of training shapes, 2-layer LSTMs with hidden
// 128-1024, embedding 0 (one-hot) / 64 / H, batch 16-64, seq 32-64, on the native and wasm
// kernels at the given thread count. Prints chars/s, GFLOP/s of useful work (measure.ts) and
// the share of the best GFLOP/s of the same kernels among shapes with H >= 128, flagging those
// below 70%. Each figure is the median of a few short windows after a warm-up step.
//
//   node dist/bench-sweep.js [--json] [--kernels native,wasm] [--threads 2] [--hidden 128,256,512,1024]
//                            [--embeds 0,64,H] [--shapes 16x32,32x64,64x64] [--window 1] [--windows 3]
//
// Shape legend: B batch, T steps, E embedding, H hidden, V vocab.

import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { ModelConfig } from '../src/config';
import { Batcher } from '../src/data/batcher';
import { readCorpus, splitCorpus } from '../src/data/corpus';
import { Model } from '../src/engine/model';
import { Rng } from '../src/engine/rng';
import { Trainer } from '../src/train/step';
import { availableKernels, forwardFlops, measure } from './measure';

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
const windows = Number(arg('--windows', '3'));

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

for (const kernels of kernelList) {
  for (const H of hiddens) {
    for (const e of embeds) {
      const E = e === 'H' ? H : Number(e);
      for (const [B, T] of shapes) {
        const m: ModelConfig = { model: 'lstm', hidden: H, layers: 2, embed: E, dropout: 0 };
        const model = new Model(m, { config: m, vocabSize: V, shapes: [{ B, T }], optimizer: 'adam', kernels, threads });
        try {
          const rng = new Rng(1);
          model.init(rng);
          const trainer = new Trainer(model, new Batcher(train, B, T), { optimizer: 'adam', lr: 2e-3, clip: 5, clipNorm: 0, reduction: 'mean' }, rng);
          const t = measure(() => (trainer.step(2e-3), B * T), windows, windowSeconds);
          const row = { kernels, H, E, B, T, charsPerSec: t.perSecond, gflops: (t.perSecond * 3 * forwardFlops(m, V)) / 1e9 };
          rows.push(row);
          if (!json) process.stderr.write(`${kernels} H${H} E${E} B${B} T${T}: ${Math.round(row.charsPerSec).toLocaleString('en-US')} chars/s, ${row.gflops.toFixed(1)} GFLOP/s\n`);
        } finally {
          model.close();
        }
      }
    }
  }
}

const best = new Map<string, number>();
for (const r of rows) if (r.H >= 128) best.set(r.kernels, Math.max(best.get(r.kernels) ?? 0, r.gflops));
const share = (r: Row) => r.gflops / (best.get(r.kernels) ?? r.gflops);
if (json) {
  for (const r of rows) process.stdout.write(JSON.stringify({ bench: 'sweep', threads, ...r, shareOfBest: share(r) }) + '\n');
} else {
  const fmt = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const lines = [
    '',
    `charrnn training shapes: 2-layer LSTM, ${threads} thread${threads === 1 ? '' : 's'} (median of ${windows} windows of ${windowSeconds} s after a warm-up)`,
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
