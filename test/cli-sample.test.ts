// `charrnn sample` end to end: exact lengths in code points, the echoed prime, a clean stdout,
// seeds, argmax, unknown prime characters, and a reader that goes away (| head).

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  charrnn,
  childEnv,
  CZECH_LINE,
  expectUserError,
  makeTmp,
  ok,
  readJSON,
  removeTmp,
  shakespeare,
  spawnAndCloseStdout,
  trainTiny,
} from './cli-helpers';
import { NATIVE_MISSING, NATIVE_SKIP_NOTE } from './helpers/engine';

let dir: string;
const EN = join('en', 'latest.json'); // Tiny Shakespeare, wasm kernels
const CS = join('cs', 'latest.json'); // Czech with an emoji, js kernels
const czech = CZECH_LINE.repeat(200);

beforeAll(() => {
  dir = makeTmp();
  writeFileSync(join(dir, 'en.txt'), shakespeare(20_000));
  writeFileSync(join(dir, 'cs.txt'), czech);
  trainTiny(dir, 'en.txt', 'en');
  trainTiny(dir, 'cs.txt', 'cs', ['--kernels', 'js']);
});
afterAll(() => removeTmp(dir));

const sample = (ck: string, ...args: string[]) => ok(['sample', '--checkpoint', ck, ...args], dir);

function vocabSet(ck: string): Set<string> {
  return new Set(readJSON(join(dir, ck)).vocab.map((c: number) => String.fromCodePoint(c)));
}

describe('charrnn sample: lengths and the prime', () => {
  it('--len N prints the prime then exactly N characters (ASCII, wasm)', () => {
    const r = sample(EN, '--len', '137', '--prime', 'ROMEO:');
    expect(r.stdout.startsWith('ROMEO:')).toBe(true);
    expect(Array.from(r.stdout.slice('ROMEO:'.length))).toHaveLength(137);
    expect(r.stderr).toBe('');
  });

  it('--len N counts code points, not bytes or UTF-16 units (Czech and an emoji, js)', () => {
    const prime = 'Příliš 😀';
    for (const kernels of ['js', 'wasm']) {
      const r = sample(CS, '--len', '300', '--prime', prime, '--kernels', kernels, '--seed', '5');
      expect(r.stdout.startsWith(prime)).toBe(true);
      const generated = Array.from(r.stdout).slice(Array.from(prime).length);
      expect(generated).toHaveLength(300);
      const vocab = vocabSet(CS);
      expect(generated.every((c) => vocab.has(c))).toBe(true);
      // round-trips as UTF-8: no broken surrogate pairs
      expect(Buffer.from(r.stdout, 'utf8').equals(r.stdoutBytes)).toBe(true);
    }
  });

  it('the tiny Czech model has learned something: its sample has Czech diacritics', () => {
    const r = sample(CS, '--len', '400', '--temperature', '0.5');
    expect(r.stdout).toMatch(/[ěščřžýáíéůú]/);
    expect(Array.from(r.stdout)).toHaveLength(400);
  });

  it('--no-echo leaves the prime out, and the rest is the same text', () => {
    const withEcho = sample(CS, '--len', '80', '--prime', 'kůň ', '--seed', '9');
    const without = sample(CS, '--len', '80', '--prime', 'kůň ', '--seed', '9', '--no-echo');
    expect(Array.from(without.stdout)).toHaveLength(80);
    expect(withEcho.stdout).toBe('kůň ' + without.stdout);
  });

  it('--len 0 prints just the prime; without a prime, exactly --len characters', () => {
    expect(sample(EN, '--len', '0', '--prime', 'First').stdout).toBe('First');
    expect(sample(EN, '--len', '0', '--prime', 'First', '--no-echo').stdout).toBe('');
    expect(Array.from(sample(CS, '--len', '57').stdout)).toHaveLength(57);
  });

  it('stdout holds nothing but the text, with no ANSI escapes even when colour is forced', () => {
    const r = ok(['sample', '--checkpoint', EN, '--len', '500', '--prime', 'First'], dir, { env: { FORCE_COLOR: '1' } });
    expect(r.stdout).not.toContain('\x1b');
    const vocab = vocabSet(EN);
    expect(Array.from(r.stdout).every((c) => vocab.has(c))).toBe(true);
    expect(Array.from(r.stdout)).toHaveLength(505);
    expect(r.stderr).toBe('');
  });
});

