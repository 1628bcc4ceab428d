// The prime of `charrnn sample`: the text the model is conditioned on before it generates.
// It comes from --prime TEXT, --prime - (stdin) or --prime-file PATH (- for stdin), is used
// verbatim (a file's final newline included; a UTF-8 byte order mark is dropped) and may be
// of any length. Characters outside the model's vocabulary are an error naming them, or with
// --unknown skip are dropped with a warning.

import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { describeChar, firstInvalidUtf8, type Ids, type Vocab } from '../data/corpus';
import { UserError } from '../io/errors';
import { warn } from '../io/log';

export type UnknownPolicy = 'error' | 'skip';

export interface Prime {
  /** The prime as the model sees it (unknown characters dropped with --unknown skip). */
  text: string;
  ids: Ids;
}

/** All bytes of a file descriptor (stdin may be non-blocking: EAGAIN means try again). */
function readAll(fd: number): Buffer {
  const parts: Buffer[] = [];
  const buf = Buffer.allocUnsafe(1 << 16);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue;
      if (code === 'EOF') break;
      throw e;
    }
    if (n === 0) break;
    parts.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(parts);
}

function readSource(path: string, flag: string): Buffer {
  if (path === '-') return readAll(0);
  let fd: number;
  try {
    if (statSync(path).isDirectory()) throw new UserError(`${flag} ${path} is a directory; pass a UTF-8 text file`);
    fd = openSync(path, 'r');
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `${flag} ${path}: file not found` : `cannot read ${flag} ${path}: ${(e as Error).message}`);
  }
  try {
    return readAll(fd);
  } finally {
    closeSync(fd);
  }
}

/** The prime text from --prime / --prime-file, and how to name it in messages. */
export function readPrime(prime: string, primeFile: string | undefined): { text: string; flag: string } {
  if (prime !== '' && primeFile !== undefined) throw new UserError('--prime and --prime-file exclude each other; pick one');
  const path = primeFile ?? (prime === '-' ? '-' : null);
  if (path === null) return { text: prime, flag: '--prime' };
  const flag = primeFile !== undefined ? '--prime-file' : '--prime';
  const bytes = readSource(path, flag);
  const where = path === '-' ? `${flag} - (stdin)` : `${flag} ${path}`;
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), flag: where };
  } catch {
    throw new UserError(`${where} is not valid UTF-8 (at byte ${firstInvalidUtf8(bytes)}); convert it first, e.g. iconv -f latin1 -t utf-8`);
  }
}

/** Ids of the prime under the policy for characters outside the vocabulary. */
export function encodePrime(text: string, flag: string, vocab: Vocab, policy: UnknownPolicy): Prime {
  const { ids, unknown } = vocab.encode(text);
  if (unknown.size === 0) return { text, ids };
  const keys = [...unknown.keys()];
  const list = keys.slice(0, 8).map(describeChar).join(', ') + (keys.length > 8 ? `, and ${keys.length - 8} more` : '');
  if (policy === 'error') {
    throw new UserError(`${flag} has characters outside the model's vocabulary: ${list}; remove them, choose another prime, or pass --unknown skip`);
  }
  const n = [...unknown.values()].reduce((a, b) => a + b, 0);
  warn(`${flag}: skipped ${n} character${n === 1 ? '' : 's'} outside the model's vocabulary: ${list}`);
  return { text: vocab.decode(ids), ids };
}
