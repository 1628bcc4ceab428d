// The loss curve as text, for a terminal: the training loss as a line of box-drawing characters
// (as asciichart draws), the validation loss as an `o` at each evaluation, a loss axis with
// ticks on the left and an iterations axis below. Colour is optional (the caller's painters), so
// the same chart serves stderr at the end of a run and `charrnn plot` on stdout.

import type { HistoryJSON } from '../checkpoint/format';
import { drawable, formatTicks, linearTicks, logTicks, lossDomain, makeScale, maxOf } from './axes';

export interface TermChartOptions {
  /** Total width in columns, labels included. */
  width: number;
  /** Rows of the plot area. */
  height: number;
  log: boolean;
  /** Colours, when the output is a colour terminal (identity otherwise). */
  paint?: { train: (s: string) => string; val: (s: string) => string; dim: (s: string) => string };
}

const plain = (s: string) => s;

type Painter = (s: string) => string;
/** The plot area: rows x cols cells of [character, painter]. */
type Grid = [string, Painter][][];

/** The chart as lines ending in '\n', or '' when the history has nothing to draw. */
export function terminalChart(h: HistoryJSON, o: TermChartOptions): string {
  const dom = lossDomain(h, o.log);
  if (!dom) return '';
  const paint = o.paint ?? { train: plain, val: plain, dim: plain };
  const rows = Math.max(4, o.height);
  const yt = o.log ? logTicks(dom.y[0], dom.y[1], Math.ceil(rows / 3)) : linearTicks(dom.y[0], dom.y[1], Math.ceil(rows / 3));
  const labels = formatTicks(yt);
  const lw = maxOf(labels.map((l) => l.length));
  const cols = Math.max(10, o.width - lw - 2);
  const xs = makeScale(dom.x[0], dom.x[1], 0, cols - 1);
  const ys = makeScale(dom.y[0], dom.y[1], rows - 1, 0, o.log);
  const col = (x: number) => Math.min(cols - 1, Math.max(0, Math.round(xs.map(x))));
  const row = (y: number) => Math.min(rows - 1, Math.max(0, Math.round(ys.map(y))));

  const grid: Grid = Array.from({ length: rows }, () => Array.from({ length: cols }, () => [' ', plain] as [string, Painter]));
  drawTrainLine(grid, trainRows(h, o.log, col, row), paint.train);
  // validation loss on top
  for (const p of drawable(h.val, o.log)) grid[row(p[2])][col(p[0])] = ['o', paint.val];

  // the loss axis, then the iterations axis and the legend
  const tickRow = new Map<number, string>();
  yt.forEach((t, i) => tickRow.set(row(t), labels[i]));
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const label = tickRow.get(r);
    const axis = label !== undefined ? paint.dim(label.padStart(lw) + ' ┤') : ' '.repeat(lw) + paint.dim(' │');
    out.push(axis + renderRow(grid[r]).trimEnd());
  }
  const [axis, under] = iterationsAxis(dom.x, cols, col);
  out.push(' '.repeat(lw) + paint.dim(' └' + axis));
  out.push(' '.repeat(lw + 2) + paint.dim(under));
  const legend = [paint.train('─') + ' training loss'];
  if (h.val.length) legend.push(paint.val('o') + ' validation loss');
  legend.push(paint.dim(`x: iteration, y: nats/char${o.log ? ' (log scale)' : ''}`));
  out.push(' '.repeat(lw + 2) + legend.join('   '));
  return out.join('\n') + '\n';
}

/** The training loss's row in each column: the mean of its points, columns between interpolated. */
function trainRows(h: HistoryJSON, log: boolean, col: (x: number) => number, row: (y: number) => number): Map<number, number> {
  const sums = new Map<number, [number, number]>();
  for (const p of drawable(h.train, log)) {
    const c = col(p[0]);
    const y = log ? Math.log(p[2]) : p[2];
    const s = sums.get(c) ?? [0, 0];
    sums.set(c, [s[0] + y, s[1] + 1]);
  }
  const rowOf = (c: number) => {
    const [s, k] = sums.get(c)!;
    return row(log ? Math.exp(s / k) : s / k);
  };
  const filled = [...sums.keys()].sort((a, b) => a - b);
  const line = new Map<number, number>();
  filled.forEach((c, i) => {
    const r = rowOf(c);
    line.set(c, r);
    const next = filled[i + 1];
    if (next === undefined) return;
    const r2 = rowOf(next);
    for (let m = c + 1; m < next; m++) line.set(m, Math.round(r + ((r2 - r) * (m - c)) / (next - c)));
  });
  return line;
}

/** The line through those rows in box-drawing characters (as asciichart draws). */
function drawTrainLine(grid: Grid, line: Map<number, number>, p: Painter): void {
  let prev: number | null = null;
  for (const c of [...line.keys()].sort((a, b) => a - b)) {
    const r = line.get(c)!;
    if (prev === null || prev === r) grid[r][c] = ['─', p];
    else {
      const down = r > prev; // on screen: the loss went down
      grid[prev][c] = [down ? '╮' : '╯', p];
      grid[r][c] = [down ? '╰' : '╭', p];
      for (let m = Math.min(prev, r) + 1; m < Math.max(prev, r); m++) grid[m][c] = ['│', p];
    }
    prev = r;
  }
}

/** One row of cells as text: runs of one painter painted at once (one colour code a run). */
function renderRow(cells: [string, Painter][]): string {
  let text = '';
  for (let c = 0; c < cells.length; ) {
    const p = cells[c][1];
    let run = '';
    for (; c < cells.length && cells[c][1] === p; c++) run += cells[c][0];
    text += p === plain ? run : p(run);
  }
  return text;
}

/** The iterations axis (ticks where the labels fit without touching) and its labels: two lines. */
function iterationsAxis(x: [number, number], cols: number, col: (x: number) => number): [string, string] {
  const xt = linearTicks(x[0], x[1], Math.max(2, Math.floor(cols / 14))).filter(Number.isInteger);
  const axis = Array.from({ length: cols }, () => '─');
  const under = Array.from({ length: cols + 8 }, () => ' ');
  let free = 0;
  for (const t of xt) {
    const c = col(t);
    const text = String(t);
    const start = Math.max(0, c - Math.floor(text.length / 2));
    if (start < free || start + text.length > under.length) continue;
    axis[c] = '┬';
    for (let i = 0; i < text.length; i++) under[start + i] = text[i];
    free = start + text.length + 2;
  }
  return [axis.join(''), under.join('').trimEnd()];
}
