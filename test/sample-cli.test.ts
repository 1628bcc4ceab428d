// `charrnn sample` end to end, the sampling features: --top-k / --top-p equivalences, --num
// with its separator and per-sample seeds, --stop, --beam, --json, and byte-identical output
// across runs. The prime and its errors are in sample-prime.test.ts.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { charrnn, expectUserError, makeTmp, ok, removeTmp, shakespeare, trainTiny, writeJSON } from './cli-helpers';
import { bigramCheckpoint, TRAP_CHARS, TRAP_TABLE } from './helpers/bigram';

let dir: string;
const EN = join('en', 'latest.json'); // Tiny Shakespeare (no '@' in it), wasm kernels
const TRAP = 'trap.json'; // the bigram model where greedy is not the most probable text

beforeAll(() => {
  dir = makeTmp();
  writeFileSync(join(dir, 'en.txt'), shakespeare(20_000));
  trainTiny(dir, 'en.txt', 'en');
  writeJSON(join(dir, TRAP), bigramCheckpoint(TRAP_CHARS, TRAP_TABLE));
});
afterAll(() => removeTmp(dir));

const sample = (ck: string, ...args: string[]) => ok(['sample', '--checkpoint', ck, ...args], dir);
const chars = (s: string) => Array.from(s).length;

describe('--top-k and --top-p', () => {
  it('--top-k 1 is --argmax and --temperature 0, whatever the seed', () => {
    const argmax = sample(EN, '--len', '150', '--argmax', '--prime', 'First');
    expect(sample(EN, '--len', '150', '--top-k', '1', '--prime', 'First', '--seed', '5').stdout).toBe(argmax.stdout);
    expect(sample(EN, '--len', '150', '--top-k', '1', '--top-p', '0.5', '--temperature', '0.7', '--prime', 'First').stdout).toBe(argmax.stdout);
    expect(sample(EN, '--len', '150', '--temperature', '0', '--prime', 'First').stdout).toBe(argmax.stdout);
  });

  it('--top-p 1 and a --top-k beyond the vocabulary are plain sampling, byte for byte', () => {
    for (const T of ['1', '0.8']) {
      const plain = sample(EN, '--len', '400', '--seed', '11', '--temperature', T);
      expect(sample(EN, '--len', '400', '--seed', '11', '--temperature', T, '--top-p', '1').stdoutBytes.equals(plain.stdoutBytes)).toBe(true);
      expect(sample(EN, '--len', '400', '--seed', '11', '--temperature', T, '--top-k', '100000').stdoutBytes.equals(plain.stdoutBytes)).toBe(true);
    }
  });

  it('truncation changes the text, and the same flags and seed give the same bytes', () => {
    const args = ['--len', '400', '--seed', '11', '--top-k', '5', '--top-p', '0.9', '--temperature', '0.9'];
    const a = sample(EN, ...args);
    const b = sample(EN, ...args);
    expect(a.stdoutBytes.equals(b.stdoutBytes)).toBe(true);
    expect(chars(a.stdout)).toBe(400);
    expect(a.stdout).not.toBe(sample(EN, '--len', '400', '--seed', '11', '--temperature', '0.9').stdout);
  });
});

describe('--num and --separator', () => {
  const SEP = '\n@@@\n';
  const split = (s: string) => s.split(SEP);

  it('--num 1 is the plain output', () => {
    const plain = sample(EN, '--len', '300', '--seed', '42');
    expect(sample(EN, '--len', '300', '--seed', '42', '--num', '1').stdoutBytes.equals(plain.stdoutBytes)).toBe(true);
  });

  it('sample i is the same whether or not the others are drawn; the first is the plain output', () => {
    const plain = sample(EN, '--len', '120', '--seed', '42', '--prime', 'ROMEO:');
    const three = split(sample(EN, '--len', '120', '--seed', '42', '--prime', 'ROMEO:', '--num', '3', '--separator', '\\n@@@\\n').stdout);
    const five = split(sample(EN, '--len', '120', '--seed', '42', '--prime', 'ROMEO:', '--num', '5', '--separator', '\\n@@@\\n').stdout);
    expect(three).toHaveLength(3);
    expect(five).toHaveLength(5);
    expect(five.slice(0, 3)).toEqual(three);
    expect(three[0]).toBe(plain.stdout);
    for (const s of five) {
      expect(s.startsWith('ROMEO:')).toBe(true);
      expect(chars(s)).toBe(6 + 120);
    }
    expect(new Set(five).size).toBe(5); // independent samples differ
  });

  it('the default separator is a blank line: "\\n\\n" between samples, none after the last', () => {
    expect(sample(EN, '--len', '0', '--prime', 'Hi', '--num', '3').stdout).toBe('Hi\n\nHi\n\nHi');
    expect(sample(EN, '--len', '0', '--prime', 'Hi', '--num', '2', '--separator', '\\t|\\\\').stdout).toBe('Hi\t|\\Hi');
  });

  it('--num N is reproducible byte for byte', () => {
    const args = ['--len', '200', '--num', '4', '--seed', '9', '--top-p', '0.95'];
    expect(sample(EN, ...args).stdoutBytes.equals(sample(EN, ...args).stdoutBytes)).toBe(true);
  });
});

