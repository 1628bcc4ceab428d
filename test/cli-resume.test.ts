// `charrnn train --resume` and `--init-from` end to end. A run stopped and resumed must end
// bit for bit where the same run without a stop ends: weights, optimizer state, RNG state.

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, charrnn, childEnv, expectUserError, makeTmp, ok, readJSON, removeTmp, shakespeare, tensor, TINY, type Checkpoint } from './cli-helpers';

let dir: string;
const text = shakespeare(20_000);
const V = new Set(text).size;

beforeAll(() => {
  dir = makeTmp();
  writeFileSync(join(dir, 'corpus.txt'), text);
});
afterAll(() => removeTmp(dir));

const train = (args: string[]) => ok(['train', 'corpus.txt', '--quiet', ...args], dir);

function expectSameState(a: Checkpoint, b: Checkpoint): void {
  expect(b.training.iter).toBe(a.training.iter);
  expect(Object.keys(b.tensors).sort()).toEqual(Object.keys(a.tensors).sort());
  for (const name of Object.keys(a.tensors)) {
    expect(b.tensors[name].shape, name).toEqual(a.tensors[name].shape);
    expect(b.tensors[name].data === a.tensors[name].data, `tensor ${name} is bit-identical`).toBe(true);
  }
  expect(b.optimizer).toEqual(a.optimizer);
  expect(b.training.rng).toEqual(a.training.rng);
  expect(b.training.hidden).toEqual(a.training.hidden);
  expect(b.training.epoch).toBe(a.training.epoch);
  expect(b.training.batchPos).toBe(a.training.batchPos);
  expect(b.training.charsSeen).toBe(a.training.charsSeen);
  expect(b.training.lr).toBe(a.training.lr);
}

/**
 * Run A straight to 40 iterations; B1 to `stopAt`, then B2 --resume to 40. The default cosine
 * schedule is pinned to end at 40 in both (a first session's bound would otherwise set B's end).
 */
function straightAndResumed(name: string, flags: string[], stopAt = 20, engine: string[] = []) {
  const common = [...TINY, '--seed', '7', '--lr-decay-iters', '40', ...flags];
  train([...common, ...engine, '--iters', '40', '--eval-every', '20', '--checkpoint-dir', `${name}-A`]);
  train([...common, ...engine, '--iters', String(stopAt), '--eval-every', '20', '--checkpoint-dir', `${name}-B`]);
  const b1 = readJSON(join(dir, `${name}-B`, 'latest.json'));
  expect(b1.training.iter).toBe(stopAt);
  train(['--resume', '--iters', '40', '--checkpoint-dir', `${name}-B`, ...engine]);
  return { a: readJSON(join(dir, `${name}-A`, 'latest.json')), b: readJSON(join(dir, `${name}-B`, 'latest.json')) };
}

describe('charrnn train --resume equals an uninterrupted run', () => {
  it('adagrad, wasm kernels', () => {
    const { a, b } = straightAndResumed('plain', []); // the defaults: adagrad, cosine
    expect(a.training.iter).toBe(40);
    expectSameState(a, b);
    expect(b.history).toEqual(a.history);
  });

  it('with --dropout 0.2 (the dropout generator is restored)', () => {
    const { a, b } = straightAndResumed('dropout', ['--dropout', '0.2']);
    expectSameState(a, b);
    expect(b.model.dropout).toBe(0.2);
  });

  it('with the adam optimizer (both moments and the step count), and the default cosine warmup', () => {
    const { a, b } = straightAndResumed('adam', ['--optimizer', 'adam']);
    expect(a.config.train.warmupIters).toBe(4); // a tenth of the 40 iterations, recorded resolved
    expect(a.optimizer.kind).toBe('adam');
    expect(a.optimizer.slots).toHaveLength(2);
    expect(a.optimizer.step).toBe(40);
    expectSameState(a, b);
  });

  it('a GRU with an embedding, two layers, dropout, stopped between evaluations (js kernels)', () => {
    const flags = ['--model', 'gru', '--embed', '8', '--layers', '2', '--dropout', '0.1'];
    const { a, b } = straightAndResumed('gru', flags, 25, ['--kernels', 'js']);
    expectSameState(a, b);
  });

  it('resuming a finished run with no higher bound does nothing more', () => {
    const before = readJSON(join(dir, 'plain-A', 'latest.json'));
    const r = ok(['train', 'corpus.txt', '--resume', '--iters', '40', '--checkpoint-dir', 'plain-A', '--json'], dir);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.filter((o) => o.type === 'train')).toHaveLength(0);
    expect(lines[lines.length - 1]).toMatchObject({ type: 'done', iter: 40 });
    const after = readJSON(join(dir, 'plain-A', 'latest.json'));
    for (const name of Object.keys(before.tensors)) expect(after.tensors[name].data).toBe(before.tensors[name].data);
  });

  it('an architecture flag that disagrees with the checkpoint fails, naming the flag', () => {
    const r = charrnn(['train', 'corpus.txt', '--resume', '--hidden', '64', '--iters', '50', '--checkpoint-dir', 'plain-B'], dir);
    expectUserError(r, /--hidden 64/);
    expect(r.stderr).toMatch(/hidden 32/);
  });

  it('a --batch-size that disagrees with the checkpoint fails, naming the flag', () => {
    const r = charrnn(['train', 'corpus.txt', '--resume', '--batch-size', '4', '--checkpoint-dir', 'plain-B'], dir);
    expectUserError(r, /--batch-size 4/);
  });

  it('a different corpus is refused', () => {
    writeFileSync(join(dir, 'other.txt'), text.slice(0, 10_000));
    const r = charrnn(['train', 'other.txt', '--resume', '--iters', '50', '--checkpoint-dir', 'plain-B'], dir);
    expectUserError(r, /corpus differs/);
  });

  it('--resume and --init-from together are refused', () => {
    const r = charrnn(['train', 'corpus.txt', '--resume', '--init-from', join('plain-A', 'latest.json'), '--checkpoint-dir', 'x'], dir);
    expectUserError(r, /--resume and --init-from/);
  });
});

