// Nothing is lost: atomic checkpoints under kill -9, a second Ctrl-C, rollback with --recover,
// write errors that stop the run, and the internal-error path (one line, --debug for the stack).

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readCheckpoint } from '../src/checkpoint/format';
import { buildProgram, main } from '../src/cli';
import { BIN, charrnn, childEnv, expectUserError, makeTmp, ok, readJSON, removeTmp, shakespeare, TINY } from './cli-helpers';

let dir: string;
beforeAll(() => {
  dir = makeTmp();
  writeFileSync(join(dir, 'corpus.txt'), shakespeare(20_000));
});
afterAll(() => removeTmp(dir));

/** Start a training run in the background; resolves when its stderr matches `ready`. */
function startTraining(args: string[], ready: RegExp) {
  const child = spawn(process.execPath, [BIN, 'train', ...args], { cwd: dir, env: childEnv() });
  let stderr = '';
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('close', (code, signal) => res({ code, signal })),
  );
  const readyP = new Promise<void>((res, rej) => {
    child.stderr.on('data', (d) => {
      stderr += d.toString();
      if (ready.test(stderr)) res();
    });
    child.on('close', () => rej(new Error(`the run ended before it was ready: ${stderr}`)));
  });
  return { child, closed, ready: readyP, stderr: () => stderr };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('checkpoints survive kill -9 at any moment', () => {
  it('latest.json always holds a whole checkpoint, whenever the writer dies', async () => {
    // A model whose checkpoint takes a while to write (~3 MB), saved after every step.
    const flags = ['corpus.txt', '--hidden', '200', '--layers', '2', '--batch-size', '1', '--seq-length', '2', '--val-frac', '0'];
    const ckdir = 'killed';
    let lastIter = -1;
    for (let round = 0; round < 6; round++) {
      const extra = round === 0 ? [] : ['--resume'];
      const run = startTraining([...flags, ...extra, '--eval-every', '1', '--iters', '100000', '--checkpoint-dir', ckdir, '--print-every', '1'], /iter \d+/);
      await run.ready;
      // the first round's first checkpoint may not be written yet: the test is about a kill during a rewrite
      while (!existsSync(join(dir, ckdir, 'latest.json'))) await sleep(10);
      await sleep(150 + 97 * round); // land at different points of the write cycle
      run.child.kill('SIGKILL');
      const { signal } = await run.closed;
      expect(signal).toBe('SIGKILL');
      // whatever the moment, the file parses and is complete
      const ck = readCheckpoint(join(dir, ckdir, 'latest.json'));
      expect(ck.training!.iter).toBeGreaterThanOrEqual(1);
      expect(Object.keys(ck.tensors)).toContain('out.W');
      expect(ck.training!.iter).toBeGreaterThanOrEqual(lastIter);
      lastIter = ck.training!.iter;
    }
    // a new run in the folder clears the temporary files the killed writers left
    ok(['train', ...flags, '--resume', '--iters', String(lastIter + 1), '--checkpoint-dir', ckdir, '--quiet'], dir);
    expect(readdirSync(join(dir, ckdir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('Ctrl-C twice', () => {
  it('the second signal quits at once, with exit code 2 and its own line, not the 130 of a saved stop', async () => {
    // steps of some length, so both signals arrive within one (they are handled between steps);
    // SIGINT and SIGTERM, because a second pending SIGINT would merge with the first (the
    // process may see them in either order)
    const slow = ['--model', 'lstm', '--hidden', '96', '--layers', '1', '--batch-size', '32', '--seq-length', '64'];
    const run = startTraining(['corpus.txt', ...slow, '--kernels', 'js', '--iters', '100000', '--eval-every', '5', '--print-every', '1', '--checkpoint-dir', 'twice'], /iter 7\b/);
    await run.ready;
    run.child.kill('SIGINT');
    run.child.kill('SIGTERM');
    const { code } = await run.closed;
    expect(code).toBe(2);
    expect(run.stderr()).toMatch(/a second signal \(SIG(INT|TERM)\): quitting at once without saving; twice\/latest\.json holds the last checkpoint written/);
    expect(run.stderr()).not.toMatch(/internal error|\bat .*:\d+:\d+/);
    // the checkpoint of the last evaluation is whole
    const ck = readCheckpoint(join(dir, 'twice', 'latest.json'));
    expect(ck.training!.iter).toBeGreaterThanOrEqual(5);
  });
});

describe('a diverging run', () => {
  const diverge = ['corpus.txt', '--model', 'lstm', '--hidden', '32', '--layers', '1', '--batch-size', '8', '--seq-length', '16'];
  const wild = ['--optimizer', 'sgd', '--lr', '300', '--iters', '40', '--eval-every', '20', '--kernels', 'js', '--quiet'];

  it('without --recover: stops with one line, non-zero exit', () => {
    const r = charrnn(['train', ...diverge, ...wild, '--checkpoint-dir', 'wild'], dir);
    expectUserError(r, /loss (exploded|became)/);
  });

  it('with --recover: rolls back to the last good state with half the rate, and finishes', () => {
    const r = ok(['train', ...diverge, ...wild, '--recover', '--checkpoint-dir', 'wild-recover'], dir);
    const rollbacks = r.stderr.match(/rolled back to iteration \d+ with the learning rate halved/g) ?? [];
    expect(rollbacks.length).toBeGreaterThanOrEqual(1);
    const ck = readJSON(join(dir, 'wild-recover', 'latest.json'));
    expect(ck.training.iter).toBe(40);
    expect(ck.training.lrScale).toBe(0.5 ** rollbacks.length);
    expect(Number.isFinite(ck.history.val[ck.history.val.length - 1][2])).toBe(true);
  });
});

describe('write errors stop the run with a clear line', () => {
  it('--checkpoint-dir that is a file', () => {
    writeFileSync(join(dir, 'not-a-dir'), 'x');
    const r = charrnn(['train', 'corpus.txt', ...TINY, '--iters', '5', '--kernels', 'js', '--checkpoint-dir', 'not-a-dir/sub'], dir);
    expectUserError(r, /cannot create --checkpoint-dir not-a-dir\/sub/);
  });

  it('a checkpoint that cannot be written (latest.json is a folder) stops training at the first save', () => {
    mkdirSync(join(dir, 'blocked', 'latest.json'), { recursive: true });
    const r = charrnn(['train', 'corpus.txt', ...TINY, '--iters', '50', '--eval-every', '10', '--kernels', 'js', '--quiet', '--checkpoint-dir', 'blocked', '--force'], dir);
    expectUserError(r, /cannot write checkpoint blocked\/latest\.json/);
    expect(existsSync(join(dir, 'blocked', 'best.json'))).toBe(false); // it stopped at the first save
    // and no temporary file is left behind
    expect(readdirSync(join(dir, 'blocked')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('internal errors', () => {
  it('print one line with a hint to rerun with --debug; --debug adds the stack', async () => {
    let err = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      err += String(s);
      return true;
    });
    const saved = process.exitCode;
    // a program with a command whose action fails the way a bug would
    const program = buildProgram();
    program
      .command('boom')
      .option('--debug')
      .action(() => {
        throw new TypeError('x is undefined');
      });
    program
      .command('boom2')
      .option('--tag <s>')
      .option('--debug')
      .action(() => {
        throw new TypeError('x is undefined');
      });
    try {
      await main(['node', 'charrnn', 'boom'], program);
      expect(process.exitCode).toBe(70);
      expect(err).toMatch(/^charrnn: internal error: x is undefined \(rerun with --debug for the stack trace\)\n$/);
      err = '';
      await main(['node', 'charrnn', 'boom', '--debug'], program);
      expect(err.split('\n')[0]).toBe('charrnn: internal error: x is undefined');
      expect(err).toMatch(/TypeError: x is undefined\n\s+at /);
      // "--debug" as the value of another flag is that flag's value, not --debug
      err = '';
      await main(['node', 'charrnn', 'boom2', '--tag', '--debug'], program);
      expect(err).toMatch(/^charrnn: internal error: x is undefined \(rerun with --debug for the stack trace\)\n$/);
    } finally {
      spy.mockRestore();
      process.exitCode = saved;
    }
  });
});
