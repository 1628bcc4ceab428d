// `charrnn train` end to end: checkpoints on disk, what goes to stderr and stdout, --json lines.

import { DEFAULT_LR } from '../src/config';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  base64ToF32,
  BIN,
  childEnv,
  codePoints,
  makeTmp,
  ok,
  paramCount,
  readJSON,
  removeTmp,
  shakespeare,
  TINY,
  trainTiny,
  type Run,
} from './cli-helpers';

let dir: string;
const text = shakespeare(20_000);
const vocab = codePoints(text);
const V = vocab.length;

beforeAll(() => {
  dir = makeTmp();
  writeFileSync(join(dir, 'corpus.txt'), text);
});
afterAll(() => removeTmp(dir));

describe('charrnn train (human output, wasm kernels)', () => {
  let r: Run;
  beforeAll(() => {
    r = trainTiny(dir, 'corpus.txt', 'ck');
  });

  it('exits 0 and writes checkpoints/latest.json and best.json', () => {
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'ck', 'latest.json'))).toBe(true);
    expect(existsSync(join(dir, 'ck', 'best.json'))).toBe(true);
  });

  it('prints nothing on stdout without --json', () => {
    expect(r.stdout).toBe('');
  });

  it('reports the corpus size, the vocabulary size and the parameter count on stderr', () => {
    expect(r.stderr).toContain(`${text.length.toLocaleString('en-US')} characters`);
    expect(r.stderr).toContain(`vocabulary ${V}`);
    expect(r.stderr).toContain(`${paramCount('lstm', 32, V).toLocaleString('en-US')} parameters`);
    expect(r.stderr).not.toContain('\x1b'); // stderr is not a terminal: no colour
  });

  it('latest.json follows the documented format', () => {
    const ck = readJSON(join(dir, 'ck', 'latest.json'));
    expect(ck.format).toBe('charrnn-checkpoint');
    expect(ck.version).toBe(1);
    expect(ck.model).toEqual({ model: 'lstm', hidden: 32, layers: 1, embed: 0, dropout: 0 });
    expect(ck.vocab).toEqual(vocab);
    const H = 32;
    const G = 4 * H;
    const shapes: Record<string, number[]> = {
      'l0.Wx': [V, G],
      'l0.Wh': [H, G],
      'l0.b': [G],
      'out.W': [H, V],
      'out.b': [V],
    };
    expect(Object.keys(ck.tensors).sort()).toEqual(Object.keys(shapes).sort());
    for (const [name, shape] of Object.entries(shapes)) {
      const t = ck.tensors[name];
      expect(t.shape, name).toEqual(shape);
      expect(t.dtype).toBe('float32');
      expect(t.encoding).toBe('base64');
      const v = base64ToF32(t.data);
      expect(v.length, name).toBe(shape.reduce((a, b) => a * b, 1));
      expect(v.every(Number.isFinite), name).toBe(true);
    }
    expect(ck.training.iter).toBe(30);
    expect(ck.optimizer.kind).toBe('adagrad'); // the default
    expect(ck.optimizer.slots).toHaveLength(1);
    expect(ck.data.chars).toBe(text.length);
    expect(ck.data.sources).toEqual([join(dir, 'corpus.txt')]);
    expect(ck.history.val.map((p: number[]) => p[0])).toEqual([10, 20, 30]);
    // the loss went down from the uniform guess
    const last = ck.history.val[2][2];
    expect(last).toBeLessThan(Math.log(V));
  });

  it('best.json holds the best validation loss so far', () => {
    const latest = readJSON(join(dir, 'ck', 'latest.json'));
    const best = readJSON(join(dir, 'ck', 'best.json'));
    const vals: number[] = latest.history.val.map((p: number[]) => p[2]);
    expect(best.training.bestValLoss).toBe(Math.min(...vals));
    expect(best.training.iter).toBeLessThanOrEqual(30);
  });
});

