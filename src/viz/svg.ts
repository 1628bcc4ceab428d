// loss.svg: the training and validation loss against iterations, with characters seen on a
// secondary (top) axis. Plain SVG 1.1, no scripts or external fonts: it opens in any browser or
// image viewer and renders on GitHub. Classes and data-* attributes name the parts for tools.

import type { HistoryJSON } from '../checkpoint/format';
import { drawable, formatCount, formatTicks, linearTicks, logTicks, lossDomain, makeScale, type Scale } from './axes';

export interface SvgOptions {
  title: string;
  subtitle: string;
  log: boolean;
}

const W = 800;
const H = 480;
const M = { left: 72, right: 28, top: 92, bottom: 58 };
const TRAIN_COLOUR = '#1f77b4';
const VAL_COLOUR = '#d62728';
/** Above this many points per pixel column a series is thinned to its extremes per column. */
const MAX_POINTS_PER_PX = 2;

/** Text and attribute values: markup escaped; control characters, which XML 1.0 forbids, as U+FFFD. */
export function escapeXml(s: string): string {
  return s
    .replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd');
}

const n = (v: number) => (Math.round(v * 10) / 10).toString();

/** The plot frame in pixels: x0..x1 left to right, y0 (bottom) .. y1 (top). */
interface Frame {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

export function lossSvg(h: HistoryJSON, o: SvgOptions): string {
  const f: Frame = { x0: M.left, x1: W - M.right, y0: H - M.bottom, y1: M.top };
  const { x0, x1, y0, y1 } = f;
  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
      `font-family="Helvetica, Arial, sans-serif" font-size="12" fill="#222">`,
  );
  out.push(`<title>${escapeXml(o.title)}</title>`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text class="title" x="${x0}" y="24" font-size="15" font-weight="bold">${escapeXml(o.title)}</text>`);
  out.push(`<text class="subtitle" x="${x0}" y="44" fill="#555">${escapeXml(o.subtitle)}</text>`);

  const dom = lossDomain(h, o.log);
  if (!dom) {
    out.push(`<rect class="frame" x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}" fill="none" stroke="#888"/>`);
    out.push(`<text class="empty" x="${(x0 + x1) / 2}" y="${(y0 + y1) / 2}" text-anchor="middle" fill="#888">no loss recorded yet</text>`);
    out.push('</svg>');
    return out.join('\n') + '\n';
  }
  const xs = makeScale(dom.x[0], dom.x[1], x0, x1);
  const ys = makeScale(dom.y[0], dom.y[1], y0, y1, o.log);
  out.push(...lossAxis(ys, dom.y, o.log, f), ...iterationAxis(xs, dom.x, f));
  if (dom.charsPerIter) out.push(...charsAxis(xs, dom.charsPerIter, x0, x1, y1));
  out.push(`<rect class="frame" x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}" fill="none" stroke="#444"/>`);

  // the series: training as a line, validation as a line with a marker at each evaluation
  const train = thin(drawable(h.train, o.log), xs);
  const val = drawable(h.val, o.log);
  const pts = (ps: [number, number, number][]) => ps.map((p) => `${n(xs.map(p[0]))},${n(ys.map(p[2]))}`).join(' ');
  if (train.length) {
    out.push(`<polyline class="series train" fill="none" stroke="${TRAIN_COLOUR}" stroke-width="1.5" stroke-linejoin="round" points="${pts(train)}"/>`);
  }
  if (val.length) {
    out.push(`<polyline class="series val" fill="none" stroke="${VAL_COLOUR}" stroke-width="2" stroke-linejoin="round" points="${pts(val)}"/>`);
    out.push(`<g class="markers val" fill="${VAL_COLOUR}">`);
    for (const p of val) out.push(`<circle cx="${n(xs.map(p[0]))}" cy="${n(ys.map(p[2]))}" r="3"/>`);
    out.push('</g>');
  }
  out.push(...legend(val.length > 0, f), '</svg>');
  return out.join('\n') + '\n';
}

/** The loss axis on the left, with horizontal grid lines. */
function lossAxis(ys: Scale, y: [number, number], log: boolean, { x0, x1, y0, y1 }: Frame): string[] {
  const yt = log ? logTicks(y[0], y[1], 6) : linearTicks(y[0], y[1], 6);
  const out = [`<g class="axis y" data-scale="${log ? 'log' : 'linear'}">`];
  formatTicks(yt).forEach((label, i) => {
    const y = n(ys.map(yt[i]));
    out.push(
      `<g class="tick" data-value="${yt[i]}"><line x1="${x0}" y1="${y}" x2="${x1}" y2="${y}" stroke="#e6e6e6"/>` +
        `<line x1="${x0 - 5}" y1="${y}" x2="${x0}" y2="${y}" stroke="#444"/>` +
        `<text x="${x0 - 8}" y="${y}" dy="4" text-anchor="end">${label}</text></g>`,
    );
  });
  const yLabel = `loss (nats/char${log ? ', log scale' : ''})`;
  out.push(`<text class="label" transform="translate(18 ${n((y0 + y1) / 2)}) rotate(-90)" text-anchor="middle">${yLabel}</text></g>`);
  return out;
}

