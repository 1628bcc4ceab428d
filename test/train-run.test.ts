// The training loop end to end (src/train/run.ts, checkpoint/run.ts, checkpoint/folder.ts): the
// folder guard, --resume with changed flags, the smoothed loss guard, --eval-chars, the end of a
// run, and the clean-up on every exit path.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { charrnn, expectUserError, makeTmp, ok, readJSON, removeTmp, ROOT, shakespeare, TINY, jsonLines } from './cli-helpers';

let dir: string;
beforeAll(() => {
  dir = makeTmp();
  writeFileSync(join(dir, 'corpus.txt'), shakespeare(20_000));
});
afterAll(() => removeTmp(dir));

/** SGD at a vanishing rate: the weights never change, so every evaluation of the same text gives the same loss. */
const FROZEN = ['--optimizer', 'sgd', '--lr', '1e-30', '--kernels', 'js'];

describe('a folder that holds a run (bug 11)', () => {
  it('a new run refuses it, naming --resume and --force; the old checkpoints stay; --force replaces them', () => {
    ok(['train', 'corpus.txt', ...TINY, '--iters', '10', '--eval-every', '10', '--checkpoint-dir', 'held', '--quiet', '--kernels', 'js'], dir);
    const before = readFileSync(join(dir, 'held', 'latest.json'), 'utf8');
    const r = charrnn(['train', 'corpus.txt', ...TINY, '--iters', '5', '--checkpoint-dir', 'held', '--kernels', 'js'], dir);
    const line = expectUserError(r, /held\/latest\.json exists/);
    expect(line).toContain('--resume');
    expect(line).toContain('--force');
    expect(readFileSync(join(dir, 'held', 'latest.json'), 'utf8')).toBe(before);
    ok(['train', 'corpus.txt', ...TINY, '--iters', '5', '--eval-every', '5', '--checkpoint-dir', 'held', '--force', '--quiet', '--kernels', 'js'], dir);
    expect(readJSON(join(dir, 'held', 'latest.json')).training.iter).toBe(5);
  });

  it('a forced run without a validation split leaves no best.json of the run it replaced', () => {
    ok(['train', 'corpus.txt', ...TINY, '--iters', '5', '--eval-every', '5', '--checkpoint-dir', 'held2', '--quiet', '--kernels', 'js'], dir);
    expect(existsSync(join(dir, 'held2', 'best.json'))).toBe(true);
    ok(['train', 'corpus.txt', ...TINY, '--iters', '5', '--eval-every', '5', '--val-frac', '0', '--checkpoint-dir', 'held2', '--force', '--quiet', '--kernels', 'js'], dir);
    expect(existsSync(join(dir, 'held2', 'best.json'))).toBe(false);
  });

  it("a forced run with --keep removes the numbered checkpoints of the run it replaced, which would outrank its own", () => {
    ok(['train', 'corpus.txt', ...TINY, '--iters', '40', '--eval-every', '20', '--keep', '5', '--checkpoint-dir', 'held3', '--quiet', '--kernels', 'js'], dir);
    writeFileSync(join(dir, 'held3', 'notes.json'), '{}');
    ok(['train', 'corpus.txt', ...TINY, '--iters', '10', '--eval-every', '5', '--keep', '2', '--checkpoint-dir', 'held3', '--force', '--quiet', '--kernels', 'js'], dir);
    const numbered = readdirSync(join(dir, 'held3')).filter((f) => f.startsWith('iter-')).sort();
    expect(numbered.map((f) => f.slice(0, 11))).toEqual(['iter-000005', 'iter-000010']);
    expect(existsSync(join(dir, 'held3', 'notes.json'))).toBe(true);
  });
});

describe("temporaries of another run's writes (bug 5)", () => {
  it("a new run removes a dead writer's temporary and keeps a live writer's", () => {
    mkdirSync(join(dir, 'shared'));
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const dead = `.latest.json.${gone}.tmp`;
    const live = `.latest.json.${process.pid}.tmp`; // this test process: alive
    writeFileSync(join(dir, 'shared', dead), 'half a checkpoint');
    writeFileSync(join(dir, 'shared', live), 'a checkpoint being written');
    ok(['train', 'corpus.txt', ...TINY, '--iters', '2', '--eval-every', '2', '--checkpoint-dir', 'shared', '--quiet', '--kernels', 'js'], dir);
    const temps = readdirSync(join(dir, 'shared')).filter((f) => f.endsWith('.tmp'));
    expect(temps).toEqual([live]);
  });
});

