// Corpus reading and the vocabulary. The vocabulary is the sorted set of Unicode code points
// of the text (not UTF-16 units, not bytes), so the same text always gives the same ids.
// Files are decoded in chunks straight into a compact typed array of ids: the text is never
// held as one string, so corpora larger than V8's maximum string length train fine.

import { isAscii } from 'node:buffer';
import { closeSync } from 'node:fs';
import { UserError } from '../io/errors';
import { inputError, openInput, type InputNames } from '../io/files';
import { readChunks } from '../io/stdin';
import { firstInvalidUtf8, incompleteTailStart, invalidUtf8 } from './utf8';

/** Token ids: the narrowest array that holds V distinct values. */
export type Ids = Uint8Array | Uint16Array | Uint32Array;

export function idArray(V: number, n: number): Ids {
  return V <= 256 ? new Uint8Array(n) : V <= 65536 ? new Uint16Array(n) : new Uint32Array(n);
}

/** Printable form of a code point for messages: 'é' (U+00E9), '\n' (U+000A). */
export function describeChar(cp: number): string {
  const u = 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
  const shown = cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ? JSON.stringify(String.fromCodePoint(cp)).slice(1, -1) : String.fromCodePoint(cp);
  return `'${shown}' (${u})`;
}

/** How many characters describeUnknown names before "and N more". */
const UNKNOWN_SHOWN = 8;

/**
 * The characters of `unknown` (code point -> occurrences) for a message, in its order, each
 * with its count when it occurs more than once: `'€' (U+20AC) x3, '🙂' (U+1F642), and 2 more`.
 */
export function describeUnknown(unknown: ReadonlyMap<number, number>): string {
  const shown = [...unknown].slice(0, UNKNOWN_SHOWN).map(([cp, n]) => describeChar(cp) + (n > 1 ? ` x${n}` : ''));
  return shown.join(', ') + (unknown.size > UNKNOWN_SHOWN ? `, and ${unknown.size - UNKNOWN_SHOWN} more` : '');
}

/** Total occurrences in an unknown-character map. */
export function countUnknown(unknown: ReadonlyMap<number, number>): number {
  let n = 0;
  for (const c of unknown.values()) n += c;
  return n;
}

export class Vocab {
  /** Code point -> id, -1 when absent (covers all of Unicode: 4.4 MB, built once). */
  readonly index: Int32Array;

  constructor(readonly codePoints: readonly number[]) {
    this.index = new Int32Array(0x110000).fill(-1);
    codePoints.forEach((cp, i) => (this.index[cp] = i));
  }

  get size(): number {
    return this.codePoints.length;
  }

  id(cp: number): number {
    return cp >= 0 && cp < 0x110000 ? this.index[cp] : -1;
  }

  /** The character (a string of one code point) of an id. */
  char(id: number): string {
    return String.fromCodePoint(this.codePoints[id]);
  }

  /** Ids of the known characters of `text`, and the unknown code points with their counts. */
  encode(text: string): { ids: Ids; unknown: Map<number, number> } {
    const out: number[] = [];
    const unknown = new Map<number, number>();
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      const id = this.id(cp);
      if (id >= 0) out.push(id);
      else unknown.set(cp, (unknown.get(cp) ?? 0) + 1);
    }
    const ids = idArray(this.size, out.length);
    ids.set(out);
    return { ids, unknown };
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) s += this.char(ids[i]);
    return s;
  }
}

export interface Corpus {
  ids: Ids;
  vocab: Vocab;
  /** Size of the input in bytes. */
  bytes: number;
  /** Code points outside a given vocabulary, with their counts (left out of ids). */
  unknown: Map<number, number>;
}

const CHUNK = 1 << 24; // 16 MB of UTF-8 per read

/** How errors name a corpus file; `charrnn eval` names its files differently. */
export const CORPUS_FILE: InputNames = {
  what: 'corpus file',
  missingHint: 'pass an existing UTF-8 text file, or - for stdin',
  directoryHint: (path) => `pass the text files in it, e.g. ${path}/*.txt`,
};

