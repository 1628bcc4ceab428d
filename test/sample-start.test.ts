// How an unprimed sample starts and ends. Without a prime the model is conditioned on a
// newline, else a space (not printed), so the text starts where texts start instead of with
// a character drawn blindly from the zero state; on a terminal the output ends with a newline
// (the prompt starts on its own line), while a pipe gets exactly --len characters.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runSample, type SampleOptions } from '../src/sample/sample';
import { charrnn, makeTmp, ok, removeTmp, writeJSON } from './cli-helpers';
import { bigramCheckpoint } from './helpers/bigram';

let dir: string;
// A bigram model over " abc" (no newline): after a space 'a' is likeliest, then b, c, space.
const SPACED = 'spaced.json';
const SPACED_TABLE = [
  [0.01, 0.9, 0.05, 0.04], // ' '
  [0.02, 0.02, 0.9, 0.06], // a
  [0.03, 0.03, 0.04, 0.9], // b
  [0.9, 0.04, 0.03, 0.03], // c
];
// The same over "\nabc" (newline first in the vocabulary).
const LINES = 'lines.json';

beforeAll(() => {
  dir = makeTmp();
  writeJSON(join(dir, SPACED), bigramCheckpoint(' abc', SPACED_TABLE));
  writeJSON(join(dir, LINES), bigramCheckpoint('\nabc', SPACED_TABLE));
  writeFileSync(join(dir, 'x'), '');
});
afterAll(() => removeTmp(dir));

const sample = (...args: string[]) => ok(['sample', ...args], dir).stdout;

describe('an unprimed sample is conditioned on a start that is not printed', () => {
  it('a newline when the vocabulary has one: the same text as --prime "\\n" --no-echo', () => {
    for (const seed of ['1', '2', '3']) {
      const a = sample('--checkpoint', LINES, '--len', '40', '--seed', seed);
      expect(a).toBe(sample('--checkpoint', LINES, '--len', '40', '--seed', seed, '--prime', '\n', '--no-echo'));
    }
  });

  it('else a space: the same text as --prime " " --no-echo, sampled, argmax and beam', () => {
    for (const seed of ['1', '2', '3', '4']) {
      for (const how of [[], ['--argmax'], ['--beam', '2']]) {
        const a = sample('--checkpoint', SPACED, '--len', '12', '--seed', seed, ...how);
        expect(Array.from(a)).toHaveLength(12);
        expect(a, `seed ${seed} ${how.join(' ')}`).toBe(sample('--checkpoint', SPACED, '--len', '12', '--seed', seed, ...how, '--prime', ' ', '--no-echo'));
      }
    }
    expect(sample('--checkpoint', SPACED, '--len', '8', '--argmax')).toBe('abc abc ');
  });

  it('--json counts every generated character in meanLogProb (none is drawn blindly)', () => {
    const line = JSON.parse(charrnn(['sample', '--checkpoint', SPACED, '--len', '8', '--argmax', '--json'], dir).stdout);
    expect(line.text).toBe('abc abc ');
    expect(line.meanLogProb).toBeCloseTo(Math.log(0.9), 5);
  });
});

describe('the end of the output', () => {
  const writes: string[] = [];
  let restoreTTY: (() => void) | null = null;

  function captureStdout(tty: boolean): void {
    writes.length = 0;
    vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
      writes.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof process.stdout.write);
    const had = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
    Object.defineProperty(process.stdout, 'isTTY', { value: tty, configurable: true });
    restoreTTY = () => {
      if (had) Object.defineProperty(process.stdout, 'isTTY', had);
      else delete (process.stdout as { isTTY?: boolean }).isTTY;
    };
  }
  afterEach(() => {
    vi.restoreAllMocks();
    restoreTTY?.();
    restoreTTY = null;
  });

  const opts = (o: Partial<SampleOptions>): SampleOptions => ({
    checkpoint: join(dir, SPACED),
    len: 7,
    temperature: 1,
    prime: '',
    echo: true,
    argmax: true,
    seed: 1,
    kernels: 'js',
    threads: 1,
    ...o,
  });

  it('on a terminal a final newline is added after the text (and after the last of --num)', async () => {
    captureStdout(true);
    await runSample(opts({}));
    expect(writes.join('')).toBe('abc abc\n');
    writes.length = 0;
    await runSample(opts({ num: 2, separator: '|' }));
    expect(writes.join('')).toBe('abc abc|abc abc\n');
  });

  it('on a terminal, a text that already ends with a newline gets no second one', async () => {
    captureStdout(true);
    await runSample(opts({ checkpoint: join(dir, LINES), prime: 'abc', len: 1 }));
    expect(writes.join('')).toBe('abc\n');
  });

  it('into a pipe or file, exactly the text: no newline is added', async () => {
    captureStdout(false);
    await runSample(opts({}));
    expect(writes.join('')).toBe('abc abc');
  });
});
