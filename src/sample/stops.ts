// Stop strings (`charrnn sample --stop S`): a sample ends as soon as its text ends with one of
// them. Matching is on character ids, against the last few ids only, so it costs O(total stop
// length) per character and allocates nothing. A match must end on a generated character but
// may begin in the prime (prime "Hello\n", --stop '\n\n', a generated "\n" stops).
//
// Shape legend: S stop strings, M the longest stop string in characters.

import { describeUnknown, type Vocab } from '../data/corpus';

/** Backslash escapes of --separator and --stop: \n, \t, \r, \\ (a lone backslash stays). */
export function unescapeFlag(s: string): string {
  return s.replace(/\\([ntr\\])/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : '\\'));
}

export class StopMatcher {
  /** Each usable stop string as ids, most recent character first (reversed). */
  private readonly seqs: Int32Array[];
  readonly maxLen: number; // M
  private readonly recent: Int32Array; // (M) the last ids, recent[0] the newest
  private count = 0; // valid entries of recent

  /**
   * `stops` are the stop strings (unescaped). Those with a character outside the vocabulary can
   * never be generated: they are left out and listed in `unusable` for a warning.
   */
  constructor(
    stops: readonly string[],
    vocab: Vocab,
    readonly unusable: string[] = [],
  ) {
    this.seqs = [];
    for (const stop of stops) {
      const { ids, unknown } = vocab.encode(stop);
      if (unknown.size > 0 || ids.length === 0) {
        unusable.push(`"${stop}" (${describeUnknown(unknown)})`);
        continue;
      }
      this.seqs.push(Int32Array.from(ids).reverse());
    }
    this.maxLen = this.seqs.reduce((m, s) => Math.max(m, s.length), 0);
    this.recent = new Int32Array(this.maxLen);
  }

  get active(): boolean {
    return this.seqs.length > 0;
  }

  /** Start a sample: the context is the prime (its tail can begin a match). */
  reset(context: ArrayLike<number>): void {
    this.count = 0;
    const from = Math.max(0, context.length - this.maxLen);
    for (let i = from; i < context.length; i++) this.remember(context[i]);
  }

  private remember(id: number): void {
    const M = this.maxLen;
    if (M === 0) return;
    this.recent.copyWithin(1, 0, M - 1);
    this.recent[0] = id;
    if (this.count < M) this.count++;
  }

  /** A generated character: true when the text now ends with a stop string. */
  push(id: number): boolean {
    if (this.maxLen === 0) return false;
    this.remember(id);
    return this.matchesTail(this.recent, this.count);
  }

  /** Whether the text whose last n ids are tail[0] (newest), tail[1], ... ends with a stop string. */
  matchesTail(tail: ArrayLike<number>, n: number): boolean {
    for (let s = 0; s < this.seqs.length; s++) {
      const seq = this.seqs[s];
      if (seq.length > n) continue;
      let j = 0;
      while (j < seq.length && seq[j] === tail[j]) j++;
      if (j === seq.length) return true;
    }
    return false;
  }
}
