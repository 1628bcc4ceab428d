// A history of 1,000,000 points (a long run with --print-every 1): the loss domain, the terminal
// chart, loss.svg, `charrnn plot` and the end of a resumed training run all handle it.
// Math.min(...xs) / Math.max(...xs) throw RangeError past about 125,000 arguments.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryJSON } from '../src/checkpoint/format';
import { lossDomain } from '../src/viz/axes';
import { lossSvg } from '../src/viz/svg';
import { terminalChart } from '../src/viz/termchart';
import { makeTmp, ok, readJSON, removeTmp, shakespeare, trainTiny } from './cli-helpers';

const N = 1_000_000;

/** A training curve of N points from 4.2 down towards 1.5, iterations 1..N, and 100 evaluations. */
function longHistory(): HistoryJSON {
  const train: [number, number, number][] = new Array(N);
  for (let i = 0; i < N; i++) train[i] = [i + 1, (i + 1) * 128, 1.5 + 2.7 * Math.exp(-i / 50_000)];
  const val: [number, number, number][] = [];
  for (let k = 1; k <= 100; k++) val.push([k * 10_000, k * 10_000 * 128, 1.6 + 2.6 * Math.exp((-k * 10_000) / 50_000)]);
  return { train, val };
}

describe('a history of 1,000,000 points', () => {
  const h = longHistory();

  it('has a loss domain spanning all of it', () => {
    const d = lossDomain(h, false)!;
    expect(d.x).toEqual([0, N]);
    expect(d.y[0]).toBeLessThan(1.5 + 2.7 * Math.exp(-(N - 1) / 50_000));
    expect(d.y[1]).toBeGreaterThan(4.2);
    expect(d.charsPerIter).toBe(128);
  });

  it('draws as a terminal chart and as loss.svg', () => {
    const chart = terminalChart(h, { width: 80, height: 12, log: false });
    expect(chart).toContain('1000000');
    const svg = lossSvg(h, { title: 't', subtitle: 's', log: true });
    expect(svg).toContain('</svg>');
  });
});

describe('end to end', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTmp();
    writeFileSync(join(dir, 'corpus.txt'), shakespeare(20_000));
    trainTiny(dir, 'corpus.txt', 'ck', ['--kernels', 'js']);
    // the run's own history, stretched to N points before its 30 iterations
    const ck = readJSON(join(dir, 'ck', 'latest.json'));
    const train: [number, number, number][] = new Array(N);
    for (let i = 0; i < N; i++) train[i] = [(30 * (i + 1)) / N, (30 * 128 * (i + 1)) / N, 4 - i / N];
    ck.history.train = train;
    writeFileSync(join(dir, 'ck', 'latest.json'), JSON.stringify(ck));
  }, 120_000);
  afterAll(() => removeTmp(dir));

  it('charrnn plot draws it, as text and as SVG', () => {
    const r = ok(['plot', join('ck', 'latest.json')], dir);
    expect(r.stdout).toContain('training loss');
    const svg = ok(['plot', join('ck', 'latest.json'), '--out', '-'], dir);
    expect(svg.stdout).toContain('</svg>');
  }, 120_000);

  it('a resumed run evaluates, writes loss.svg and ends normally', () => {
    const r = ok(['train', 'corpus.txt', '--resume', join('ck', 'latest.json'), '--iters', '31', '--eval-every', '1', '--print-every', '1', '--kernels', 'js', '--json'], dir);
    const done = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).pop();
    expect(done).toMatchObject({ type: 'done', iter: 31 });
    expect(readJSON(join(dir, 'ck', 'latest.json')).history.train).toHaveLength(N + 1);
  }, 120_000);
});
