// `npm run recipe`: the recipe study behind charrnn's defaults. Each recipe (a set of `charrnn
// train` flags) trains for a wall-clock budget (--time, as a user would run it), then the best and
// the last checkpoint are evaluated with `charrnn eval` on the whole validation split (batch 1,
// the state carried through it: the protocol of the recipe table in docs/recipes.md).
// A script, not a test: run it on a quiet machine, one run at a time.
//
//   node dist/recipe.js [--corpus shakespeare|js|PATH] [--budgets 3m,10m] [--recipes a,b]
//                       [--seeds 123] [--json] [--list]
//
// The "js" corpus is the JavaScript of a few packages under node_modules (source code: another
// kind of text than the bundled Shakespeare), written once to bench/out/js-corpus.txt.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'bin', 'charrnn');

/** `--model lstm --hidden H --layers L --embed E`, batch 32 x 64 and dropout d, then the optimizer flags. */
const lstm = (H: number, L: number, E: number, d: number, ...opt: string[]): string[] =>
  ['--model', 'lstm', '--hidden', String(H), '--layers', String(L), '--embed', String(E), '--batch-size', '32', '--seq-length', '64', '--dropout', String(d), ...opt];
/** A cosine schedule from lr (after 100 warm-up iterations) to lr/10 at the end of the --time budget. */
const cosine = (optimizer: string, lr: number, ...more: string[]): string[] =>
  ['--optimizer', optimizer, '--lr', String(lr), '--lr-schedule', 'cosine', '--warmup-iters', '100', ...more];

/** The candidates: each a name and the train flags that differ from charrnn's defaults. */
const RECIPES: Record<string, string[]> = {
  defaults: [],
  // char-rnn's recipe: 2 x 128, one-hot, RMSprop 2e-3, batch 50 x 50, no dropout
  'charrnn-2x128-rmsprop': ['--model', 'lstm', '--hidden', '128', '--layers', '2', '--embed', '0', '--optimizer', 'rmsprop', '--lr', '0.002', '--batch-size', '50', '--seq-length', '50', '--dropout', '0'],
  // min-char-rnn's optimizer at charrnn's old defaults
  'adagrad-2x128-onehot': ['--model', 'lstm', '--hidden', '128', '--layers', '2', '--embed', '0', '--optimizer', 'adagrad', '--lr', '0.03', '--batch-size', '50', '--seq-length', '50', '--dropout', '0'],
  'adagrad-2x256-e64': lstm(256, 2, 64, 0.1, '--optimizer', 'adagrad', '--lr', '0.03'),
  'adagrad-2x256-e64-lr0.05-clipnorm': lstm(256, 2, 64, 0.1, '--optimizer', 'adagrad', '--lr', '0.05', '--clip', '0', '--clip-norm', '1'),
  'adagrad-2x256-e64-cos0.05': lstm(256, 2, 64, 0.1, ...cosine('adagrad', 0.05)),
  'adagrad-2x256-e64-cos0.1': lstm(256, 2, 64, 0.1, ...cosine('adagrad', 0.1)),
  // Adagrad and RMSprop tuned as Adam is: the default model, no dropout, a cosine to the end of the budget
  'adagrad-2x256-e64-d0-cos0.05': lstm(256, 2, 64, 0, ...cosine('adagrad', 0.05)),
  'adagrad-2x256-e64-d0-cos0.1': lstm(256, 2, 64, 0, ...cosine('adagrad', 0.1)),
  'adagrad-2x256-e64-d0-cos0.2': lstm(256, 2, 64, 0, ...cosine('adagrad', 0.2)),
  // the 10-minute defaults before and after the 2 x 384 rung (recipe.ts)
  'adagrad-2x256-e64-d0.2-cos0.1': lstm(256, 2, 64, 0.2, ...cosine('adagrad', 0.1)),
  'adagrad-2x384-e64-d0.2-cos0.1': lstm(384, 2, 64, 0.2, ...cosine('adagrad', 0.1)),
  'rmsprop-2x256-e64-d0-cos2e-3': lstm(256, 2, 64, 0, ...cosine('rmsprop', 0.002)),
  'rmsprop-2x256-e64': lstm(256, 2, 64, 0.1, '--optimizer', 'rmsprop', '--lr', '0.002'),
  'rmsprop-2x256-e64-cos2e-3': lstm(256, 2, 64, 0.1, ...cosine('rmsprop', 0.002)),
  'adam-2x128-e64': lstm(128, 2, 64, 0.1, '--optimizer', 'adam', '--lr', '0.002'),
  // PyTorch's best recipe at 3 and 10 minutes (the peer): constant Adam 2e-3
  'adam-2x256-e64': lstm(256, 2, 64, 0.1, '--optimizer', 'adam', '--lr', '0.002'),
  'adam-2x256-e64-cos2e-3': lstm(256, 2, 64, 0.1, ...cosine('adam', 0.002)),
  'adam-2x256-e64-cosine': lstm(256, 2, 64, 0.1, ...cosine('adam', 0.003)),
  'adam-2x256-e64-cos5e-3': lstm(256, 2, 64, 0.1, ...cosine('adam', 0.005)),
  'adam-2x256-e64-cos8e-3': lstm(256, 2, 64, 0.1, ...cosine('adam', 0.008)),
  'adam-2x256-e64-cos1.2e-2': lstm(256, 2, 64, 0.1, ...cosine('adam', 0.012)),
  'adam-2x256-e64-d0-cos8e-3': lstm(256, 2, 64, 0, ...cosine('adam', 0.008)),
  'adam-2x256-e64-b64-cos8e-3': [...lstm(256, 2, 64, 0.1, ...cosine('adam', 0.008)), '--batch-size', '64'],
  'adam-2x256-e64-d0.2-cos8e-3': lstm(256, 2, 64, 0.2, ...cosine('adam', 0.008)),
  'adam-2x256-e64-d0.25-cos8e-3': lstm(256, 2, 64, 0.25, ...cosine('adam', 0.008)),
  'adam-2x384-e64-d0.25-cos5e-3': lstm(384, 2, 64, 0.25, ...cosine('adam', 0.005)),
  'adam-2x384-e64-d0.1-cos5e-3': lstm(384, 2, 64, 0.1, ...cosine('adam', 0.005)),
  'adam-2x256-e64-d0.2-cos3e-3': lstm(256, 2, 64, 0.2, ...cosine('adam', 0.003)),
  'adam-2x256-e64-d0.3-cos3e-3': lstm(256, 2, 64, 0.3, ...cosine('adam', 0.003)),
  'adam-3x256-e64-cosine': lstm(256, 3, 64, 0.1, ...cosine('adam', 0.003)),
  'adam-2x384-e64-cosine': lstm(384, 2, 64, 0.2, ...cosine('adam', 0.002)),
  'adam-2x384-e64-d0.3-cos3e-3': lstm(384, 2, 64, 0.3, ...cosine('adam', 0.003)),
  'adam-2x512-e64-cosine': lstm(512, 2, 64, 0.25, ...cosine('adam', 0.002)),
  'gru-2x256-e64-cosine': [...lstm(256, 2, 64, 0.1, ...cosine('adam', 0.003)).slice(2), '--model', 'gru'],
};

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

