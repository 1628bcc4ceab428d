// The loss guard: a NaN or infinite loss stops the run at once; an exploding loss is judged on
// the mean of the last GUARD_WINDOW batches, not on one batch. A single batch may cost far more
// than the run's average (min-char-rnn's recipe with --reduction mean passes 14 nats/char at its
// fifth step, from ln 65 = 4.2, and goes on to learn), while a real divergence lifts every batch.
//
// "Exploding" is relative to the session's first loss, but never below the uniform guess ln V: a
// run from trained weights (--init-from) can start near 0 and meet harder text later.

/** Batches the explosion test averages over. */
export const GUARD_WINDOW = 50;
/** The mean loss of the window above this many times the reference is an explosion. */
const EXPLODED = 3;

export class LossGuard {
  private readonly window = new Float64Array(GUARD_WINDOW); // the last losses, a ring
  private count = 0;
  private next = 0;
  private first: number | null = null;

  /** `V`: the vocabulary size (the uniform guess costs ln V). */
  constructor(private readonly V: number) {}

  /** How the loss went wrong ("became NaN", "exploded to 41.2 ..."), or null when it is fine. */
  check(loss: number): string | null {
    if (!Number.isFinite(loss)) return 'became ' + loss;
    if (this.first === null) this.first = loss;
    this.window[this.next] = loss;
    this.next = (this.next + 1) % GUARD_WINDOW;
    if (this.count < GUARD_WINDOW) this.count++;
    let sum = 0;
    for (let i = 0; i < this.count; i++) sum += this.window[i];
    const mean = sum / this.count;
    if (mean <= EXPLODED * Math.max(this.first, Math.log(this.V))) return null;
    return `exploded to ${loss.toFixed(3)} (the mean of the last ${this.count} batch${this.count === 1 ? '' : 'es'} is ${mean.toFixed(3)})`;
  }

  /** After a rollback (--recover): the losses of the abandoned steps no longer count. */
  forget(): void {
    this.count = 0;
    this.next = 0;
  }
}