/** The bytes of a source, a file path or '-' for standard input, in chunks (views of one buffer). */
function* chunksOf(path: string, names: InputNames): Generator<Uint8Array> {
  const fd = path === '-' ? 0 : openInput(path, names);
  try {
    yield* readChunks(fd, new Uint8Array(CHUNK));
  } catch (e) {
    throw e instanceof UserError ? e : inputError(e, path, names);
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}

/**
 * Decode each source in chunks and call visit() on each decoded piece: a string, or for an
 * all-ASCII chunk the bytes themselves (the common case, no string is made). Pieces never split
 * a code point. Errors name the file and byte offset of invalid UTF-8 or of a NUL byte.
 */
function decodeSources(paths: string[], stdin: Uint8Array[] | null, names: InputNames, visit: (s: string | Uint8Array) => void): number {
  let bytes = 0;
  for (const path of paths) {
    const dec = new TextDecoder('utf-8', { fatal: true });
    let offset = 0;
    let last: Uint8Array | null = null; // the last chunk, to locate a character cut off at the end
    let pending = false; // the decoder may hold the start of a character from the last chunk
    const source = path === '-' && stdin ? stdin : chunksOf(path, names);
    const where = path === '-' ? 'stdin' : path;
    for (const chunk of source) {
      const nul = chunk.indexOf(0);
      if (nul >= 0) {
        throw new UserError(`${where} looks binary (a NUL byte at byte ${offset + nul}); charrnn trains on UTF-8 text`);
      }
      // ASCII is UTF-8 as it is, unless the decoder still holds part of a character.
      if (!pending && isAscii(chunk)) {
        visit(chunk);
        offset += chunk.length;
        last = chunk;
        continue;
      }
      let s: string;
      try {
        s = dec.decode(chunk, { stream: true });
        pending = !isAscii(chunk);
      } catch {
        throw invalidUtf8(where, offset + firstInvalidUtf8(chunk));
      }
      visit(s);
      offset += chunk.length;
      last = chunk;
    }
    try {
      visit(dec.decode());
    } catch {
      const at = last ? offset - last.length + incompleteTailStart(last) : offset;
      throw invalidUtf8(where, at, true);
    }
    bytes += offset;
  }
  return bytes;
}

/**
 * Read one or more UTF-8 files ('-' = stdin), concatenated, into ids over a sorted vocabulary
 * (or over `vocab` when given: characters outside it are left out and counted in `unknown`).
 * `names` words the errors about the files (default: "corpus file").
 */
export function readCorpus(paths: string[], vocab?: Vocab, names: InputNames = CORPUS_FILE): Corpus {
  // Standard input cannot be read twice: keep its bytes (files are read twice instead).
  const stdin = paths.includes('-') ? [...chunksOf('-', names)].map((c) => c.slice()) : null;

  // Pass 1: which code points occur, and how many characters there are.
  const seen = new Uint32Array(0x110000); // occurrences of each code point
  let n = 0;
  const bytes = decodeSources(paths, stdin, names, (s) => {
    if (typeof s !== 'string') {
      for (let i = 0; i < s.length; i++) seen[s[i]]++;
      n += s.length;
      return;
    }
    for (let i = 0; i < s.length; i++) {
      const c = s.codePointAt(i)!;
      if (c > 0xffff) i++; // two UTF-16 units (decoded text has no lone surrogates)
      seen[c]++;
      n++;
    }
  });
  if (n === 0) throw new UserError(`the corpus ${paths.join(' ')} is empty; pass a UTF-8 text file with some text in it`);
  const unknown = new Map<number, number>();
  if (!vocab) {
    const cps: number[] = [];
    for (let c = 0; c < seen.length; c++) if (seen[c]) cps.push(c);
    vocab = new Vocab(cps);
  } else {
    for (let c = 0; c < seen.length; c++) if (seen[c] && vocab.id(c) < 0) unknown.set(c, seen[c]);
  }

  // Pass 2: encode.
  const ids = idArray(vocab.size, n);
  let at = 0;
  const index = vocab.index;
  decodeSources(paths, stdin, names, (s) => {
    if (typeof s !== 'string') {
      for (let i = 0; i < s.length; i++) {
        const id = index[s[i]];
        if (id >= 0) ids[at++] = id;
      }
      return;
    }
    for (let i = 0; i < s.length; i++) {
      const c = s.codePointAt(i)!;
      if (c > 0xffff) i++;
      const id = index[c];
      if (id >= 0) ids[at++] = id;
    }
  });
  return { ids: at === n ? ids : ids.subarray(0, at), vocab, bytes, unknown };
}

/** A corpus from a string (tests, small tools). */
export function corpusFromText(text: string): Corpus {
  const cps = [...new Set(Array.from(text, (ch) => ch.codePointAt(0)!))].sort((a, b) => a - b);
  const vocab = new Vocab(cps);
  return { ids: vocab.encode(text).ids, vocab, bytes: Buffer.byteLength(text), unknown: new Map() };
}

/** The last valFrac of the text is validation, the rest training (views, no copies). */
/** Characters of a text of `n` held out for validation: the last floor(n * valFrac). */
export function validationChars(n: number, valFrac: number): number {
  return Math.floor(n * valFrac);
}

export function splitCorpus(ids: Ids, valFrac: number): { train: Ids; val: Ids } {
  const nVal = validationChars(ids.length, valFrac);
  const cut = ids.length - nVal;
  return { train: ids.subarray(0, cut), val: ids.subarray(cut) };
}