describe('--resume with optimization flags (bug 2)', () => {
  beforeAll(() => {
    ok(['train', 'corpus.txt', ...TINY, '--optimizer', 'adagrad', '--lr', '0.03', '--lr-schedule', 'none', '--iters', '10', '--eval-every', '10', '--checkpoint-dir', 'tune', '--quiet', '--kernels', 'js'], dir);
  });

  it('applies --lr, --clip, --clip-norm, --reduction and --dropout, and says so for each', () => {
    const r = ok(
      ['train', 'corpus.txt', '--resume', '--checkpoint-dir', 'tune', '--iters', '15', '--print-every', '1', '--json', '--lr', '0.001', '--clip', '1', '--clip-norm', '2', '--reduction', 'sum', '--dropout', '0.1'],
      dir,
    );
    for (const said of [
      "resuming with --lr 0.001 instead of the checkpoint's 0.03",
      "resuming with --clip 1 instead of the checkpoint's 5",
      "resuming with --clip-norm 2 instead of the checkpoint's 0",
      "resuming with --reduction sum instead of the checkpoint's mean",
      "resuming with --dropout 0.1 instead of the checkpoint's 0",
    ]) {
      expect(r.stderr).toContain(said);
    }
    const trainLines = jsonLines(r.stdout).filter((o) => o.type === 'train');
    expect(trainLines.map((o) => o.iter)).toEqual([11, 12, 13, 14, 15]);
    for (const o of trainLines) {
      expect(o.lr).toBe(0.001);
      expect(o.gradNorm).toBeGreaterThan(0); // --clip-norm computes the norm, and --json shows it
    }
    const ck = readJSON(join(dir, 'tune', 'latest.json'));
    expect(ck.config.optim).toMatchObject({ lr: 0.001, clip: 1, clipNorm: 2, reduction: 'sum', optimizer: 'adagrad' });
    expect(ck.model.dropout).toBe(0.1);
    expect(ck.training.lr).toBe(0.001);
  });

  it('says which evaluation settings it changes; other --eval-chars windows are not comparable', () => {
    const r = ok(['train', 'corpus.txt', '--resume', '--checkpoint-dir', 'tune', '--iters', '16', '--eval-every', '7', '--eval-chars', '500', '--kernels', 'js'], dir);
    expect(r.stderr).toMatch(/resuming with --eval-every 7 instead of the checkpoint's 10\n/);
    expect(r.stderr).toMatch(/resuming with --eval-chars 500 instead of the checkpoint's \d+ \(other validation windows: the losses before and after are not comparable\)/);
    expect(r.stderr).not.toMatch(/resuming with --iters/); // bounds are in the summary line
  });

  it('refuses another --optimizer (its state does not carry over) and another --seed, with one line', () => {
    const opt = charrnn(['train', 'corpus.txt', '--resume', '--checkpoint-dir', 'tune', '--iters', '20', '--optimizer', 'adam'], dir);
    expect(expectUserError(opt, /--optimizer adam disagrees with the checkpoint.*\(adagrad\)/)).toContain('--init-from');
    expectUserError(charrnn(['train', 'corpus.txt', '--resume', '--checkpoint-dir', 'tune', '--iters', '20', '--seed', '5'], dir), /--seed 5 disagrees/);
  });
});

describe('the loss guard (bug 6)', () => {
  it("lets min-char-rnn's recipe with --reduction mean through its early transient", () => {
    // the recipe the issue reports stopped at iteration 5, "exploded to 14.4"
    const recipe = ['--model', 'rnn', '--hidden', '100', '--layers', '1', '--embed', '0', '--batch-size', '1', '--seq-length', '25', '--optimizer', 'adagrad', '--lr', '0.1', '--lr-schedule', 'none', '--seed', '1', '--reduction', 'mean'];
    const corpus = join(ROOT, 'data', 'tinyshakespeare.txt');
    const r = ok(['train', corpus, ...recipe, '--iters', '60', '--eval-every', '60', '--print-every', '1', '--json', '--checkpoint-dir', 'minchar'], dir);
    const losses = jsonLines(r.stdout).filter((o) => o.type === 'train').map((o) => o.loss);
    expect(losses).toHaveLength(60);
    // a batch above 3 x the first loss: a guard on one batch's loss stops this run
    expect(Math.max(...losses)).toBeGreaterThan(3 * Math.max(losses[0], Math.log(65)));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-20))).toBeLessThan(losses[0]); // and it learns
  });
});