describe('charrnn train --init-from', () => {
  const firstLoss = (stdout: string): number => {
    const first = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((o) => o.type === 'train');
    return first.loss;
  };

  it("starts from the checkpoint's weights, with a fresh optimizer and iterations from 0", () => {
    const src = readJSON(join(dir, 'plain-A', 'latest.json')); // adagrad, 40 iterations
    const fresh = train([...TINY, '--iters', '3', '--print-every', '1', '--eval-every', '3', '--checkpoint-dir', 'fresh', '--json']);
    const init = train([
      '--init-from', join('plain-A', 'latest.json'),
      '--optimizer', 'adam', '--iters', '3', '--print-every', '1', '--eval-every', '3', '--checkpoint-dir', 'init', '--json',
    ]);
    // a fresh model starts near the uniform guess ln V; the trained one well below it
    expect(Math.abs(firstLoss(fresh.stdout) - Math.log(V))).toBeLessThan(0.2);
    expect(firstLoss(init.stdout)).toBeLessThan(Math.log(V) - 0.6);
    expect(firstLoss(init.stdout)).toBeLessThan(src.history.train[0][2]);

    const ck = readJSON(join(dir, 'init', 'latest.json'));
    expect(ck.training.iter).toBe(3);
    expect(ck.optimizer.kind).toBe('adam');
    expect(ck.optimizer.step).toBe(3);
    expect(ck.optimizer.slots).toHaveLength(2);
    expect(ck.history.train.map((p: number[]) => p[0])).toEqual([1, 2, 3]);
    expect(ck.model).toEqual(src.model);
    expect(ck.vocab).toEqual(src.vocab);
  });

  it('a --model that disagrees with the checkpoint fails, naming the flag', () => {
    const r = charrnn(['train', 'corpus.txt', '--init-from', join('plain-A', 'latest.json'), '--model', 'gru', '--checkpoint-dir', 'bad'], dir);
    expectUserError(r, /--model gru disagrees/);
  });

  it('a corpus with characters outside the checkpoint vocabulary is refused, naming them', () => {
    writeFileSync(join(dir, 'euro.txt'), text + '€');
    const r = charrnn(['train', 'euro.txt', '--init-from', join('plain-A', 'latest.json'), '--checkpoint-dir', 'bad'], dir);
    expectUserError(r, /U\+20AC/);
  });
});

/** Spawn `charrnn train ...`; send `signal` when the first --json line of type 'train' arrives. */
function trainUntilSignal(args: string[], signal: NodeJS.Signals): Promise<{ code: number | null; lines: Record<string, unknown>[]; stderr: string; guard: boolean }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, 'train', ...args, '--json'], { cwd: dir, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let sent = false;
    let guard = false;
    const timer = setTimeout(() => {
      guard = true;
      child.kill('SIGKILL');
    }, 90_000); // a guard against a hang, not a timing assertion
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      if (!sent && out.includes('"type":"train"')) {
        sent = true;
        child.kill(signal);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      resolvePromise({ code, lines, stderr, guard });
    });
  });
}