/** The iterations axis at the bottom, with vertical grid lines. */
function iterationAxis(xs: Scale, x: [number, number], { x0, x1, y0, y1 }: Frame): string[] {
  const out = ['<g class="axis x" data-scale="linear">'];
  for (const v of linearTicks(x[0], x[1], 7).filter((t) => Number.isInteger(t))) {
    const px = n(xs.map(v));
    out.push(
      `<g class="tick" data-value="${v}"><line x1="${px}" y1="${y1}" x2="${px}" y2="${y0}" stroke="#f0f0f0"/>` +
        `<line x1="${px}" y1="${y0}" x2="${px}" y2="${y0 + 5}" stroke="#444"/>` +
        `<text x="${px}" y="${y0 + 19}" text-anchor="middle">${v}</text></g>`,
    );
  }
  out.push(`<text class="label" x="${n((x0 + x1) / 2)}" y="${H - 12}" text-anchor="middle">iteration</text></g>`);
  return out;
}

/** The legend, top right inside the frame. */
function legend(withVal: boolean, { x1, y1 }: Frame): string[] {
  const lx = x1 - 150;
  const ly = y1 + 12;
  const out = [`<g class="legend"><rect x="${lx - 8}" y="${ly - 8}" width="150" height="${withVal ? 42 : 24}" fill="#fff" fill-opacity="0.85" stroke="#ccc"/>`];
  out.push(`<line x1="${lx}" y1="${ly + 4}" x2="${lx + 24}" y2="${ly + 4}" stroke="${TRAIN_COLOUR}" stroke-width="1.5"/><text x="${lx + 32}" y="${ly + 8}">training loss</text>`);
  if (withVal) {
    out.push(
      `<line x1="${lx}" y1="${ly + 22}" x2="${lx + 24}" y2="${ly + 22}" stroke="${VAL_COLOUR}" stroke-width="2"/>` +
        `<circle cx="${lx + 12}" cy="${ly + 22}" r="3" fill="${VAL_COLOUR}"/><text x="${lx + 32}" y="${ly + 26}">validation loss</text>`,
    );
  }
  out.push('</g>');
  return out;
}

/** The top axis: characters seen, at round values, placed through the iterations scale. */
function charsAxis(xs: Scale, charsPerIter: number, x0: number, x1: number, y1: number): string[] {
  const out = ['<g class="axis x2" data-scale="linear">'];
  for (const c of linearTicks(xs.lo * charsPerIter, xs.hi * charsPerIter, 6)) {
    const x = n(xs.map(c / charsPerIter));
    out.push(
      `<g class="tick" data-value="${c}"><line x1="${x}" y1="${y1 - 5}" x2="${x}" y2="${y1}" stroke="#444"/>` +
        `<text x="${x}" y="${y1 - 9}" text-anchor="middle" fill="#555">${formatCount(c)}</text></g>`,
    );
  }
  out.push(`<text class="label" x="${n((x0 + x1) / 2)}" y="${y1 - 28}" text-anchor="middle" fill="#555">characters seen</text></g>`);
  return out;
}

/**
 * A long run's training history (100k points) would make a heavy file that draws no better than
 * a few points per pixel: keep, per pixel column, the first, lowest, highest and last points.
 */
function thin(ps: [number, number, number][], xs: Scale): [number, number, number][] {
  if (ps.length <= (W - M.left - M.right) * MAX_POINTS_PER_PX) return ps;
  const out: [number, number, number][] = [];
  let col: [number, number, number][] = [];
  const flush = () => {
    if (!col.length) return;
    const lo = col.reduce((a, b) => (b[2] < a[2] ? b : a));
    const hi = col.reduce((a, b) => (b[2] > a[2] ? b : a));
    const keep = new Set([col[0], lo, hi, col[col.length - 1]]);
    out.push(...col.filter((p) => keep.has(p)));
    col = [];
  };
  let at = NaN;
  for (const p of ps) {
    const c = Math.floor(xs.map(p[0]));
    if (c !== at) flush();
    at = c;
    col.push(p);
  }
  flush();
  return out;
}
