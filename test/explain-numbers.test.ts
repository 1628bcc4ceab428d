// `charrnn explain` end to end, the numbers: the loss of the page and of --json equals
// `charrnn eval` on the same text (characters outside the vocabulary left out alike, several
// chunks of state carried); the guesses and the unit values at a few positions equal a naive
// float64 forward of the checkpoint written in the tests; --chars, the JSON's shape, errors.

import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { charrnn, CZECH_LINE, expectUserError, makeTmp, ok, readJSON, removeTmp, shakespeare, trainTiny, type Checkpoint } from './cli-helpers';
import { naiveLstmSaturation, naiveTrace, pageData, unpack, type NaiveTrace } from './explain-helpers';

let dir: string;
let ck: Checkpoint;
let doc: ExplainJSON;
let naive: NaiveTrace;
const CK = join('ck', 'latest.json');
// every character but 漢 and 🦀 is in the training text; 700 characters: 6 chunks of 128
const TEXT = [...(shakespeare(420) + '\t' + CZECH_LINE + '漢' + shakespeare(2000).slice(1000, 1230) + '🦀' + CZECH_LINE)].slice(0, 702).join('');

interface ExplainJSON {
  chars: number;
  predicted: number;
  natsPerChar: number;
  bitsPerChar: number;
  units: { feature: string; layer: number; state: 'h' | 'c'; unit: number; correlation: number }[];
  characters: { codePoint: number; char: string; loss: number | null; rank: number | null; top: { codePoint: number; p: number }[]; units: number[] }[];
  saturation: { layer: number; gate: string; low: number; high: number }[];
}

beforeAll(() => {
  dir = makeTmp();
  writeFileSync(join(dir, 'train.txt'), shakespeare(20_000) + ('\t' + CZECH_LINE).repeat(50));
  writeFileSync(join(dir, 'text.txt'), TEXT);
  trainTiny(dir, 'train.txt', 'ck', ['--layers', '2', '--hidden', '24']);
  ck = readJSON(join(dir, CK));
  const r = charrnn(['explain', 'text.txt', '--checkpoint', CK, '--json', '-o', 'page.html', '--top', '4'], dir);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/2 characters outside the model's vocabulary were excluded/);
  doc = JSON.parse(r.stdout);
  const ids = [...TEXT].filter((ch) => ch !== '漢' && ch !== '🦀').map((ch) => ck.vocab.indexOf(ch.codePointAt(0)));
  naive = naiveTrace(ck, ids);
});
afterAll(() => removeTmp(dir));

describe('charrnn explain: the loss is eval\'s', () => {
  it('page, --json and eval agree exactly on nats/char, over the same characters', () => {
    const ev = JSON.parse(ok(['eval', 'text.txt', '--checkpoint', CK, '--json'], dir).stdout);
    const page = pageData(join(dir, 'page.html'));
    expect(doc.chars).toBe(700);
    expect(ev.chars).toBe(699);
    expect(doc.predicted).toBe(ev.chars);
    expect(doc.natsPerChar).toBe(ev.natsPerChar);
    expect(page.summary.natsPerChar).toBe(ev.natsPerChar);
    expect(page.summary.bitsPerChar).toBeCloseTo(ev.bitsPerChar, 12);
    // the per-character losses add up to it (float32 probabilities: to 1e-5 relative)
    const sum = doc.characters.reduce((s, c) => s + (c.loss ?? 0), 0);
    expect(Math.abs(sum / ev.chars - ev.natsPerChar) / ev.natsPerChar).toBeLessThan(1e-5);
    const pageLoss = unpack(page.loss, Float32Array);
    expect(Number.isNaN(pageLoss[0])).toBe(true);
    for (let i = 1; i < 700; i += 97) expect(pageLoss[i]).toBeCloseTo(doc.characters[i].loss!, 5);
  });

  it('on the js kernels too, explain equals eval', () => {
    const ev = JSON.parse(ok(['eval', 'text.txt', '--checkpoint', CK, '--json', '--kernels', 'js'], dir).stdout);
    const js = JSON.parse(ok(['explain', 'text.txt', '--checkpoint', CK, '--json', '--kernels', 'js'], dir).stdout);
    expect(js.natsPerChar).toBe(ev.natsPerChar);
    expect(existsSync(join(dir, 'explain.html'))).toBe(false); // --json without -o: no page
  });
});

