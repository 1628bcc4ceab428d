// `charrnn eval` end to end: the JSON result, the checkpoint's own validation split, characters
// outside the vocabulary, and a corpus that is gone.

import { copyFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  charrnn,
  CZECH_LINE,
  expectUserError,
  makeTmp,
  ok,
  readJSON,
  removeTmp,
  shakespeare,
  trainTiny,
  validationText,
} from './cli-helpers';

let dir: string;
const en = shakespeare(20_000);
const czech = CZECH_LINE.repeat(200);
const EN = join('en', 'latest.json');
const CS = join('cs', 'latest.json');

beforeAll(() => {
  dir = makeTmp();
  writeFileSync(join(dir, 'en.txt'), en);
  writeFileSync(join(dir, 'cs.txt'), czech);
  trainTiny(dir, 'en.txt', 'en', ['--kernels', 'js']);
  trainTiny(dir, 'cs.txt', 'cs');
});
afterAll(() => removeTmp(dir));

interface EvalJSON {
  chars: number;
  natsPerChar: number;
  bitsPerChar: number;
  perplexity: number;
}

function evalJSON(args: string[]): EvalJSON {
  const r = ok(['eval', '--json', ...args], dir);
  expect(r.stdout.endsWith('\n')).toBe(true);
  expect(r.stdout.slice(0, -1)).not.toContain('\n'); // one line
  return JSON.parse(r.stdout);
}

describe('charrnn eval --json', () => {
  it('prints exactly chars, natsPerChar, bitsPerChar, perplexity, consistent with each other', () => {
    const res = evalJSON(['--checkpoint', EN]);
    expect(Object.keys(res)).toEqual(['chars', 'natsPerChar', 'bitsPerChar', 'perplexity']);
    expect(Number.isInteger(res.chars)).toBe(true);
    expect(res.natsPerChar).toBeGreaterThan(0);
    expect(res.natsPerChar).toBeLessThan(Math.log(58) + 0.5);
    expect(res.bitsPerChar).toBeCloseTo(res.natsPerChar / Math.LN2, 12);
    expect(res.perplexity).toBeCloseTo(Math.exp(res.natsPerChar), 10);
  });

  it('without a file evaluates the validation split in the run\'s 8 streams; eval FILE of that text in one', () => {
    const val = validationText(en, 0.1);
    writeFileSync(join(dir, 'en-val.txt'), val);
    const own = evalJSON(['--checkpoint', EN]);
    const file = evalJSON(['--checkpoint', EN, 'en-val.txt']);
    expect(own.chars).toBe(8 * Math.floor((val.length - 1) / 8)); // the first character of each stream is not predicted
    expect(file.chars).toBe(val.length - 1); // one stream: every character but the first
    // one stream carries more context (no state reset at 8 places): a little lower, not far
    expect(Math.abs(own.natsPerChar - file.natsPerChar)).toBeLessThan(0.1);
  });

  it('the same holds on a non-ASCII corpus (the split is in code points), with the wasm kernels', () => {
    const val = Array.from(validationText(czech, 0.1));
    writeFileSync(join(dir, 'cs-val.txt'), val.join(''));
    const own = evalJSON(['--checkpoint', CS]);
    const file = evalJSON(['--checkpoint', CS, 'cs-val.txt']);
    expect(own.chars).toBe(8 * Math.floor((val.length - 1) / 8));
    expect(file.chars).toBe(val.length - 1);
    expect(Math.abs(own.natsPerChar - file.natsPerChar)).toBeLessThan(0.1);
  });

  it('on the validation split gives the final validation loss training printed (bug 13)', () => {
    for (const ck of [EN, CS]) {
      const last = readJSON(join(dir, ck)).history.val.at(-1);
      expect(last[0]).toBe(30);
      const own = evalJSON(['--checkpoint', ck, '--kernels', 'js']);
      expect(own.natsPerChar).toBeCloseTo(last[2], 5);
    }
  });

  it('the human output is two lines with the same numbers', () => {
    const r = ok(['eval', '--checkpoint', EN], dir);
    const res = evalJSON(['--checkpoint', EN]);
    expect(r.stdout).toContain(`${res.chars} characters`);
    expect(r.stdout).toContain(res.natsPerChar.toFixed(4));
    expect(r.stdout).toContain(res.bitsPerChar.toFixed(4));
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(2);
  });
});

describe('charrnn eval: characters outside the vocabulary', () => {
  it('are reported on stderr with their count and left out of the loss', () => {
    const clean = validationText(czech, 0.1);
    const chars = Array.from(clean);
    const mid = chars.length >> 1;
    // three '€' and one astral '🙂', none of them in the Czech vocabulary
    const dirty = [...chars.slice(0, 10), '€', ...chars.slice(10, mid), '€€🙂', ...chars.slice(mid)].join('');
    writeFileSync(join(dir, 'clean.txt'), clean);
    writeFileSync(join(dir, 'dirty.txt'), dirty);
    const r = ok(['eval', '--json', '--checkpoint', CS, 'dirty.txt'], dir);
    expect(r.stderr).toMatch(/\b4 characters outside the model's vocabulary were excluded/);
    expect(r.stderr).toContain('€');
    expect(r.stderr).toContain('🙂');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    const res = JSON.parse(r.stdout);
    expect(res).toEqual(evalJSON(['--checkpoint', CS, 'clean.txt']));
    expect(res.chars).toBe(chars.length - 1);
  });
});

describe('charrnn eval: a file to evaluate that is missing', () => {
  it('says "file not found" naming it, not "corpus file", and how else to evaluate', () => {
    const line = expectUserError(charrnn(['eval', '--checkpoint', EN, 'missing.txt'], dir), /^charrnn: file not found: missing\.txt\b/);
    expect(line).not.toContain('corpus');
    expect(line).toContain("validation split");
  });
});

describe('charrnn eval: a corpus that is gone', () => {
  it('without a file fails with a message saying to pass one; with a file it still works', () => {
    copyFileSync(join(dir, 'cs.txt'), join(dir, 'gone.txt'));
    trainTiny(dir, 'gone.txt', 'gone', ['--iters', '5', '--eval-every', '5']);
    unlinkSync(join(dir, 'gone.txt'));
    const r = charrnn(['eval', '--checkpoint', join('gone', 'latest.json')], dir);
    const line = expectUserError(r, /pass a file/);
    expect(line).toContain('gone.txt');
    const res = evalJSON(['--checkpoint', join('gone', 'latest.json'), 'cs-val.txt']);
    expect(res.chars).toBeGreaterThan(0);
  });

  it('a run without a validation split (--val-frac 0) says so and to pass a file', () => {
    trainTiny(dir, 'cs.txt', 'noval', ['--iters', '5', '--eval-every', '5', '--val-frac', '0']);
    expectUserError(charrnn(['eval', '--checkpoint', join('noval', 'latest.json')], dir), /no validation split.*--val-frac 0.*pass a file/);
  });

  it('a corpus that changed since training is refused too', () => {
    writeFileSync(join(dir, 'changes.txt'), czech);
    trainTiny(dir, 'changes.txt', 'changes', ['--iters', '5', '--eval-every', '5']);
    writeFileSync(join(dir, 'changes.txt'), czech.replace('kůň', 'ňůk'));
    expectUserError(charrnn(['eval', '--checkpoint', join('changes', 'latest.json')], dir), /changed.*pass a file/);
  });
});
