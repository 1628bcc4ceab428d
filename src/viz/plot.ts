// Loss curves: loss.svg next to the checkpoints at every evaluation, a text chart on stderr at the
// end of a run (terminals only), and `charrnn plot CHECKPOINT` for any checkpoint's history:
// the text chart on stdout (it is the product; plain, no colour, so it can be saved or piped),
// or with --out PATH an SVG file (--out - writes the SVG to stdout).

import { basename, join } from 'node:path';
import { bestOf, readCheckpoint, type HistoryJSON } from '../checkpoint/format';
import { writeFileAtomic } from '../io/atomic';
import type { ModelConfig } from '../config';
import { UserError } from '../io/errors';
import { countParams, describeModel, recordedEpoch } from '../commands/info';
import { color, info, isQuiet, warn } from '../io/log';
import { exitQuietlyOnClosedStdout } from '../io/output';
import { maxOf } from './axes';
import { lossSvg } from './svg';
import { terminalChart } from './termchart';

export interface PlotMeta {
  model: ModelConfig;
  vocabSize: number;
  /** Corpus files ('-' for stdin). */
  sources: string[];
  iter: number;
  epoch: number | null;
}

export interface PlotOptions {
  checkpoint: string;
  /** SVG file to write ('-' for stdout); null = the text chart on stdout. */
  out: string | null;
  log: boolean;
}

/** Rows of the text chart's plot area: a screenful with room for the summary around it. */
const CHART_ROWS = 12;
/** Widest text chart: beyond this the curve gains nothing. */
const CHART_MAX_WIDTH = 100;

/** Title: the model; subtitle: the data and how far it got. */
export function plotTitles(meta: PlotMeta, h: HistoryJSON): { title: string; subtitle: string } {
  const params = countParams(meta.model, meta.vocabSize).toLocaleString('en-US');
  const parts = [
    meta.sources.length ? meta.sources.map((s) => (s === '-' ? 'stdin' : basename(s))).join(' + ') : null,
    `vocabulary ${meta.vocabSize}`,
    `iteration ${meta.iter.toLocaleString('en-US')}${meta.epoch !== null ? `, epoch ${meta.epoch.toFixed(2)}` : ''}`,
  ];
  const best = bestOf(h);
  if (best) parts.push(`best validation ${best.loss.toFixed(4)} at iteration ${best.iter.toLocaleString('en-US')}`);
  return {
    title: `charrnn ${describeModel(meta.model)}: ${params} parameters`,
    subtitle: parts.filter((p) => p !== null).join(' · '),
  };
}

let warned = false;

/**
 * Write loss.svg into the checkpoint folder, atomically. The plot is a view, not a result: a
 * failure to write it is a warning (once a run), never the end of the training.
 */
export function writeLossPlot(dir: string, h: HistoryJSON, meta: PlotMeta, log: boolean): void {
  try {
    writeFileAtomic(join(dir, 'loss.svg'), lossSvg(h, { ...plotTitles(meta, h), log }), 'loss plot');
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    if (!warned) warn(`${e.message} (training goes on; the checkpoints are written separately)`);
    warned = true;
  }
}

/** At the end of a run: the curve on stderr, when it is a terminal and not --quiet. */
export function showCurveOnTerminal(h: HistoryJSON, log: boolean): void {
  if (isQuiet() || !process.stderr.isTTY || h.train.length + h.val.length < 2) return;
  const chart = terminalChart(h, {
    width: Math.min(CHART_MAX_WIDTH, (process.stderr.columns || 80) - 1),
    height: CHART_ROWS,
    log,
    paint: { train: color.cyan, val: color.red, dim: color.dim },
  });
  if (chart) info('\n' + chart.trimEnd());
}

export async function runPlot(o: PlotOptions): Promise<number> {
  exitQuietlyOnClosedStdout();
  const ck = readCheckpoint(o.checkpoint);
  const h = ck.history;
  if (h.train.length === 0 && h.val.length === 0) {
    throw new UserError(`checkpoint ${o.checkpoint} has no loss history to plot (history.train and history.val are empty)`);
  }
  if (o.out === null) {
    const width = process.stdout.isTTY ? Math.min(CHART_MAX_WIDTH, (process.stdout.columns || 80) - 1) : 80;
    const chart = terminalChart(h, { width, height: CHART_ROWS, log: o.log });
    if (!chart) throw new UserError(`checkpoint ${o.checkpoint} has no loss value that can be drawn${o.log ? ' on a log scale' : ''}`);
    process.stdout.write(chart);
    return 0;
  }
  const st = ck.training;
  const meta: PlotMeta = {
    model: ck.model,
    vocabSize: ck.vocab.length,
    sources: ck.data?.sources ?? [],
    iter: st?.iter ?? Math.max(0, maxOf(h.train.map((p) => p[0])), maxOf(h.val.map((p) => p[0]))),
    epoch: recordedEpoch(ck),
  };
  const svg = lossSvg(h, { ...plotTitles(meta, h), log: o.log });
  if (o.out === '-') process.stdout.write(svg);
  else {
    writeFileAtomic(o.out, svg, 'plot', 'check the folder exists and is writable, or choose another --out');
    info(`wrote ${o.out}`);
  }
  return 0;
}