describe('--stop', () => {
  it('a sample stops right after the first stop string it generates, which is printed', () => {
    const r = sample(EN, '--len', '2000', '--seed', '3', '--prime', 'ROMEO:', '--no-echo', '--stop', 'e ', '--stop', '\\n\\n');
    const out = r.stdout;
    expect(out.endsWith('e ') || out.endsWith('\n\n')).toBe(true);
    expect(chars(out)).toBeLessThan(2000);
    expect(out.slice(0, -1)).not.toMatch(/e |\n\n/); // no earlier match
    // the text up to the stop is the text without --stop
    const full = sample(EN, '--len', '2000', '--seed', '3', '--prime', 'ROMEO:', '--no-echo').stdout;
    expect(full.startsWith(out)).toBe(true);
  });

  it('each of --num samples stops on its own', () => {
    const parts = sample(EN, '--len', '3000', '--num', '3', '--stop', ':', '--separator', '\\n@@@\\n').stdout.split('\n@@@\n');
    expect(parts).toHaveLength(3);
    for (const p of parts) {
      expect(p.endsWith(':')).toBe(true);
      expect(p.indexOf(':')).toBe(p.length - 1);
    }
  });

  it('a stop string may begin in the prime', () => {
    // trap model, greedy after "a" is "b": "ab" is complete after one generated character
    expect(sample(TRAP, '--argmax', '--prime', 'a', '--len', '10', '--stop', 'ab').stdout).toBe('ab');
    expect(sample(TRAP, '--argmax', '--prime', 'a', '--len', '10', '--stop', 'ab', '--json').stdout).toMatch(/"text":"b".*"stopped":true/);
  });

  it('a stop string with characters outside the vocabulary warns that it can never match', () => {
    const r = sample(EN, '--len', '50', '--stop', '€', '--seed', '1');
    expect(chars(r.stdout)).toBe(50);
    expect(r.stderr).toMatch(/warning: --stop "€" .*U\+20AC.*never match/);
  });
});

describe('--json', () => {
  it('one JSON object a line, nothing else; text is the generated text, the same as the plain output', () => {
    const r = sample(EN, '--len', '100', '--num', '3', '--json', '--prime', 'ROMEO:', '--seed', '8', '--top-k', '10');
    const lines = r.stdout.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(3);
    const objs = lines.map((l) => JSON.parse(l));
    const plain = sample(EN, '--len', '100', '--num', '3', '--prime', 'ROMEO:', '--seed', '8', '--top-k', '10', '--no-echo', '--separator', '\\n@@@\\n');
    expect(objs.map((o) => o.text)).toEqual(plain.stdout.split('\n@@@\n'));
    objs.forEach((o, i) => {
      expect(Object.keys(o).sort()).toEqual(['meanLogProb', 'settings', 'stopped', 'text']);
      expect(chars(o.text)).toBe(100);
      expect(o.meanLogProb).toBeLessThan(0);
      expect(o.meanLogProb).toBeGreaterThan(-10);
      expect(o.stopped).toBe(false);
      expect(o.settings).toMatchObject({ mode: 'sample', seed: 8, index: i, len: 100, temperature: 1, topK: 10, topP: 1 });
    });
  });

  it('meanLogProb is the mean natural-log probability of the generated characters under the model', () => {
    // trap model, greedy from "a": b (0.5), then a uniform row (0.25 each) twice
    const o = JSON.parse(sample(TRAP, '--argmax', '--prime', 'a', '--len', '3', '--json').stdout);
    expect(chars(o.text)).toBe(3);
    expect(o.text[0]).toBe('b');
    const ids = Array.from('a' + o.text, (c) => TRAP_CHARS.indexOf(c));
    let sum = 0;
    for (let i = 1; i < ids.length; i++) sum += Math.log(TRAP_TABLE[ids[i - 1]][ids[i]]);
    expect(o.meanLogProb).toBeCloseTo(sum / 3, 4);
    // before temperature: the same numbers at temperature 0.3 when the same text comes out
    const t = JSON.parse(sample(TRAP, '--top-k', '1', '--temperature', '0.3', '--prime', 'a', '--len', '3', '--json').stdout);
    expect(t.text).toBe(o.text);
    expect(t.meanLogProb).toBe(o.meanLogProb);
  });
});