describe('charrnn sample: randomness', () => {
  it('the same --seed gives the same bytes; different seeds differ', () => {
    const a = sample(EN, '--len', '300', '--seed', '42');
    const b = sample(EN, '--len', '300', '--seed', '42');
    const c = sample(EN, '--len', '300', '--seed', '43');
    expect(a.stdoutBytes.equals(b.stdoutBytes)).toBe(true);
    expect(a.stdout).not.toBe(c.stdout);
  });

  it('the same --seed gives the same text at a temperature other than 1', () => {
    const a = sample(CS, '--len', '200', '--seed', '3', '--temperature', '0.7');
    const b = sample(CS, '--len', '200', '--seed', '3', '--temperature', '0.7');
    expect(a.stdoutBytes.equals(b.stdoutBytes)).toBe(true);
  });

  it('--argmax ignores the seed, and --temperature 0 is --argmax', () => {
    const a = sample(EN, '--len', '200', '--argmax', '--seed', '1');
    const b = sample(EN, '--len', '200', '--argmax', '--seed', '2');
    const t0 = sample(EN, '--len', '200', '--temperature', '0', '--seed', '3');
    expect(a.stdout).toBe(b.stdout);
    expect(t0.stdout).toBe(a.stdout);
    expect(a.stdout).toHaveLength(200);
  });
});

describe('charrnn sample: errors', () => {
  it('a prime with a character outside the vocabulary fails with one line naming it', () => {
    const r = charrnn(['sample', '--checkpoint', EN, '--prime', 'ROMEO€', '--len', '5'], dir);
    const line = expectUserError(r, /--prime/);
    expect(line).toContain('€');
    expect(line).toContain('U+20AC');
  });

  it('an astral character outside the vocabulary is named whole', () => {
    const r = charrnn(['sample', '--checkpoint', CS, '--prime', 'kůň🙂'], dir);
    const line = expectUserError(r, /vocabulary/);
    expect(line).toContain('🙂');
    expect(line).toContain('U+1F642');
  });
});

describe('charrnn sample | head', () => {
  it('| head -c 20 ends the sampler at once with exit 0 and nothing on stderr', () => {
    const script = `"${process.execPath}" "${BIN}" sample --checkpoint ${EN} --len 100000 | head -c 20; echo " \${PIPESTATUS[0]}"`;
    const r = spawnSync('bash', ['-c', script], { cwd: dir, env: childEnv(), timeout: 110_000 });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
    expect(r.stdout.subarray(20).toString('utf8')).toBe(' 0\n');
    expect(r.stderr.toString('utf8')).toBe('');
  });

  it('closing the read side of stdout after 20 bytes of an endless sample: exit 0, stderr empty', async () => {
    // --len is huge: the sampler only stops because the reader went away.
    const r = await spawnAndCloseStdout(['sample', '--checkpoint', EN, '--len', '1000000000'], dir, 20);
    expect(r.killedByGuard).toBe(false);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.length).toBeGreaterThanOrEqual(20);
  });
});

describe.skipIf(NATIVE_MISSING !== null)(`sampling on the native kernels' threads${NATIVE_SKIP_NOTE}`, () => {
  it('a model big enough to split its steps samples the same text on 1 and 2 threads', () => {
    // 1 x 512 LSTM: a step's recurrent product is 512 x 2048 multiply-adds, above the split threshold
    ok(['train', 'en.txt', '--model', 'lstm', '--hidden', '512', '--layers', '1', '--embed', '32', '--batch-size', '4', '--seq-length', '8', '--iters', '2', '--eval-every', '2', '--checkpoint-dir', 'big', '--quiet', '--kernels', 'native'], dir);
    const args = ['sample', '--checkpoint', join('big', 'latest.json'), '--len', '300', '--seed', '9', '--kernels', 'native'];
    const split = { env: { CHARRNN_SPLIT: '1' } }; // split even when the machine is busy
    const one = ok([...args, '--threads', '1'], dir, split).stdout;
    const two = ok([...args, '--threads', '2'], dir, split).stdout;
    expect(one.length).toBeGreaterThanOrEqual(300);
    expect(two).toBe(one);
    // and the beam search, whose steps run W streams at once
    const beam = ['--beam', '3', '--len', '40'];
    expect(ok([...args, ...beam, '--threads', '2'], dir, split).stdout).toBe(ok([...args, ...beam, '--threads', '1'], dir, split).stdout);
  });
});
