// The prime of `charrnn sample`: the text the model is conditioned on before it generates.
// It comes from --prime TEXT, --prime - (stdin) or --prime-file PATH (- for stdin), is used
// verbatim (a file's final newline included; a UTF-8 byte order mark is dropped) and may be
// of any length. Characters outside the model's vocabulary are an error naming them, or with
// --unknown skip are dropped with a warning.

import { countUnknown, describeUnknown, type Ids, type Vocab } from '../data/corpus';
import { decodeUtf8 } from '../data/utf8';
import { UserError } from '../io/errors';
import { readInput, type InputNames } from '../io/files';
import { warn } from '../io/log';

export type UnknownPolicy = 'error' | 'skip';

export interface Prime {
  /** The prime as the model sees it (unknown characters dropped with --unknown skip). */
  text: string;
  ids: Ids;
}

const PRIME_FILE: InputNames = {
  what: 'prime file',
  missingHint: 'pass an existing UTF-8 text file to --prime-file, or - for stdin',
  directoryHint: () => 'pass a UTF-8 text file to --prime-file',
};

/** The prime text from --prime / --prime-file, and how to name it in messages. */
export function readPrime(prime: string, primeFile: string | undefined): { text: string; flag: string } {
  if (prime !== '' && primeFile !== undefined) throw new UserError('--prime and --prime-file exclude each other; pick one');
  const path = primeFile ?? (prime === '-' ? '-' : null);
  if (path === null) return { text: prime, flag: '--prime' };
  const flag = primeFile !== undefined ? '--prime-file' : '--prime';
  const where = path === '-' ? `${flag} - (stdin)` : `${flag} ${path}`;
  return { text: decodeUtf8(readInput(path, PRIME_FILE), where), flag: where };
}

/** Ids of the prime under the policy for characters outside the vocabulary. */
export function encodePrime(text: string, flag: string, vocab: Vocab, policy: UnknownPolicy): Prime {
  const { ids, unknown } = vocab.encode(text);
  if (unknown.size === 0) return { text, ids };
  const list = describeUnknown(unknown);
  if (policy === 'error') {
    throw new UserError(`${flag} has characters outside the model's vocabulary: ${list}; remove them, choose another prime, or pass --unknown skip`);
  }
  const n = countUnknown(unknown);
  warn(`${flag}: skipped ${n} character${n === 1 ? '' : 's'} outside the model's vocabulary: ${list}`);
  return { text: vocab.decode(ids), ids };
}

/**
 * What a text without a prime is conditioned on (not printed): a newline, so it starts as
 * lines start, else a space, as words start. -1 when the vocabulary has neither: the first
 * character is then drawn uniformly, as char-rnn does.
 */
export function startId(vocab: Vocab): number {
  const nl = vocab.id(0x0a);
  return nl >= 0 ? nl : vocab.id(0x20);
}
