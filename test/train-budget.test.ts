// Budgets and housekeeping end to end: --time, --epochs, the ETA, --keep numbered checkpoints,
// --patience early stopping, and the --sample-every previews.

import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printableText, wrapLines } from '../src/io/printable';
import { BIN, charrnn, childEnv, makeTmp, ok, readJSON, removeTmp, shakespeare, TINY, jsonLines } from './cli-helpers';

let dir: string;
const text = shakespeare(20_000);

beforeAll(() => {
  dir = makeTmp();
  writeFileSync(join(dir, 'corpus.txt'), text);
});
afterAll(() => removeTmp(dir));

const numbered = (d: string) => readdirSync(join(dir, d)).filter((f) => f.startsWith('iter-')).sort();

describe('--time', () => {
  it('stops within seconds of the budget, after a final evaluation and save; the ETA counts down to it', () => {
    const budget = 3;
    // also --iters far away: the ETA must follow the nearer bound, the time
    const args = ['train', 'corpus.txt', ...TINY, '--time', `${budget}s`, '--iters', '100000000', '--eval-every', '1000000', '--print-every', '20', '--json', '--checkpoint-dir', 'time', '--kernels', 'js'];
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env: childEnv(), timeout: 110_000 });
    const wall = (Date.now() - t0) / 1000;
    expect(r.status, r.stderr.toString()).toBe(0);
    // start-up is not training time, so the process takes at least the budget; the slack is for
    // two busy cores (start-up, the final evaluation and save take well under a second alone)
    expect(wall).toBeGreaterThanOrEqual(budget);
    expect(wall).toBeLessThan(budget + 10);
    const lines = jsonLines(r.stdout.toString());
    const done = lines[lines.length - 1];
    expect(done).toMatchObject({ type: 'done', stoppedBy: 'time' });
    expect(done.seconds).toBeGreaterThanOrEqual(budget);
    expect(done.seconds).toBeLessThan(budget + 5);
    // ends with an evaluation at the last iteration, saved
    const vals = lines.filter((o) => o.type === 'val');
    expect(vals).toHaveLength(1);
    expect(vals[0].iter).toBe(done.iter);
    const ck = readJSON(join(dir, 'time', 'latest.json'));
    expect(ck.training.iter).toBe(done.iter);
    expect(ck.history.val.map((p: number[]) => p[0])).toEqual([done.iter]);
    expect(ck.training.elapsed).toBeGreaterThanOrEqual(budget);
    // the ETA of the progress lines is the time left, not the 100 million iterations
    const etas = [...r.stderr.toString().matchAll(/ETA (?:(\d+)m)?(\d+)s/g)].map((m) => Number(m[1] ?? 0) * 60 + Number(m[2]));
    expect(etas.length).toBeGreaterThan(1);
    for (const eta of etas) expect(eta).toBeLessThanOrEqual(budget);
  });
});

describe('--epochs', () => {
  it('a fractional bound stops at the batch that crosses it, with a final evaluation', () => {
    // 18,000 training characters at 8 x 16: 140 batches an epoch; 0.25 epochs = 35 batches
    const r = ok(['train', 'corpus.txt', ...TINY, '--epochs', '0.25', '--eval-every', '1000', '--json', '--checkpoint-dir', 'ep', '--kernels', 'js'], dir);
    const done = jsonLines(r.stdout).pop();
    expect(done).toMatchObject({ type: 'done', iter: 35, stoppedBy: 'done' });
    expect(r.stderr).toContain('stop at iteration 35');
    expect(readJSON(join(dir, 'ep', 'latest.json')).history.val.map((p: number[]) => p[0])).toEqual([35]);
  });
});

describe('--keep', () => {
  it('--keep 2 leaves exactly the 2 most recent numbered checkpoints after 5 evaluations, and nothing else is touched', () => {
    const d = 'keep';
    ok(['train', 'corpus.txt', ...TINY, '--iters', '1', '--checkpoint-dir', d, '--quiet'], dir); // the folder, with a run in it
    writeFileSync(join(dir, d, 'iter-000001-val-9.9999.json'), '{}'); // an older numbered file: pruned
    writeFileSync(join(dir, d, 'iter-notes.json'), '{}'); // not a numbered checkpoint: kept
    writeFileSync(join(dir, d, 'mine.json'), '{}');
    // a new run over it (--force): its numbered files count like any others
    ok(['train', 'corpus.txt', ...TINY, '--iters', '50', '--eval-every', '10', '--keep', '2', '--checkpoint-dir', d, '--force', '--quiet', '--kernels', 'js'], dir);
    const latest = readJSON(join(dir, d, 'latest.json'));
    expect(latest.history.val.map((p: number[]) => p[0])).toEqual([10, 20, 30, 40, 50]);
    const [v40, v50] = [latest.history.val[3][2], latest.history.val[4][2]];
    expect(numbered(d)).toEqual(['iter-000040-val-' + v40.toFixed(4) + '.json', 'iter-000050-val-' + v50.toFixed(4) + '.json', 'iter-notes.json']);
    expect(readdirSync(join(dir, d)).sort()).toEqual(
      ['best.json', 'iter-000040-val-' + v40.toFixed(4) + '.json', 'iter-000050-val-' + v50.toFixed(4) + '.json', 'iter-notes.json', 'latest.json', 'loss.svg', 'mine.json'].sort(),
    );
    // a numbered checkpoint is a full checkpoint of its iteration
    const n40 = readJSON(join(dir, d, `iter-000040-val-${v40.toFixed(4)}.json`));
    expect(n40.training.iter).toBe(40);
    expect(n40.history.val).toEqual(latest.history.val.slice(0, 4));
    const n50 = readJSON(join(dir, d, `iter-000050-val-${v50.toFixed(4)}.json`));
    for (const name of Object.keys(latest.tensors)) expect(n50.tensors[name].data).toBe(latest.tensors[name].data);
  });

  it('without --keep no numbered checkpoint is written', () => {
    ok(['train', 'corpus.txt', ...TINY, '--iters', '20', '--eval-every', '10', '--checkpoint-dir', 'nokeep', '--quiet'], dir);
    expect(numbered('nokeep')).toEqual([]);
  });
});

