// `charrnn sample`, the prime: --prime, --prime-file and --prime - (stdin) give the same text
// for a Czech prime with an emoji on a model trained on such text; primes longer than --len;
// characters outside the vocabulary (an error naming them, or --unknown skip with a warning);
// unreadable and invalid prime files.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { charrnn, CZECH_LINE, expectUserError, makeTmp, ok, removeTmp, trainTiny } from './cli-helpers';

let dir: string;
const CS = join('cs', 'latest.json'); // Czech with an emoji, js kernels
const PRIME = 'Příliš žluťoučký kůň 😀';

beforeAll(() => {
  dir = makeTmp();
  writeFileSync(join(dir, 'cs.txt'), CZECH_LINE.repeat(200));
  trainTiny(dir, 'cs.txt', 'cs', ['--kernels', 'js', '--iters', '100']); // enough to know a line starts with "Př"
  writeFileSync(join(dir, 'prime.txt'), PRIME);
  writeFileSync(join(dir, 'prime-nl.txt'), PRIME + '\n');
  writeFileSync(join(dir, 'long.txt'), CZECH_LINE.repeat(30));
  writeFileSync(join(dir, 'latin1.txt'), Buffer.from([0x6b, 0x75, 0x20, 0xf2, 0x20, 0x6b])); // "ku ò k" in Latin-1
  mkdirSync(join(dir, 'folder'));
});
afterAll(() => removeTmp(dir));

const sample = (args: string[], input?: string | Buffer) => ok(['sample', '--checkpoint', CS, ...args], dir, { input });
const chars = (s: string) => Array.from(s).length;

describe('three ways to give a non-ASCII prime', () => {
  it('--prime, --prime-file and --prime - (stdin) give the same bytes', () => {
    const args = ['--len', '200', '--seed', '4'];
    const a = sample(['--prime', PRIME, ...args]);
    const b = sample(['--prime-file', 'prime.txt', ...args]);
    const c = sample(['--prime', '-', ...args], PRIME);
    const d = sample(['--prime-file', '-', ...args], Buffer.from(PRIME, 'utf8'));
    expect(a.stdout.startsWith(PRIME)).toBe(true);
    expect(chars(a.stdout)).toBe(chars(PRIME) + 200);
    for (const r of [b, c, d]) expect(r.stdoutBytes.equals(a.stdoutBytes)).toBe(true);
    expect(Buffer.from(a.stdout, 'utf8').equals(a.stdoutBytes)).toBe(true); // no broken surrogates
  });

  it('a prime file is used verbatim, its final newline included', () => {
    const r = sample(['--prime-file', 'prime-nl.txt', '--len', '50']);
    expect(r.stdout.startsWith(PRIME + '\n')).toBe(true);
    expect(chars(r.stdout)).toBe(chars(PRIME) + 1 + 50);
    expect(r.stdout).not.toBe(sample(['--prime-file', 'prime.txt', '--len', '50']).stdout);
  });

  it('a prime longer than --len (and --len 0): the prime, then exactly --len characters', () => {
    const long = CZECH_LINE.repeat(30);
    const r = sample(['--prime-file', 'long.txt', '--len', '7', '--seed', '2']);
    expect(r.stdout.startsWith(long)).toBe(true);
    expect(chars(r.stdout)).toBe(chars(long) + 7);
    expect(sample(['--prime-file', 'long.txt', '--len', '0']).stdout).toBe(long);
    // after 30 lines of the pangram, the tiny model starts the next one
    const argmax = sample(['--prime-file', 'long.txt', '--len', '6', '--argmax', '--no-echo']).stdout;
    expect(chars(argmax)).toBe(6);
    expect(argmax.startsWith('Př')).toBe(true);
  });

  it('--beam and --json take the prime from a file too', () => {
    const b = sample(['--prime-file', 'prime.txt', '--len', '30', '--beam', '3', '--num', '2', '--json']);
    const objs = b.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(objs).toHaveLength(2);
    for (const o of objs) expect(chars(o.text)).toBe(30);
  });
});

describe('characters outside the vocabulary', () => {
  it('by default: one line naming them and the flag, suggesting --unknown skip', () => {
    writeFileSync(join(dir, 'euro.txt'), 'kůň € 🙂');
    const line = expectUserError(charrnn(['sample', '--checkpoint', CS, '--prime-file', 'euro.txt'], dir), /--prime-file euro\.txt has characters outside/);
    expect(line).toContain("'€' (U+20AC)");
    expect(line).toContain("'🙂' (U+1F642)");
    expect(line).toContain('--unknown skip');
    expectUserError(charrnn(['sample', '--checkpoint', CS, '--prime', '-'], dir, { input: 'x€' }), /--prime - \(stdin\) has characters outside.*€/);
  });

  it('--unknown skip drops them with a warning on stderr; the text is that of the cleaned prime', () => {
    const r = sample(['--prime', 'kůň€ 😀🙂', '--unknown', 'skip', '--len', '100', '--seed', '6']);
    const clean = sample(['--prime', 'kůň 😀', '--len', '100', '--seed', '6']);
    expect(r.stdoutBytes.equals(clean.stdoutBytes)).toBe(true);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/warning: --prime: skipped 2 characters outside the model's vocabulary: '€' \(U\+20AC\), '🙂' \(U\+1F642\)/);
  });

  it('--unknown skip of a prime with nothing left is the no-prime output', () => {
    const r = sample(['--prime', '€€', '--unknown', 'skip', '--len', '60', '--seed', '6']);
    expect(r.stdout).toBe(sample(['--len', '60', '--seed', '6']).stdout);
  });
});

describe('prime errors', () => {
  const cases: [string, string[], RegExp][] = [
    ['--prime and --prime-file together', ['--prime', 'x', '--prime-file', 'prime.txt'], /--prime and --prime-file exclude each other/],
    ['a missing prime file', ['--prime-file', 'nope.txt'], /prime file not found: nope\.txt/],
    ['a folder', ['--prime-file', 'folder'], /prime file folder is a directory/],
    ['invalid UTF-8, with the byte offset', ['--prime-file', 'latin1.txt'], /--prime-file latin1\.txt is not valid UTF-8 \(at byte 3\)/],
  ];
  for (const [name, args, pattern] of cases) {
    it(name, () => {
      expectUserError(charrnn(['sample', '--checkpoint', CS, ...args], dir), pattern);
    });
  }
});