describe('charrnn explain: guesses and units equal a naive forward of the checkpoint', () => {
  const POSITIONS = [1, 2, 127, 128, 129, 300, 420, 421, 699];

  it('loss, rank and top-K probabilities', () => {
    for (const i of POSITIONS) {
      const p = naive.probs[i];
      const c = doc.characters[i];
      const target = ck.vocab.indexOf(c.codePoint);
      expect(c.loss!).toBeCloseTo(-Math.log(p[target]), 4);
      const sorted = p.map((x, v) => ({ x, v })).sort((a, b) => b.x - a.x);
      expect(c.top).toHaveLength(4);
      c.top.forEach((g, j) => {
        expect(g.p).toBeCloseTo(sorted[j].x, 5); // the j-th largest probability
        expect(g.p).toBeCloseTo(p[ck.vocab.indexOf(g.codePoint)], 5); // of the character named
      });
      expect(Math.abs(c.rank! - sorted.findIndex((s) => s.v === target))).toBeLessThanOrEqual(1); // near-ties may swap in float32
    }
    expect(doc.characters[0].loss).toBeNull();
    expect(doc.characters[0].top).toEqual([]);
  });

  it('the suggested units in --json, and every unit of the page within its quantisation step', () => {
    expect(doc.units.length).toBeGreaterThan(0);
    for (const i of POSITIONS) {
      doc.units.forEach((u, k) => {
        const want = (u.state === 'h' ? naive.h : naive.c)[u.layer][i][u.unit];
        expect(doc.characters[i].units[k]).toBeCloseTo(want, 4);
      });
    }
    const page = pageData(join(dir, 'page.html'));
    const acts = unpack(page.acts, Int8Array);
    const scales = unpack(page.scales, Float32Array);
    const { N, H, levels } = page;
    expect(page.traces).toEqual([
      { layer: 0, state: 'h' },
      { layer: 0, state: 'c' },
      { layer: 1, state: 'h' },
      { layer: 1, state: 'c' },
    ]);
    let worst = 0;
    page.traces.forEach((t: { layer: number; state: 'h' | 'c' }, s: number) => {
      for (let u = 0; u < H; u++) {
        const scale = scales[s * H + u];
        if (t.state === 'h') expect(scale).toBe(1);
        for (const i of [...POSITIONS, 0]) {
          const want = (t.state === 'h' ? naive.h : naive.c)[t.layer][i][u];
          const err = Math.abs((acts[(s * H + u) * N + i] / levels) * scale - want) / (scale / (2 * levels));
          worst = Math.max(worst, err);
        }
      }
    });
    expect(worst).toBeLessThan(1.01); // half a step, and float32's rounding
  });

  it('gate saturation: the fractions of i, f, o < 0.1 and > 0.9 per layer equal the naive ones', () => {
    expect(doc.saturation.map((g) => `${g.layer}${g.gate}`)).toEqual(['0i', '0f', '0o', '1i', '1f', '1o']);
    const ids = [...TEXT].filter((ch) => ch !== '漢' && ch !== '🦀').map((ch) => ck.vocab.indexOf(ch.codePointAt(0)));
    const want = naiveLstmSaturation(ck, ids, naive).flat();
    doc.saturation.forEach((g, k) => {
      // float32 against float64: a value right at 0.1 or 0.9 may fall either side
      expect(Math.abs(g.low - want[k].low)).toBeLessThan(1e-3);
      expect(Math.abs(g.high - want[k].high)).toBeLessThan(1e-3);
    });
    expect(want.some((w) => w.low + w.high > 0.01)).toBe(true); // something to compare
  });
});

describe.each([
  { model: 'gru', gates: ['0r', '0z', '1r', '1z'], traces: 'h h' },
  { model: 'rnn', gates: [], traces: 'h h' },
])('charrnn explain on a $model', ({ model, gates, traces }) => {
  it('equals eval, and the naive forward at a few positions; gate saturation of the sigmoid gates only', () => {
    trainTiny(dir, 'train.txt', model, ['--model', model, '--layers', '2', '--hidden', '16', '--embed', '8']);
    const ckm = readJSON(join(dir, model, 'latest.json'));
    const r = ok(['explain', 'text.txt', '--checkpoint', join(model, 'latest.json'), '--json', '-o', `${model}.html`], dir);
    const d: ExplainJSON = JSON.parse(r.stdout);
    const ev = JSON.parse(ok(['eval', 'text.txt', '--checkpoint', join(model, 'latest.json'), '--json'], dir).stdout);
    expect(d.natsPerChar).toBe(ev.natsPerChar);
    expect(d.saturation.map((g) => `${g.layer}${g.gate}`)).toEqual(gates);
    expect(pageData(join(dir, `${model}.html`)).traces.map((t: { state: string }) => t.state).join(' ')).toBe(traces);
    const ids = [...TEXT].filter((ch) => ch !== '漢' && ch !== '🦀').map((ch) => ckm.vocab.indexOf(ch.codePointAt(0)));
    const nv = naiveTrace(ckm, ids);
    for (const i of [1, 128, 129, 699]) {
      const target = ids[i];
      expect(d.characters[i].loss!).toBeCloseTo(-Math.log(nv.probs[i][target]), 4);
      d.units.forEach((u, k) => expect(d.characters[i].units[k]).toBeCloseTo(nv.h[u.layer][i][u.unit], 4));
    }
  });
});

describe('charrnn explain: bounds and errors', () => {
  it('--chars cuts a longer text with a warning naming the bound; the loss is eval\'s of the cut text', () => {
    const r = ok(['explain', 'text.txt', '--checkpoint', CK, '--chars', '300', '--json'], dir);
    expect(r.stderr).toMatch(/text\.txt has 700 characters; explaining the first 300 \(--chars N raises the bound/);
    const cut = JSON.parse(r.stdout);
    expect(cut.chars).toBe(300);
    const kept = [...TEXT].filter((ch) => ch !== '漢' && ch !== '🦀').slice(0, 300).join('');
    writeFileSync(join(dir, 'cut.txt'), kept);
    expect(cut.natsPerChar).toBe(JSON.parse(ok(['eval', 'cut.txt', '--checkpoint', CK, '--json'], dir).stdout).natsPerChar);
  });

  it('bad input: one line naming the problem', () => {
    expectUserError(charrnn(['explain', 'missing.txt', '--checkpoint', CK], dir), /not found: missing\.txt/);
    expectUserError(charrnn(['explain', 'text.txt', '--checkpoint', CK, '--top', '0'], dir), /--top expects an integer from 1 to 100, got "0"/);
    expectUserError(charrnn(['explain', 'text.txt', '--checkpoint', 'nope.json'], dir), /nope\.json/);
    writeFileSync(join(dir, 'one.txt'), 'a');
    expectUserError(charrnn(['explain', 'one.txt', '--checkpoint', CK], dir), /fewer than 2 characters/);
  });
});