describe('--beam', () => {
  it('finds the most probable text where greedy decoding does not (hand-built bigram model)', () => {
    const greedy = sample(TRAP, '--argmax', '--prime', 'a', '--len', '3', '--no-echo').stdout;
    expect(greedy[0]).toBe('b');
    expect(sample(TRAP, '--beam', '1', '--prime', 'a', '--len', '3', '--no-echo').stdout).toBe(greedy);
    // c a b: 0.4 * 0.9 * 0.5 = 0.18, the best of the 64 texts (greedy: 0.5 * 0.25 * ...)
    expect(sample(TRAP, '--beam', '3', '--prime', 'a', '--len', '3', '--no-echo').stdout).toBe('cab');
    const top = sample(TRAP, '--beam', '3', '--num', '2', '--prime', 'a', '--len', '3', '--json').stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(top.map((o) => o.text)).toEqual(['cab', 'cac']); // 0.18, then 0.4 * 0.9 * 0.4 = 0.144
    expect(top[0].logProb).toBeCloseTo(Math.log(0.18), 4);
    expect(top[1].score).toBeCloseTo(Math.log(0.144), 4);
    expect(top[0].settings).toMatchObject({ mode: 'beam', beam: 3, rank: 0, lengthNorm: 0 });
    expect(top[0].meanLogProb).toBeCloseTo(Math.log(0.18) / 3, 4);
  });

  it('--beam 1 is --argmax on a trained model, with and without a prime', () => {
    for (const prime of [[], ['--prime', 'ROMEO:']]) {
      const a = sample(EN, '--len', '150', '--argmax', ...prime).stdout;
      expect(sample(EN, '--len', '150', '--beam', '1', ...prime).stdout).toBe(a);
    }
  });

  it('no prime and no newline in the vocabulary: the first character is drawn from --seed, as when sampling', () => {
    for (const seed of ['1', '2', '3']) {
      const a = sample(TRAP, '--argmax', '--len', '6', '--seed', seed).stdout;
      expect(chars(a)).toBe(6);
      expect(sample(TRAP, '--beam', '1', '--len', '6', '--seed', seed).stdout).toBe(a);
      expect(sample(TRAP, '--beam', '3', '--len', '6', '--seed', seed).stdout[0]).toBe(a[0]);
    }
  });

  it('--beam W --num N: N texts of exactly --len characters after the prime, best first, reproducible', () => {
    const args = ['--len', '80', '--beam', '4', '--num', '3', '--prime', 'First'];
    const text = sample(EN, ...args, '--separator', '\\n@@@\\n');
    expect(sample(EN, ...args, '--separator', '\\n@@@\\n').stdoutBytes.equals(text.stdoutBytes)).toBe(true);
    const parts = text.stdout.split('\n@@@\n');
    expect(parts).toHaveLength(3);
    for (const p of parts) expect(chars(p)).toBe(5 + 80);
    const json = sample(EN, ...args, '--json').stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(json.map((o) => 'First' + o.text)).toEqual(parts);
    for (let i = 1; i < 3; i++) expect(json[i].score).toBeLessThanOrEqual(json[i - 1].score);
    // the best beam text is at least as probable as greedy decoding here
    const greedy = JSON.parse(sample(EN, '--len', '80', '--argmax', '--prime', 'First', '--json').stdout);
    expect(json[0].meanLogProb).toBeGreaterThanOrEqual(greedy.meanLogProb - 1e-6);
  });

  it('--stop ends beam hypotheses; --length-norm ranks them by logProb / ((5 + len) / 6)^alpha', () => {
    const rs = sample(TRAP, '--beam', '8', '--num', '3', '--prime', 'a', '--len', '4', '--stop', 'ab', '--stop', 'd', '--json', '--length-norm', '1')
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    for (const r of rs) {
      expect(r.score).toBeCloseTo(r.logProb / ((5 + chars(r.text)) / 6), 9);
      if (r.stopped) expect(/(^b|ab|d)$/.test(r.text)).toBe(true);
    }
    expect(rs.some((r) => r.stopped)).toBe(true);
  });
});

describe('errors name the flag, the expected and the actual value', () => {
  const cases: [string[], RegExp][] = [
    [['--top-p', '0'], /--top-p expects a number in \(0, 1\], got "0"/],
    [['--top-p', '1.5'], /--top-p expects a number in \(0, 1\], got "1.5"/],
    [['--top-k', '0'], /--top-k expects an integer >= 1, got "0"/],
    [['--beam', '0'], /--beam expects an integer from 1 to 1000, got "0"/],
    [['--num', '0'], /--num expects an integer >= 1, got "0"/],
    [['--num', '4', '--beam', '2'], /--num must be <= --beam for beam search .*got --num 4 with --beam 2/],
    [['--beam', '2', '--temperature', '0.5'], /--beam .*no sampling flags, got --temperature/],
    [['--beam', '2', '--top-k', '3', '--top-p', '0.5'], /got --top-k and --top-p/],
    [['--length-norm', '1'], /--length-norm applies to --beam only/],
    [['--length-norm', '-1', '--beam', '2'], /--length-norm expects a number >= 0, got "-1"/],
    [['--stop', ''], /--stop expects a non-empty string/],
    [['--unknown', 'drop'], /--unknown expects one of error, skip, got "drop"/],
  ];
  for (const [args, pattern] of cases) {
    it(args.join(' '), () => {
      expectUserError(charrnn(['sample', '--checkpoint', EN, ...args], dir), pattern);
    });
  }
});