describe('--eval-chars (bug 8)', () => {
  it('every evaluation reads the same windows; the last reads the whole split, as charrnn eval does', () => {
    const r = ok(['train', 'corpus.txt', ...TINY, ...FROZEN, '--iters', '30', '--eval-every', '10', '--eval-chars', '400', '--json', '--checkpoint-dir', 'evalchars'], dir);
    const vals = jsonLines(r.stdout).filter((o) => o.type === 'val');
    expect(vals.map((o) => o.iter)).toEqual([10, 20, 30]);
    // 2,000 validation characters in 8 streams of 249: windows of 50 in each
    expect(vals.map((o) => o.chars)).toEqual([400, 400, 8 * 249]);
    expect(vals[1].valLoss).toBe(vals[0].valLoss); // the same windows (and the same weights)
    expect(vals[2].valLoss).not.toBe(vals[0].valLoss);
    const evaluated = JSON.parse(ok(['eval', '--json', '--checkpoint', join('evalchars', 'latest.json'), '--kernels', 'js'], dir).stdout);
    expect(evaluated.chars).toBe(8 * 249);
    expect(evaluated.natsPerChar).toBeCloseTo(vals[2].valLoss, 6);
  });

  it('a run stopped by --patience after a sampled evaluation ends with one evaluation of the whole split there', () => {
    const r = ok(['train', 'corpus.txt', ...TINY, ...FROZEN, '--iters', '1000', '--eval-every', '5', '--patience', '1', '--eval-chars', '400', '--json', '--checkpoint-dir', 'evalpat'], dir);
    const vals = jsonLines(r.stdout).filter((o) => o.type === 'val');
    expect(vals.map((o) => [o.iter, o.chars])).toEqual([[5, 400], [10, 400], [10, 8 * 249]]);
    expect(readJSON(join(dir, 'evalpat', 'latest.json')).history.val.map((p: number[]) => p[0])).toEqual([5, 10]);
  });
});

describe('the end of a run (bug 13)', () => {
  it('names the iteration of the loss it reports, and says best.json is older when it was not rewritten', () => {
    const r = ok(['train', 'corpus.txt', ...TINY, ...FROZEN, '--iters', '30', '--eval-every', '10', '--checkpoint-dir', 'end'], dir);
    const last = r.stderr.trimEnd().split('\n').pop()!;
    expect(last).toMatch(/^done at iteration 30 .*: val loss [\d.]+ nats\/char \([\d.]+ bits\/char\) at iteration 30, best [\d.]+ at iteration 10\./);
    expect(last).toContain('Saved end/latest.json (best.json: iteration 10)');
    expect(last).not.toContain('and best.json');
  });

  it('a resumed run already at its bound says to raise --iters or --epochs, and changes nothing', () => {
    const before = readFileSync(join(dir, 'end', 'latest.json'), 'utf8');
    const r = ok(['train', 'corpus.txt', '--resume', '--checkpoint-dir', 'end', '--iters', '30'], dir);
    expect(r.stderr).toMatch(/at iteration 30 already.*raise --iters, --epochs or --time/);
    expect(readFileSync(join(dir, 'end', 'latest.json'), 'utf8')).toBe(before);
  });
});

describe('the bounds of a resumed run', () => {
  it('a bound given with --resume replaces the saved ones: --iters past a saved --epochs trains to it, and back', () => {
    // 140 batches an epoch: --epochs 0.05 stops at iteration 7
    ok(['train', 'corpus.txt', ...TINY, ...FROZEN, '--epochs', '0.05', '--eval-every', '100', '--checkpoint-dir', 'bounds', '--quiet'], dir);
    expect(readJSON(join(dir, 'bounds', 'latest.json')).training.iter).toBe(7);
    const more = ok(['train', 'corpus.txt', '--resume', '--checkpoint-dir', 'bounds', '--iters', '12', '--json'], dir);
    expect(jsonLines(more.stdout).pop()).toMatchObject({ type: 'done', iter: 12 });
    // and a saved --iters gives way to --epochs given alone
    const epochs = ok(['train', 'corpus.txt', '--resume', '--checkpoint-dir', 'bounds', '--epochs', '0.1', '--json'], dir);
    expect(jsonLines(epochs.stdout).pop()).toMatchObject({ type: 'done', iter: 14 });
  });
});

describe('the training preview without a newline in the vocabulary (bug 9)', () => {
  it('starts with a character drawn uniformly, not always with id 0', () => {
    writeFileSync(join(dir, 'abc.txt'), 'abcacbbcabacbcab'.repeat(200)); // no newline
    const r = ok(['train', 'abc.txt', ...TINY, ...FROZEN, '--iters', '12', '--eval-every', '12', '--sample-every', '1', '--sample-len', '8', '--sample-temperature', '0', '--checkpoint-dir', 'abc'], dir);
    const previews = [...r.stderr.matchAll(/--- sample at iteration \d+ \(temperature 0\) ---\n(.*)\n---/g)].map((m) => m[1]);
    expect(previews).toHaveLength(12);
    for (const p of previews) expect(Array.from(p)).toHaveLength(8);
    // the weights are frozen and the rest is argmax: only the first character can differ
    expect(new Set(previews.map((p) => p[0])).size).toBeGreaterThan(1);
  });
});