describe('charrnn train: signals', () => {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal} stops after the step, saves latest.json, exits ${code}; --resume continues exactly`, async () => {
      // the cosine's end pinned: the stopped run's bound is its 10 epochs, the straight run's k + 5 iterations
      const flags = [...TINY, '--seed', '11', '--dropout', '0.1', '--lr-decay-iters', '1000', '--print-every', '1', '--eval-every', '1000', '--kernels', 'js'];
      const name = signal.toLowerCase();
      const r = await trainUntilSignal(['corpus.txt', ...flags, '--checkpoint-dir', `${name}-B`], signal);
      expect(r.guard).toBe(false);
      expect(r.code).toBe(code);
      const done = r.lines[r.lines.length - 1];
      expect(done).toMatchObject({ type: 'done', stoppedBy: signal });
      expect(r.stderr).toContain(`${signal}: stopping after this step`);
      expect(r.stderr).not.toMatch(/internal error|\bat .*:\d+:\d+/);
      const stopped = readJSON(join(dir, `${name}-B`, 'latest.json'));
      const k = stopped.training.iter;
      expect(k).toBe(done.iter);
      expect(k).toBeGreaterThanOrEqual(1);
      // the stopped run, resumed to k + 5, ends where a run straight to k + 5 ends
      train(['--resume', '--iters', String(k + 5), '--checkpoint-dir', `${name}-B`, '--kernels', 'js']);
      train([...flags, '--iters', String(k + 5), '--checkpoint-dir', `${name}-A`]);
      expectSameState(readJSON(join(dir, `${name}-A`, 'latest.json')), readJSON(join(dir, `${name}-B`, 'latest.json')));
    });
  }
});

describe('charrnn train: the loss guard', () => {
  const explode = ['--quiet', '--optimizer', 'sgd', '--lr', '1e6', '--clip', '0', '--iters', '50', '--kernels', 'js'];

  it('an exploding loss stops the run with one line; the checkpoint of the last evaluation is intact', () => {
    const r = charrnn(['train', 'corpus.txt', ...TINY, ...explode, '--eval-every', '1', '--checkpoint-dir', 'boom'], dir);
    expectUserError(r, /loss (exploded to|became) .* at iteration 2\b.*checkpoint in boom is intact.*--resume/);
    const ck = readJSON(join(dir, 'boom', 'latest.json'));
    expect(ck.training.iter).toBe(1);
  });

  it('before the first checkpoint it says none was saved', () => {
    const r = charrnn(['train', 'corpus.txt', ...TINY, ...explode, '--eval-every', '5', '--checkpoint-dir', 'boom2'], dir);
    expectUserError(r, /loss (exploded to|became) .*no checkpoint was saved yet/);
  });

  it('does not fire when a run from trained weights (--init-from) starts near 0 and meets a typo', () => {
    // alternation with one character flipped every 150: the hand-made alternation model starts
    // at ~0.001 nats/char and pays ~8 nats for each typo
    const chars = Array.from('ab'.repeat(600));
    for (let i = 50; i < chars.length; i += 150) chars[i] = chars[i] === 'a' ? 'b' : 'a';
    writeFileSync(join(dir, 'ab-typos.txt'), chars.join(''));
    writeFileSync(
      join(dir, 'alternation.json'),
      JSON.stringify({
        format: 'charrnn-checkpoint',
        version: 1,
        model: { model: 'rnn', hidden: 2, layers: 1, embed: 0, dropout: 0 },
        vocab: [97, 98],
        tensors: {
          'l0.Wx': tensor([2, 2], [2.5, -3, -2, 3.5]),
          'l0.Wh': tensor([2, 2], [0.5, 0.1, -0.2, 0.3]),
          'l0.b': tensor([2], [0.1, -0.05]),
          'out.W': tensor([2, 2], [-2, 1.5, 2.5, -1]),
          'out.b': tensor([2], [0.05, -0.02]),
        },
      }),
    );
    const r = ok(
      ['train', 'ab-typos.txt', '--init-from', 'alternation.json', '--batch-size', '2', '--seq-length', '16', '--val-frac', '0', '--iters', '100', '--print-every', '1', '--checkpoint-dir', 'ft', '--json', '--kernels', 'js'],
      dir,
    );
    const losses = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((o) => o.type === 'train').map((o) => o.loss);
    expect(losses).toHaveLength(100);
    expect(losses[0]).toBeLessThan(0.01);
    expect(Math.max(...losses)).toBeGreaterThan(3 * losses[0]); // a guard at 3 x the first loss stops this run
    expect(Math.max(...losses)).toBeLessThan(3 * Math.log(2));
  });
});