/** The JavaScript of a few packages, concatenated (about 3 MB): the second corpus of the study. */
function jsCorpus(): string {
  const out = join(ROOT, 'bench', 'out', 'js-corpus.txt');
  if (existsSync(out)) return out;
  const parts: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else if (/\.(c|m)?js$/.test(name) && !/\.min\./.test(name) && s.size < 200_000) parts.push(readFileSync(p, 'utf8'));
    }
  };
  for (const pkg of ['commander/lib', 'chalk/source', 'cli-progress/lib', 'seedrandom/lib', 'vitest/dist', 'esbuild/lib']) {
    const dir = join(ROOT, 'node_modules', pkg);
    if (existsSync(dir)) walk(dir);
  }
  mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
  writeFileSync(out, parts.join('\n'));
  return out;
}

function corpusPath(name: string): string {
  if (name === 'shakespeare') return join(ROOT, 'data', 'tinyshakespeare.txt');
  if (name === 'js') return jsCorpus();
  return name;
}

interface Result {
  recipe: string;
  budget: string;
  seed: number;
  iters: number | null;
  best: number | null;
  last: number | null;
  seconds: number;
}

function evalLoss(checkpoint: string): number | null {
  if (!existsSync(checkpoint)) return null;
  const r = spawnSync(process.execPath, [BIN, 'eval', '--checkpoint', checkpoint, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) return null;
  return (JSON.parse(r.stdout) as { natsPerChar: number }).natsPerChar;
}

function runOne(corpus: string, recipe: string, budget: string, seed: number): Result {
  const dir = mkdtempSync(join(tmpdir(), 'charrnn-recipe-'));
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [BIN, 'train', corpus, ...RECIPES[recipe], '--time', budget, '--seed', String(seed), '--checkpoint-dir', dir, '--json', '--quiet'],
    { encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) process.stderr.write(`recipe ${recipe}: exit ${r.status}: ${r.stderr.trim().split('\n').pop()}\n`);
  const done = r.stdout.trim().split('\n').map((l) => { try { return JSON.parse(l) as { type?: string; iter?: number }; } catch { return {}; } }).filter((o) => o.type === 'done').pop();
  const result = { recipe, budget, seed, iters: done?.iter ?? null, best: evalLoss(join(dir, 'best.json')), last: evalLoss(join(dir, 'latest.json')), seconds };
  rmSync(dir, { recursive: true, force: true });
  return result;
}

function main(): void {
  if (process.argv.includes('--list')) {
    for (const [name, flags] of Object.entries(RECIPES)) console.log(`${name}: ${flags.join(' ') || '(charrnn defaults)'}`);
    return;
  }
  const corpusName = arg('--corpus', 'shakespeare');
  const corpus = corpusPath(corpusName);
  const budgets = arg('--budgets', '3m').split(',');
  const recipes = arg('--recipes', Object.keys(RECIPES).join(',')).split(',');
  const seeds = arg('--seeds', '123').split(',').map(Number);
  for (const r of recipes) if (!RECIPES[r]) throw new Error(`unknown recipe ${r}; --list shows them`);
  const json = process.argv.includes('--json');
  if (!json) console.log(`corpus ${corpusName}\n\n| recipe | budget | seed | iterations | best val | last val |\n|---|---|---:|---:|---:|---:|`);
  for (const budget of budgets) {
    for (const recipe of recipes) {
      for (const seed of seeds) {
        const res = runOne(corpus, recipe, budget, seed);
        const f = (x: number | null) => (x === null ? '-' : x.toFixed(3));
        console.log(json ? JSON.stringify({ corpus: corpusName, ...res }) : `| ${recipe} | ${budget} | ${seed} | ${res.iters ?? '-'} | ${f(res.best)} | ${f(res.last)} |`);
      }
    }
  }
}

main();