describe('--patience', () => {
  // SGD with a vanishing rate: the weights never change, so the validation loss is flat
  const flat = ['--optimizer', 'sgd', '--lr', '1e-30', '--iters', '10000', '--eval-every', '5', '--kernels', 'js'];

  it('stops after K + 1 evaluations when the validation loss cannot improve, saves, says why, and reports stoppedBy patience', () => {
    const r = ok(['train', 'corpus.txt', ...TINY, ...flat, '--patience', '3', '--checkpoint-dir', 'pat', '--json'], dir);
    const lines = jsonLines(r.stdout);
    const vals = lines.filter((o) => o.type === 'val');
    expect(vals.map((o) => o.iter)).toEqual([5, 10, 15, 20]);
    expect(new Set(vals.map((o) => o.valLoss)).size).toBe(1); // flat indeed
    const done = lines[lines.length - 1];
    expect(done).toMatchObject({ type: 'done', iter: 20, stoppedBy: 'patience' });
    expect(r.stderr).toContain(`--patience 3: the validation loss has not improved for 3 evaluations (best ${vals[0].valLoss.toFixed(4)} at iteration 5); stopping early`);
    const ck = readJSON(join(dir, 'pat', 'latest.json'));
    expect(ck.training).toMatchObject({ iter: 20, evalsSinceBest: 3 });
    expect(readJSON(join(dir, 'pat', 'best.json')).training.iter).toBe(5);
  });

  it('a resumed run that has already run out of patience stops at once; a larger --patience goes on', () => {
    const again = ok(['train', 'corpus.txt', '--resume', '--checkpoint-dir', 'pat', '--json'], dir);
    expect(jsonLines(again.stdout).filter((o) => o.type === 'train')).toHaveLength(0);
    expect(jsonLines(again.stdout).pop()).toMatchObject({ type: 'done', iter: 20, stoppedBy: 'patience' });
    const more = ok(['train', 'corpus.txt', '--resume', '--patience', '5', '--checkpoint-dir', 'pat', '--json'], dir);
    expect(jsonLines(more.stdout).pop()).toMatchObject({ type: 'done', iter: 30, stoppedBy: 'patience' });
  });

  it('is off by default: the same flat run goes to its bound', () => {
    const r = ok(['train', 'corpus.txt', ...TINY, ...flat, '--iters', '30', '--checkpoint-dir', 'nopat', '--json'], dir);
    expect(jsonLines(r.stdout).pop()).toMatchObject({ type: 'done', iter: 30, stoppedBy: 'done' });
  });
});

describe('--sample-every previews', () => {
  it('print --sample-len characters at --sample-temperature on stderr; at temperature 0 what `charrnn sample` prints', () => {
    const r = ok(
      ['train', 'corpus.txt', ...TINY, '--iters', '20', '--eval-every', '10', '--sample-every', '10', '--sample-len', '60', '--sample-temperature', '0', '--keep', '2', '--checkpoint-dir', 'prev', '--kernels', 'js'],
      dir,
    );
    expect(r.stdout).toBe('');
    const blocks = [...r.stderr.matchAll(/--- sample at iteration (\d+) \(temperature 0\) ---\n([\s\S]*?)\n---\n/g)];
    expect(blocks.map((m) => Number(m[1]))).toEqual([10, 20]);
    for (const m of blocks) expect(Array.from(m[2])).toHaveLength(60);
    // the preview starts from a newline, as `sample --prime` with one; argmax makes them equal
    const ck = numbered('prev').find((f) => f.startsWith('iter-000020'))!;
    const s = ok(['sample', '--checkpoint', join('prev', ck), '--prime', '\n', '--no-echo', '--temperature', '0', '--len', '60', '--kernels', 'js'], dir);
    expect(s.stdout.replace(/\n$/, '')).toBe(blocks[1][2].replace(/\n$/, '') );
  });

  it('show control characters escaped and wrap long lines, so the progress bar survives them', () => {
    expect(printableText('a\rb\x1b[31mc\x07\nd\te\u200bf é 😀')).toBe('a\\rb\\u{1b}[31mc\\u{7}\nd\te\\u{200b}f é 😀');
    expect(wrapLines('abcdefg\nhi', 3)).toBe('abc\ndef\ng\nhi');
    expect(wrapLines('😀😀😀😀', 2)).toBe('😀😀\n😀😀'); // code points, not UTF-16 units
  });

  it('bad preview flags are one-line errors', () => {
    const r = charrnn(['train', 'corpus.txt', '--sample-len', '0'], dir);
    expect(r.stderr).toMatch(/^charrnn: --sample-len expects an integer from 1 to 100000, got "0"/);
    const t = charrnn(['train', 'corpus.txt', '--sample-temperature', 'hot'], dir);
    expect(t.stderr).toMatch(/^charrnn: --sample-temperature expects a number >= 0, got "hot"/);
  });
});
