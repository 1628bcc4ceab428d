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

/** The candidates: each a name and the train flags that differ from charrnn's defaults. */
const RECIPES: Record<string, string[]> = {
  defaults: [],
  'adagrad-2x128-onehot': ['--model', 'lstm', '--hidden', '128', '--layers', '2', '--embed', '0', '--optimizer', 'adagrad', '--lr', '0.03', '--batch-size', '50', '--seq-length', '50', '--dropout', '0'],
  'adagrad-2x256-e64': ['--hidden', '256', '--layers', '2', '--embed', '64', '--optimizer', 'adagrad', '--lr', '0.03', '--batch-size', '32', '--seq-length', '64', '--dropout', '0.1'],
  'adagrad-2x256-e64-lr0.05-clipnorm': ['--hidden', '256', '--layers', '2', '--embed', '64', '--optimizer', 'adagrad', '--lr', '0.05', '--clip', '0', '--clip-norm', '1', '--batch-size', '32', '--seq-length', '64', '--dropout', '0.1'],
  'rmsprop-2x256-e64': ['--hidden', '256', '--layers', '2', '--embed', '64', '--optimizer', 'rmsprop', '--lr', '0.002', '--batch-size', '32', '--seq-length', '64', '--dropout', '0.1'],
  'adam-2x128-e64': ['--hidden', '128', '--layers', '2', '--embed', '64', '--optimizer', 'adam', '--lr', '0.002', '--batch-size', '32', '--seq-length', '64', '--dropout', '0.1'],
  'adam-2x256-e64': ['--hidden', '256', '--layers', '2', '--embed', '64', '--optimizer', 'adam', '--lr', '0.002', '--batch-size', '32', '--seq-length', '64', '--dropout', '0.1'],
  'adam-2x256-e64-cosine': ['--hidden', '256', '--layers', '2', '--embed', '64', '--optimizer', 'adam', '--lr', '0.003', '--lr-schedule', 'cosine', '--warmup-iters', '100', '--batch-size', '32', '--seq-length', '64', '--dropout', '0.1'],
  'adam-3x256-e64-cosine': ['--hidden', '256', '--layers', '3', '--embed', '64', '--optimizer', 'adam', '--lr', '0.003', '--lr-schedule', 'cosine', '--warmup-iters', '100', '--batch-size', '32', '--seq-length', '64', '--dropout', '0.1'],
  'adam-2x384-e64-cosine': ['--hidden', '384', '--layers', '2', '--embed', '64', '--optimizer', 'adam', '--lr', '0.002', '--lr-schedule', 'cosine', '--warmup-iters', '100', '--batch-size', '32', '--seq-length', '64', '--dropout', '0.2'],
  'adam-2x512-e64-cosine': ['--hidden', '512', '--layers', '2', '--embed', '64', '--optimizer', 'adam', '--lr', '0.002', '--lr-schedule', 'cosine', '--warmup-iters', '100', '--batch-size', '32', '--seq-length', '64', '--dropout', '0.25'],
  'gru-2x256-e64-cosine': ['--model', 'gru', '--hidden', '256', '--layers', '2', '--embed', '64', '--optimizer', 'adam', '--lr', '0.003', '--lr-schedule', 'cosine', '--warmup-iters', '100', '--batch-size', '32', '--seq-length', '64', '--dropout', '0.1'],
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
