// Opening the text files the user names (corpora, primes) for reading. Every way it can fail
// is one line naming the file and what to do, not "not found" for all of them and not an
// internal error: missing, no permission, a directory, a symbolic link loop, a path through
// a file, and any other code named as it is.

import { closeSync, fstatSync, openSync } from 'node:fs';
import { UserError } from './errors';
import { readAllSync } from './stdin';

/** How messages name an input: "corpus file", with hints for the common mistakes. */
export interface InputNames {
  /** The kind of file, e.g. "corpus file", "file", "prime file". */
  what: string;
  /** After "not found: PATH", in parentheses: what to pass instead. */
  missingHint: string;
  /** After "PATH is a directory; ": what to pass instead. */
  directoryHint: (path: string) => string;
}

/** The one-line UserError for a failed open / stat / read of `path`. */
export function inputError(e: unknown, path: string, n: InputNames): UserError {
  const code = (e as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return new UserError(`${n.what} not found: ${path} (${n.missingHint})`);
    case 'EACCES':
    case 'EPERM':
      return new UserError(`cannot read ${n.what} ${path}: permission denied; check its permissions (ls -l) or copy it somewhere you can read`);
    case 'EISDIR':
      return new UserError(`${n.what} ${path} is a directory; ${n.directoryHint(path)}`);
    case 'ELOOP':
      return new UserError(`${n.what} ${path}: too many symbolic links (a link that points back to itself?); pass the file itself`);
    case 'ENOTDIR':
      return new UserError(`${n.what} ${path}: a part of the path is not a directory; check the path`);
    default:
      return new UserError(`cannot read ${n.what} ${path}: ${code ?? (e as Error)?.message ?? String(e)}`);
  }
}

/** A file descriptor open for reading on `path` (not a directory), or a UserError. */
export function openInput(path: string, n: InputNames): number {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw inputError(e, path, n);
  }
  let dir: boolean;
  try {
    dir = fstatSync(fd).isDirectory();
  } catch (e) {
    closeSync(fd);
    throw inputError(e, path, n);
  }
  if (dir) {
    closeSync(fd);
    throw inputError({ code: 'EISDIR' }, path, n);
  }
  return fd;
}

/** All bytes of `path`, or of standard input for '-'. */
export function readInput(path: string, n: InputNames): Buffer {
  if (path === '-') return readAllSync(0);
  const fd = openInput(path, n);
  try {
    return readAllSync(fd);
  } catch (e) {
    throw inputError(e, path, n);
  } finally {
    closeSync(fd);
  }
}
