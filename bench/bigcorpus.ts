// Big corpora: read and train on a generated 1 GB ASCII corpus (larger than V8's maximum string
// length, about 512 MB, so it only works because the text is decoded in chunks straight into a
// typed array) and report the reading time and the peak resident set size.
//
//   npm run bench                      (runs this after the speed benchmark)
//   node dist/bench-bigcorpus.js [--mb 1024] [--json] [--keep]
//
// The corpus is Tiny Shakespeare repeated, written to the OS temporary folder and deleted after.

import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprint } from '../src/checkpoint/format';
import { readCorpus } from '../src/data/corpus';
import { runTrain } from '../src/train/train';
import { ENGINE_DEFAULTS, MODEL_DEFAULTS, OPTIM_DEFAULTS, TRAIN_DEFAULTS } from '../src/config';
import { setQuiet } from '../src/io/log';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

const MB = Number(arg('--mb', '1024'));
const json = process.argv.includes('--json');
const rssMB = () => process.resourceUsage().maxRSS / 1024; // maxRSS is in KB

/** Child mode: read (and optionally train on) the file, print timings and peak RSS as JSON. */
async function child(file: string, train: boolean): Promise<void> {
  const out: Record<string, number> = {};
  if (!train) {
    const t0 = performance.now();
    const corpus = readCorpus([file]);
    out.readSeconds = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    fingerprint(corpus.ids);
    out.fingerprintSeconds = (performance.now() - t1) / 1000;
    out.chars = corpus.ids.length;
    out.vocab = corpus.vocab.size;
  } else {
    // Exactly what `charrnn train FILE` does, in a process of its own.
    setQuiet(true);
    const dir = join(tmpdir(), `charrnn-big-ck-${process.pid}`);
    const t2 = performance.now();
    await runTrain({
      corpus: [file],
      model: MODEL_DEFAULTS,
      optim: OPTIM_DEFAULTS,
      train: { ...TRAIN_DEFAULTS, iters: 20, epochs: 0, valFrac: 0.0001, evalEvery: 10, checkpointDir: dir },
      engine: ENGINE_DEFAULTS,
      resume: null,
      initFrom: null,
      force: false,
      explicit: new Set(),
      json: false,
    });
    out.trainSeconds = (performance.now() - t2) / 1000;
    rmSync(dir, { recursive: true, force: true });
  }
  out.peakRssMB = rssMB();
  process.stdout.write(JSON.stringify(out) + '\n');
}

function runChild(file: string, mode: 'read' | 'train'): Record<string, number> {
  const r = spawnSync(process.execPath, [__filename, '--child', mode, file], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`big-corpus ${mode} run failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

async function bench(): Promise<void> {
  const file = join(tmpdir(), `charrnn-big-${process.pid}.txt`);
  const seed = readFileSync(join(__dirname, '..', 'data', 'tinyshakespeare.txt'));
  const target = MB * 1024 * 1024;
  const fd = openSync(file, 'w');
  for (let written = 0; written < target; ) {
    const n = Math.min(seed.length, target - written);
    writeSync(fd, seed, 0, n);
    written += n;
  }
  closeSync(fd);
  try {
    const read = runChild(file, 'read'); // reading alone: its time and memory
    const train = runChild(file, 'train'); // charrnn train: read, 20 iterations, 2 evaluations, checkpoints
    const result = {
      corpusMB: MB,
      chars: read.chars,
      vocab: read.vocab,
      readSeconds: +read.readSeconds.toFixed(2),
      fingerprintSeconds: +read.fingerprintSeconds.toFixed(2),
      readPeakRssMB: Math.round(read.peakRssMB),
      trainRunSeconds: +train.trainSeconds.toFixed(2),
      trainPeakRssMB: Math.round(train.peakRssMB),
    };
    if (json) process.stdout.write(JSON.stringify({ bench: 'bigcorpus', ...result }) + '\n');
    else {
      process.stdout.write(
        `\nBig corpus (${MB} MB ASCII, ${result.chars.toLocaleString('en-US')} characters, vocabulary ${result.vocab})\n` +
          `  read (decode, vocabulary, encode): ${result.readSeconds} s; fingerprint ${result.fingerprintSeconds} s; peak RSS ${result.readPeakRssMB} MB\n` +
          `  charrnn train, 20 iterations, 2 evaluations and checkpoints: ${result.trainRunSeconds} s; peak RSS ${result.trainPeakRssMB} MB (target < 2048 MB)\n`,
      );
    }
  } finally {
    if (!process.argv.includes('--keep')) rmSync(file, { force: true });
  }
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) void child(process.argv[childAt + 2], process.argv[childAt + 1] === 'train');
else void bench();
