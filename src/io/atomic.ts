// Atomic file writes: the text goes to a temporary file in the same folder, every byte written
// (writeSync may write fewer bytes than asked, e.g. on a nearly full disk), flushed to disk,
// renamed over the target, and the folder flushed too so the rename itself survives a crash.
// A kill at any moment leaves either the old file or the new one, never a truncated one.
//
// The temporary file is `.NAME.PID.tmp`: the writer's process id tells a later run whether the
// writer is gone (its temporary is litter) or still writing (removeStaleTemps).

import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from './errors';

/** The temporary file a process writes `file` through. */
export function tempName(file: string, pid = process.pid): string {
  return join(dirname(file), `.${basename(file)}.${pid}.tmp`);
}

/** A temporary of writeFileAtomic: `.NAME.PID.tmp`, the pid captured. */
const TEMP = /^\..+\.(\d+)\.tmp$/;

/** Write all of `bytes` to `fd`, looping over short writes. */
export function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) {
    const n = writeSync(fd, bytes, off, bytes.length - off);
    if (!(n > 0)) throw new Error(`write returned ${n} with ${bytes.length - off} bytes left`);
    off += n;
  }
}

/** fsync a folder, so a rename in it is on disk. Platforms that cannot (Windows) are skipped. */
function fsyncFolder(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EACCES') throw e;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/**
 * Write `text` (or bytes) to `file` atomically. Throws a UserError naming the file when the disk is full or
 * the folder not writable; `what` and `hint` word it for the kind of file (checkpoint, loss plot).
 */
export function writeFileAtomic(file: string, text: string | Uint8Array, what = 'checkpoint', hint = 'free space or choose another --checkpoint-dir'): void {
  const tmp = tempName(file);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'w');
    writeAll(fd, typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, file);
    fsyncFolder(dirname(file));
  } catch (e) {
    if (fd !== null) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean up (or renamed already)
    }
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOSPC' ? 'the disk is full' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (e as Error).message;
    throw new UserError(`cannot write ${what} ${file}: ${why}; ${hint}`);
  }
}

/** Whether a process with this id is running (EPERM: it is, under another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove the temporary files in `dir` that writers which are gone left behind (a kill -9 during
 * a write); the temporaries of live writers (another run writing into the same folder) stay.
 * Returns the names removed.
 */
export function removeStaleTemps(dir: string): string[] {
  const removed: string[] = [];
  for (const f of readdirSync(dir)) {
    const m = TEMP.exec(f);
    if (!m || processAlive(Number(m[1]))) continue;
    rmSync(join(dir, f), { force: true });
    removed.push(f);
  }
  return removed;
}
