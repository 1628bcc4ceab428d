// UTF-8 decoding errors, located: the byte offset of the first invalid sequence, and the one
// message every reader of text (corpus, prime) gives for it.

import { UserError } from '../io/errors';

/** Start of the character `b` ends inside of: its lead byte, before up to 3 continuation bytes. */
export function incompleteTailStart(b: Uint8Array): number {
  let k = b.length - 1;
  while (k > 0 && k > b.length - 4 && (b[k] & 0xc0) === 0x80) k--;
  return Math.max(k, 0);
}

/** Byte offset of the first invalid UTF-8 sequence in `b` (only called once decoding failed). */
export function firstInvalidUtf8(b: Uint8Array): number {
  let lo = 0;
  let hi = b.length;
  // Binary search on the longest valid prefix (prefixes may end inside a sequence: use stream mode).
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(0, mid), { stream: true });
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  // The byte at lo cannot follow the prefix; when the prefix ends inside a character (a lead byte
  // whose continuation never comes, e.g. Latin-1 'é' = E9 before a space), that character is the error.
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(0, lo));
    return lo;
  } catch {
    return incompleteTailStart(b.subarray(0, lo));
  }
}

/**
 * "`where` is not valid UTF-8 (at byte N)", with the fix. `cutOff`: the text ends inside a
 * character that starts at byte N.
 */
export function invalidUtf8(where: string, byte: number, cutOff = false): UserError {
  const at = cutOff ? `it ends inside a character that starts at byte ${byte}` : `at byte ${byte}`;
  return new UserError(`${where} is not valid UTF-8 (${at}); convert it first, e.g. iconv -f latin1 -t utf-8`);
}

/** The text of `bytes` (a UTF-8 byte order mark dropped), or the error naming `where` and the byte. */
export function decodeUtf8(bytes: Uint8Array, where: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalidUtf8(where, firstInvalidUtf8(bytes));
  }
}
