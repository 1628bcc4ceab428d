// Loss curves: loss.svg written at every evaluation, `charrnn plot` (SVG and text chart), and the
// chart at the end of a run on a terminal. The SVG is parsed (well-formed XML), and its lines are
// mapped back through the axes, as a reader would, to the history they must show.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, charrnn, childEnv, expectUserError, makeTmp, ok, paramCount, readJSON, removeTmp, shakespeare, TINY, writeJSON, type Checkpoint } from './cli-helpers';
import { byClass, parseXml, type XmlElement } from './helpers/xml';

let dir: string;
const text = shakespeare(20_000);
const V = new Set(text).size;

beforeAll(() => {
  dir = makeTmp();
  writeFileSync(join(dir, 'corpus.txt'), text);
});
afterAll(() => removeTmp(dir));

type Point = [number, number, number];

/** An axis as the reader sees it: tick labels at pixel positions, fitted to value -> pixel. */
function axis(svg: XmlElement, cls: string, coord: 'x1' | 'y1'): { px: (v: number) => number; log: boolean; ticks: number } {
  const [g] = byClass(svg, 'axis', cls);
  expect(g, `axis ${cls}`).toBeDefined();
  const log = g.attrs['data-scale'] === 'log';
  const ticks = byClass(g, 'tick').map((t) => {
    const label = t.children.find((c) => c.name === 'text')!.text;
    const line = t.children.find((c) => c.name === 'line')!;
    return { v: Number(label), p: Number(line.attrs[coord]), dataValue: Number(t.attrs['data-value']) };
  });
  expect(ticks.length, `${cls} has at least 2 ticks`).toBeGreaterThanOrEqual(2);
  for (const t of ticks) {
    expect(Number.isFinite(t.v), `tick label of ${cls} is a number`).toBe(true);
    if (cls !== 'x2') expect(t.v).toBe(t.dataValue); // the label says the value it marks
  }
  const f = (v: number) => (log ? Math.log(v) : v);
  const [a, b] = [ticks[0], ticks[ticks.length - 1]];
  const slope = (b.p - a.p) / (f(b.v) - f(a.v));
  const px = (v: number) => a.p + (f(v) - f(a.v)) * slope;
  // every tick sits where the fitted axis puts its label (the axis is straight)
  for (const t of ticks) expect(Math.abs(px(t.v) - t.p), `tick ${t.v} of ${cls}`).toBeLessThan(0.2);
  return { px, log, ticks: ticks.length };
}

function polyline(svg: XmlElement, cls: string): [number, number][] {
  const [p] = byClass(svg, 'series', cls);
  expect(p, `polyline ${cls}`).toBeDefined();
  expect(p.name).toBe('polyline');
  return p.attrs.points.split(' ').map((xy) => xy.split(',').map(Number) as [number, number]);
}

/** Each drawn point is the history point at the same index, within `tol` pixels. */
function expectDrawn(drawn: [number, number][], points: Point[], x: (v: number) => number, y: (v: number) => number, tol = 1): void {
  expect(drawn).toHaveLength(points.length);
  points.forEach((p, i) => {
    expect(Math.abs(drawn[i][0] - x(p[0])), `x of point ${i} (iteration ${p[0]})`).toBeLessThan(tol);
    expect(Math.abs(drawn[i][1] - y(p[2])), `y of point ${i} (loss ${p[2]})`).toBeLessThan(tol);
  });
}

describe('the XML checker of these tests', () => {
  it('accepts well-formed XML and rejects the usual breakages', () => {
    expect(parseXml('<?xml version="1.0"?>\n<a x="1"><b/>t &amp; u<c y=\'2\'></c></a>\n').children).toHaveLength(2);
    for (const bad of ['<a><b></a></b>', '<a>', '<a></a><b/>', '<a x=1/>', '<a x="1" x="2"/>', '<a>&nbsp;</a>', '<a>x < y</a>', 'text<a/>', '<a/>trailing', '<a>\u0001</a>']) {
      expect(() => parseXml(bad), bad).toThrow(/malformed XML/);
    }
  });
});