describe('charrnn train --json (js kernels)', () => {
  let r: Run;
  beforeAll(() => {
    r = trainTiny(dir, 'corpus.txt', 'ck-json', ['--json', '--kernels', 'js']);
  });

  it('prints only JSON lines on stdout: train, val and a final done', () => {
    expect(r.code).toBe(0);
    expect(r.stdout.endsWith('\n')).toBe(true);
    expect(r.stdout).not.toContain('\x1b');
    const lines = r.stdout.slice(0, -1).split('\n');
    const objs = lines.map((l) => JSON.parse(l));
    const train = objs.filter((o) => o.type === 'train');
    const val = objs.filter((o) => o.type === 'val');
    expect(train.map((o) => o.iter)).toEqual([10, 20, 30]);
    for (const o of train) expect(Number.isFinite(o.loss)).toBe(true);
    // the documented default: Adagrad's rate on a cosine down to a tenth at the run's last iteration
    const lrs = train.map((o) => o.lr);
    for (let i = 1; i < lrs.length; i++) expect(lrs[i]).toBeLessThan(lrs[i - 1]);
    expect(lrs[0]).toBeLessThanOrEqual(DEFAULT_LR.adagrad);
    expect(lrs[lrs.length - 1]).toBeCloseTo(DEFAULT_LR.adagrad / 10 + 0.5 * (1 + Math.cos((Math.PI * 26) / 27)) * DEFAULT_LR.adagrad * 0.9, 12);
    expect(val.map((o) => o.iter)).toEqual([10, 20, 30]);
    for (const o of val) expect(Number.isFinite(o.valLoss)).toBe(true);
    expect(objs.every((o) => ['train', 'val', 'done'].includes(o.type))).toBe(true);
    const done = objs[objs.length - 1];
    expect(done.type).toBe('done');
    expect(objs.filter((o) => o.type === 'done')).toHaveLength(1);
    expect(done.iter).toBe(30);
    expect(done.stoppedBy).toBe('done');
    expect(done.valLoss).toBe(val[val.length - 1].valLoss);
    expect(done.checkpoint).toBe(join('ck-json', 'latest.json'));
  });

  it('the val lines agree with the checkpoint history', () => {
    const ck = readJSON(join(dir, 'ck-json', 'latest.json'));
    const val = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((o) => o.type === 'val');
    expect(ck.history.val.map((p: number[]) => p[2])).toEqual(val.map((o) => o.valLoss));
  });
});

describe('charrnn train --quiet', () => {
  it('prints nothing at all', () => {
    const r = ok(['train', 'corpus.txt', ...TINY, '--iters', '5', '--eval-every', '5', '--checkpoint-dir', 'ck-quiet', '--quiet'], dir);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
    expect(readJSON(join(dir, 'ck-quiet', 'latest.json')).training.iter).toBe(5);
  });
});

describe('charrnn train: stdin and pipes', () => {
  it('trains on - (stdin) and records "-" as the source; eval - reads stdin too', () => {
    const lines = 'the cat sat on the mat\n'.repeat(100);
    ok(['train', '-', ...TINY, '--iters', '4', '--eval-every', '4', '--checkpoint-dir', 'ck-stdin', '--quiet', '--kernels', 'js'], dir, { input: lines });
    const ck = readJSON(join(dir, 'ck-stdin', 'latest.json'));
    expect(ck.data.sources).toEqual(['-']);
    expect(ck.data.chars).toBe(lines.length);
    expect(ck.vocab).toEqual(codePoints(lines));
    const r = ok(['eval', '-', '--json', '--checkpoint', join('ck-stdin', 'latest.json')], dir, { input: 'the mat sat\n' });
    expect(JSON.parse(r.stdout).chars).toBe(11);
  });

  it('train --json | head -1: the run ends quietly with exit 0 when the reader goes away', () => {
    const args = ['train', 'corpus.txt', ...TINY, '--iters', '100000', '--eval-every', '50', '--print-every', '1', '--checkpoint-dir', 'ck-head', '--json', '--quiet'];
    const script = `"${process.execPath}" "${BIN}" ${args.join(' ')} | head -n 1; echo "status \${PIPESTATUS[0]}"`;
    const r = spawnSync('bash', ['-c', script], { cwd: dir, env: childEnv(), timeout: 110_000 });
    expect(r.error).toBeUndefined();
    const out = r.stdout.toString('utf8').trimEnd().split('\n');
    expect(out).toHaveLength(2);
    expect(JSON.parse(out[0])).toMatchObject({ type: 'train', iter: 1 });
    expect(out[1]).toBe('status 0');
    expect(r.stderr.toString('utf8')).toBe('');
  });
});
