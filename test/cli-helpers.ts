// Helpers of the end-to-end tests (test/cli-*.test.ts): they spawn the real, built CLI
// (`node bin/charrnn ...`, dist/ from `npm run build`) in fresh temporary folders.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';

export const ROOT = resolve(__dirname, '..');
/** The CLI under test: this checkout's bin/charrnn, or CHARRNN_BIN (e.g. an installed copy). */
export const BIN = process.env.CHARRNN_BIN ?? join(ROOT, 'bin', 'charrnn');

if (!process.env.CHARRNN_BIN && !existsSync(join(ROOT, 'dist', 'cli.js'))) {
  throw new Error('dist/cli.js is missing: run `npm run build` before the CLI tests (npm test does it)');
}

/** A small, fast model: one LSTM layer of 32, batches of 8 x 16. */
// A small one-hot LSTM, and no dropout: the recipe's dropout depends on the run's bounds
// (train/recipe.ts), and tests compare runs of different lengths
export const TINY = ['--model', 'lstm', '--hidden', '32', '--layers', '1', '--embed', '0', '--batch-size', '8', '--seq-length', '16', '--dropout', '0'];

/** Czech pangram with diacritics and an astral-plane emoji (two UTF-16 units, one code point). */
export const CZECH_LINE = 'Příliš žluťoučký kůň úpěl ďábelské ódy 😀\n';

/** The first `bytes` bytes of the bundled Tiny Shakespeare (ASCII, so bytes = characters). */
export function shakespeare(bytes = 20_000): string {
  const buf = readFileSync(join(ROOT, 'data', 'tinyshakespeare.txt'));
  return buf.subarray(0, bytes).toString('utf8');
}

export function makeTmp(): string {
  return mkdtempSync(join(tmpdir(), 'charrnn-cli-'));
}

export function removeTmp(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** The environment of the child: no forced colour unless a test asks for it. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (!('FORCE_COLOR' in extra)) delete env.FORCE_COLOR;
  return env;
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
}

/** Run `charrnn ...args` to completion in `cwd`. */
export function charrnn(args: string[], cwd: string, opts: { input?: string | Buffer; env?: Record<string, string> } = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    input: opts.input,
    env: childEnv(opts.env),
    maxBuffer: 256 * 1024 * 1024,
    timeout: 110_000, // a guard against a hang, not a timing assertion
  });
  if (r.error) throw r.error;
  return {
    code: r.status,
    signal: r.signal,
    stdout: r.stdout.toString('utf8'),
    stdoutBytes: r.stdout,
    stderr: r.stderr.toString('utf8'),
  };
}

/** A run that must succeed; on failure the assertion shows its stderr. */
export function ok(args: string[], cwd: string, opts: { input?: string | Buffer; env?: Record<string, string> } = {}): Run {
  const r = charrnn(args, cwd, opts);
  expect({ code: r.code, signal: r.signal, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  return r;
}

/** Train a tiny model on `corpus` (file name in cwd) into `dir`; extra flags override. */
export function trainTiny(cwd: string, corpus: string, dir: string, extra: string[] = []): Run {
  return ok(['train', corpus, ...TINY, '--iters', '30', '--eval-every', '10', '--checkpoint-dir', dir, ...extra], cwd);
}

/** The user-error contract: non-zero exit, nothing on stdout, one line on stderr, no stack trace. */
export function expectUserError(r: Run, pattern: RegExp): string {
  const err = r.stderr;
  expect(r.code, `exit code (stderr: ${err})`).not.toBe(0);
  expect(r.code).not.toBeNull();
  expect(r.stdout).toBe('');
  expect(err.endsWith('\n'), `stderr ends with a newline: ${JSON.stringify(err)}`).toBe(true);
  const lines = err.slice(0, -1).split('\n');
  expect(lines, 'exactly one line on stderr').toHaveLength(1);
  const line = lines[0];
  expect(line.startsWith('charrnn: '), line).toBe(true);
  expect(line).not.toMatch(/internal error/);
  expect(line).not.toMatch(/\bat .*\(.*:\d+:\d+\)/); // a stack frame
  expect(line).toMatch(pattern);
  return line;
}

// ---- checkpoints ----

export interface TensorJSON {
  shape: number[];
  dtype: 'float32';
  encoding: 'base64';
  data: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Checkpoint = any;

export function readJSON(path: string): Checkpoint {
  return JSON.parse(readFileSync(path, 'utf8'));
}

export function writeJSON(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value));
}

/** Little-endian float32, base64: written byte by byte, independent of the host's endianness. */
export function f32ToBase64(values: ArrayLike<number>): string {
  const buf = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) buf.writeFloatLE(values[i], i * 4);
  return buf.toString('base64');
}

export function base64ToF32(data: string): Float32Array {
  const buf = Buffer.from(data, 'base64');
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

export function tensor(shape: number[], values: number[]): TensorJSON {
  expect(values.length).toBe(shape.reduce((a, b) => a * b, 1));
  return { shape, dtype: 'float32', encoding: 'base64', data: f32ToBase64(values) };
}

/** Sorted distinct code points of a text (the vocabulary charrnn builds). */
export function codePoints(text: string): number[] {
  return [...new Set(Array.from(text, (c) => c.codePointAt(0)!))].sort((a, b) => a - b);
}

/** The validation split charrnn holds out: the last floor(n * valFrac) code points. */
export function validationText(text: string, valFrac = 0.1): string {
  const chars = Array.from(text);
  return chars.slice(chars.length - Math.floor(chars.length * valFrac)).join('');
}

/** Parameter count of a one-layer, one-hot model. */
export function paramCount(model: 'rnn' | 'lstm' | 'gru', H: number, V: number): number {
  const G = model === 'lstm' ? 4 * H : model === 'gru' ? 3 * H : H;
  return V * G + H * G + G + (model === 'gru' ? G : 0) + H * V + V;
}

/** Spawn the CLI with stdout piped; resolves after `bytes` bytes were read and the read side destroyed. */
export function spawnAndCloseStdout(
  args: string[],
  cwd: string,
  bytes: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: Buffer; stderr: string; killedByGuard: boolean }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let got = 0;
    let stderr = '';
    let killedByGuard = false;
    // A guard against a hang (the child would write forever), not a timing assertion.
    const guard = setTimeout(() => {
      killedByGuard = true;
      child.kill('SIGKILL');
    }, 60_000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.stdout.on('data', (d: Buffer) => {
      if (got >= bytes) return;
      chunks.push(d);
      got += d.length;
      if (got >= bytes) child.stdout.destroy();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolvePromise({ code, signal, stdout: Buffer.concat(chunks), stderr, killedByGuard });
    });
  });
}

/** The JSON objects of a --json run's stdout, one a line. */
export function jsonLines(stdout: string): any[] {
  return stdout.trim().split('\n').map((l) => JSON.parse(l));
}