describe('loss.svg, written at every evaluation', () => {
  let ck: Checkpoint;
  let svgText: string;
  let svg: XmlElement;
  beforeAll(() => {
    ok(['train', 'corpus.txt', ...TINY, '--iters', '60', '--eval-every', '20', '--print-every', '5', '--checkpoint-dir', 'plot', '--quiet'], dir);
    ck = readJSON(join(dir, 'plot', 'latest.json'));
    svgText = readFileSync(join(dir, 'plot', 'loss.svg'), 'utf8');
    svg = parseXml(svgText);
  });

  it('is a well-formed SVG document, and no temporary file is left', () => {
    expect(svg.name).toBe('svg');
    expect(svg.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(readdirSync(join(dir, 'plot')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('draws the training and validation history at the right places on the axes', () => {
    expect(ck.history.train).toHaveLength(12);
    expect(ck.history.val).toHaveLength(3);
    const x = axis(svg, 'x', 'x1');
    const y = axis(svg, 'y', 'y1');
    expect(y.log).toBe(false);
    expectDrawn(polyline(svg, 'train'), ck.history.train, x.px, y.px);
    expectDrawn(polyline(svg, 'val'), ck.history.val, x.px, y.px);
    const markers = byClass(svg, 'markers', 'val')[0].children.map((c) => [Number(c.attrs.cx), Number(c.attrs.cy)] as [number, number]);
    expectDrawn(markers, ck.history.val, x.px, y.px);
  });

  it('has characters seen on a secondary axis, B x T characters an iteration', () => {
    const x = axis(svg, 'x', 'x1');
    const [g] = byClass(svg, 'axis', 'x2');
    const ticks = byClass(g, 'tick');
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    for (const t of ticks) {
      const chars = Number(t.attrs['data-value']);
      const at = Number(t.children.find((c) => c.name === 'line')!.attrs.x1);
      expect(Math.abs(at - x.px(chars / (8 * 16)))).toBeLessThan(0.2);
    }
    expect(byClass(g, 'label')[0].text).toBe('characters seen');
  });

  it('labels the axes, titles the model and has a legend', () => {
    expect(byClass(svg, 'axis', 'x')[0].children.find((c) => c.attrs.class === 'label')!.text).toBe('iteration');
    expect(byClass(svg, 'axis', 'y')[0].children.find((c) => c.attrs.class === 'label')!.text).toMatch(/^loss \(nats\/char/);
    const title = byClass(svg, 'title')[0].text;
    expect(title).toContain('lstm, 1 x 32');
    expect(title).toContain(`${paramCount('lstm', 32, V).toLocaleString('en-US')} parameters`);
    expect(byClass(svg, 'subtitle')[0].text).toContain('corpus.txt');
    const legend = byClass(svg, 'legend')[0];
    const words = legend.children.filter((c) => c.name === 'text').map((c) => c.text);
    expect(words).toEqual(['training loss', 'validation loss']);
  });

  it('--plot-log draws the loss on a log axis', () => {
    ok(['train', 'corpus.txt', ...TINY, '--iters', '40', '--eval-every', '20', '--print-every', '5', '--checkpoint-dir', 'plot-log', '--plot-log', '--quiet'], dir);
    const c = readJSON(join(dir, 'plot-log', 'latest.json'));
    const s = parseXml(readFileSync(join(dir, 'plot-log', 'loss.svg'), 'utf8'));
    const x = axis(s, 'x', 'x1');
    const y = axis(s, 'y', 'y1');
    expect(y.log).toBe(true);
    expectDrawn(polyline(s, 'train'), c.history.train, x.px, y.px);
    expectDrawn(polyline(s, 'val'), c.history.val, x.px, y.px);
  });
});

/** A checkpoint with no weights, enough for plot and info (they never load the tensors). */
function historyCheckpoint(train: Point[], val: Point[]): object {
  return {
    format: 'charrnn-checkpoint',
    version: 1,
    model: { model: 'gru', hidden: 4, layers: 1, embed: 0, dropout: 0 },
    vocab: [97, 98, 99],
    tensors: {},
    history: { train, val },
  };
}

describe('charrnn plot', () => {
  it('--out writes the SVG of any checkpoint; --out - prints it; --log on a log axis', () => {
    const train: Point[] = Array.from({ length: 30 }, (_, i) => [(i + 1) * 10, (i + 1) * 500, 4 * Math.exp(-i / 8) + 1]);
    const val: Point[] = [[100, 5000, 2.9], [200, 10000, 1.8], [300, 15000, 1.5]];
    writeJSON(join(dir, 'hist.json'), historyCheckpoint(train, val));
    const r = ok(['plot', 'hist.json', '--out', 'hist.svg'], dir);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('wrote hist.svg');
    for (const [file, log] of [['hist.svg', false], ['-', true]] as const) {
      const svgText = file === '-' ? ok(['plot', 'hist.json', '--out', '-', '--log'], dir).stdout : readFileSync(join(dir, file), 'utf8');
      const s = parseXml(svgText);
      const x = axis(s, 'x', 'x1');
      const y = axis(s, 'y', 'y1');
      expect(y.log).toBe(log);
      expectDrawn(polyline(s, 'train'), train, x.px, y.px);
      expectDrawn(polyline(s, 'val'), val, x.px, y.px);
    }
  });

  it('thins a long history to a few points a pixel, keeping the extremes', () => {
    const train: Point[] = Array.from({ length: 20_000 }, (_, i) => [i + 1, (i + 1) * 100, 2 + Math.sin(i / 7) * Math.exp(-i / 5000)]);
    train[12_345][2] = 0.5; // a dip that must stay visible
    writeJSON(join(dir, 'long.json'), historyCheckpoint(train, []));
    const s = parseXml(ok(['plot', 'long.json', '--out', '-'], dir).stdout);
    const x = axis(s, 'x', 'x1');
    const y = axis(s, 'y', 'y1');
    const drawn = polyline(s, 'train');
    expect(drawn.length).toBeLessThan(4 * 800);
    expect(drawn.length).toBeGreaterThan(500);
    // every drawn point is a history point (within a pixel), in order of iteration
    let j = 0;
    for (const [px, py] of drawn) {
      while (j < train.length && (Math.abs(x.px(train[j][0]) - px) >= 1 || Math.abs(y.px(train[j][2]) - py) >= 1)) j++;
      expect(j, `drawn point (${px}, ${py}) is a history point`).toBeLessThan(train.length);
    }
    const lowest = Math.max(...drawn.map((p) => p[1])); // y grows downwards
    expect(Math.abs(lowest - y.px(0.5))).toBeLessThan(1);
  });

  it('without --out prints a text chart on stdout: axes, ticks, one o per evaluation, a legend', () => {
    const r = ok(['plot', join('plot', 'latest.json')], dir);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toContain('\x1b'); // the product: no colour
    const lines = r.stdout.trimEnd().split('\n');
    const axisRow = lines.findIndex((l) => l.includes('└'));
    expect(axisRow).toBeGreaterThan(3);
    const plotRows = lines.slice(0, axisRow);
    expect(plotRows.filter((l) => l.includes('┤')).length).toBeGreaterThanOrEqual(2); // y ticks
    const os = plotRows.join('').split('').filter((c) => c === 'o').length;
    expect(os).toBe(readJSON(join(dir, 'plot', 'latest.json')).history.val.length);
    expect(lines[axisRow + 1].trim().split(/\s+/)[0]).toBe('0'); // iterations from 0
    expect(lines[axisRow + 2]).toContain('training loss');
    expect(lines[axisRow + 2]).toContain('validation loss');
    for (const l of lines) expect(Array.from(l).length).toBeLessThanOrEqual(80 + 2);
  });

  it('a checkpoint without history, or no checkpoint at all, is a one-line error', () => {
    writeJSON(join(dir, 'nohist.json'), historyCheckpoint([], []));
    expectUserError(charrnn(['plot', 'nohist.json'], dir), /no loss history to plot/);
    expectUserError(charrnn(['plot', 'missing.json'], dir), /checkpoint not found: missing\.json/);
    expectUserError(charrnn(['plot', 'hist.json', '--out', join('no', 'such', 'dir', 'x.svg')], dir), /cannot write plot .*x\.svg/);
  });
});

const hasScript = spawnSync('script', ['--version']).status === 0;

describe('the chart at the end of a run', () => {
  const run = ['train', 'corpus.txt', ...TINY, '--iters', '30', '--eval-every', '10', '--kernels', 'js'];
  const strip = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

  it('is not printed when stderr is not a terminal', () => {
    const r = ok([...run, '--checkpoint-dir', 'end-pipe'], dir);
    expect(r.stderr).not.toContain('└');
    expect(r.stderr).not.toContain('training loss');
  });

  it.skipIf(!hasScript)('is printed on a terminal (stderr a tty), and not with --quiet', () => {
    const cmd = (extra: string[]) => [process.execPath, BIN, ...run, ...extra].map((a) => `'${a}'`).join(' ');
    const tty = spawnSync('script', ['-qec', cmd(['--checkpoint-dir', 'end-tty']), '/dev/null'], { cwd: dir, env: childEnv({ COLUMNS: '100' }), timeout: 110_000 });
    expect(tty.status).toBe(0);
    const out = strip(tty.stdout.toString('utf8'));
    expect(out).toContain('└');
    expect(out).toMatch(/─ training loss\s+o validation loss/);
    // after the chart, the closing summary
    expect(out.lastIndexOf('done at iteration 30')).toBeGreaterThan(out.lastIndexOf('training loss'));
    const quiet = spawnSync('script', ['-qec', cmd(['--checkpoint-dir', 'end-quiet', '--quiet']), '/dev/null'], { cwd: dir, env: childEnv(), timeout: 110_000 });
    expect(quiet.status).toBe(0);
    expect(strip(quiet.stdout.toString('utf8')).trim()).toBe('');
    expect(existsSync(join(dir, 'end-quiet', 'loss.svg'))).toBe(true);
  });
});
