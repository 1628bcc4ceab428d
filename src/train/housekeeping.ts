// Checkpoint housekeeping: the checkpoint folder, numbered checkpoints (--keep N) and early
// stopping (--patience K).
//
// With --keep N > 0 every evaluation also leaves a copy of latest.json named after its iteration
// and validation loss, iter-000400-val-1.6590.json, and only the N most recent such files stay;
// latest.json and best.json are never touched here. Names sort by iteration as text too.

import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { HistoryJSON } from '../checkpoint/format';
import { writeFileAtomic } from '../io/atomic';
import { UserError } from '../io/errors';

/**
 * Create --checkpoint-dir up front (an error now, not after the first evaluation), and remove the
 * temporary files of checkpoint writes that a killed run left behind (see writeFileAtomic).
 */
export function prepareCheckpointDir(dir: string): void {
  try {
    // One level at a time, top down: Node 20's recursive mkdir never returns for some paths
    // that cannot be created (e.g. under /proc); a plain mkdir fails at once with the reason.
    const missing: string[] = [];
    for (let d = resolve(dir); !existsSync(d) && dirname(d) !== d; d = dirname(d)) missing.push(d);
    for (const d of missing.reverse()) mkdirSync(d);
    if (!statSync(dir).isDirectory()) throw new Error(`ENOTDIR: not a directory`);
  } catch (e) {
    throw new UserError(`cannot create --checkpoint-dir ${dir}: ${(e as Error).message.replace(/^\w+: /, '')}; choose another folder`);
  }
  for (const f of readdirSync(dir)) {
    if (/^\..+\.(json|svg)\.\d+\.tmp$/.test(f)) rmSync(join(dir, f), { force: true });
  }
}

/** iter-000123-val-1.4321.json (the val part only when there is a validation split). */
const NUMBERED = /^iter-(\d+)(?:-val-[0-9.]+|-val-(?:NaN|Infinity))?\.json$/;

export function numberedName(iter: number, valLoss: number | null): string {
  return `iter-${String(iter).padStart(6, '0')}${valLoss !== null ? `-val-${valLoss.toFixed(4)}` : ''}.json`;
}

/**
 * Write the checkpoint text just saved as latest.json under its numbered name too, atomically,
 * then remove the oldest numbered files beyond `keep`. Returns the name written.
 */
export function keepNumbered(dir: string, checkpoint: string, iter: number, valLoss: number | null, keep: number): string {
  const name = numberedName(iter, valLoss);
  writeFileAtomic(join(dir, name), checkpoint);
  pruneNumbered(dir, keep);
  return name;
}

/** Remove all but the `keep` numbered checkpoints of the highest iterations; returns the removed names. */
export function pruneNumbered(dir: string, keep: number): string[] {
  const numbered = readdirSync(dir)
    .map((f) => ({ f, m: NUMBERED.exec(f) }))
    .filter((e) => e.m !== null)
    .map((e) => ({ f: e.f, iter: Number(e.m![1]) }))
    .sort((a, b) => b.iter - a.iter || (a.f < b.f ? 1 : -1));
  const removed = numbered.slice(keep).map((e) => e.f);
  for (const f of removed) rmSync(join(dir, f), { force: true });
  return removed;
}

/** The best validation point of a history: the lowest loss, the first iteration that reached it. */
export function bestOf(h: HistoryJSON): { loss: number; iter: number } | null {
  let best: { loss: number; iter: number } | null = null;
  for (const [iter, , loss] of h.val) if (Number.isFinite(loss) && (best === null || loss < best.loss)) best = { loss, iter };
  return best;
}

/** --patience: stop when the last `patience` evaluations have all failed to beat the best. */
export function patienceExhausted(patience: number, evalsSinceBest: number): boolean {
  return patience > 0 && evalsSinceBest >= patience;
}

export function patienceMessage(patience: number, h: HistoryJSON): string {
  const best = bestOf(h);
  const where = best ? ` (best ${best.loss.toFixed(4)} at iteration ${best.iter})` : '';
  return `--patience ${patience}: the validation loss has not improved for ${patience} evaluation${patience === 1 ? '' : 's'}${where}; stopping early`;
}
