// The checkpoint folder, --checkpoint-dir: created up front, cleared of the temporaries that
// killed writers left, guarded so a new run never overwrites another run's checkpoints without
// --force, and the numbered checkpoints of --keep N.
//
// With --keep N > 0 every evaluation also leaves a copy of latest.json named after its iteration
// and validation loss, iter-000400-val-1.6590.json, and only the N most recent such files stay;
// latest.json and best.json are never touched by the pruning. Names sort by iteration as text too.

import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { removeStaleTemps, writeFileAtomic } from '../io/atomic';
import { UserError } from '../io/errors';

export interface FolderUse {
  /** The checkpoint a --resume continues (null for a new run). */
  resumeFrom: string | null;
  /** --force: a new run may replace the run the folder holds. */
  force: boolean;
}

/**
 * Create --checkpoint-dir (an error now, not after the first evaluation), remove the temporaries
 * of writers that are gone (another run's in-flight temporary stays), and refuse to start a new
 * run over the checkpoints of another (the natural slip after a Ctrl-C is to forget --resume).
 */
export function prepareCheckpointDir(dir: string, use: FolderUse): void {
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
  removeStaleTemps(dir);
  if (use.force) return;
  // resuming a checkpoint of this folder continues its run; anything else would replace it
  if (use.resumeFrom !== null && resolve(dirname(use.resumeFrom)) === resolve(dir)) return;
  const held = ['latest.json', 'best.json'].filter((f) => existsSync(join(dir, f)));
  if (held.length > 0) {
    const what = use.resumeFrom !== null ? `a run other than ${use.resumeFrom}` : 'a run';
    throw new UserError(
      `${join(dir, held[0])} exists: --checkpoint-dir ${dir} holds ${what}; continue it with --resume, replace it with --force, or choose another --checkpoint-dir`,
    );
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
export function keepNumbered(dir: string, checkpoint: string | Uint8Array, iter: number, valLoss: number | null, keep: number): string {
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
