// Small parts of the training loop on their own: the loss guard's window (train/guard.ts) and the
// evaluation windows of --eval-chars (train/evalset.ts).

import { describe, expect, it } from 'vitest';
import { allStreams, sampledStreams } from '../src/train/evalset';
import { GUARD_WINDOW, LossGuard } from '../src/train/guard';

describe('LossGuard', () => {
  const V = 65; // ln V = 4.17: the reference when the first loss is near it

  it('passes a single batch far above 3 x the start, as min-char-rnn meets early on', () => {
    const g = new LossGuard(V);
    for (const loss of [4.17, 4.1, 3.9, 8.2, 14.4, 6.0, 3.5]) expect(g.check(loss)).toBeNull();
  });

  it('stops on a NaN or infinite loss at once', () => {
    const g = new LossGuard(V);
    expect(g.check(4.2)).toBeNull();
    expect(g.check(NaN)).toBe('became NaN');
    expect(g.check(Infinity)).toBe('became Infinity');
  });

  it('stops when the mean of the window passes 3 x the start: a huge batch at once, a sustained rise later', () => {
    const huge = new LossGuard(V);
    expect(huge.check(4.2)).toBeNull();
    expect(huge.check(1e4)).toMatch(/^exploded to 10000\.000 \(the mean of the last 2 batches is 5002\.100\)$/);
    const rising = new LossGuard(V);
    let stoppedAt = -1;
    for (let i = 0; i < 200 && stoppedAt < 0; i++) if (rising.check(i < 20 ? 4.2 : 20) !== null) stoppedAt = i;
    // the window's mean crosses 12.6 once enough of it is at 20
    expect(stoppedAt).toBeGreaterThan(20);
    expect(stoppedAt).toBeLessThan(20 + GUARD_WINDOW);
  });

  it('forgets the window after a rollback', () => {
    const g = new LossGuard(V);
    g.check(4.2);
    for (let i = 0; i < 5; i++) g.check(11);
    g.forget();
    expect(g.check(4.0)).toBeNull();
    expect(g.check(4.0)).toBeNull();
  });
});

describe('evaluation windows (--eval-chars)', () => {
  it('are the same for the same run, inside the text, one in each stream span, apart', () => {
    const n = 100_000;
    const B = 16;
    const a = sampledStreams(n, B, 8_000, 123);
    const b = sampledStreams(n, B, 8_000, 123);
    expect(Array.from(b.starts)).toEqual(Array.from(a.starts));
    expect(a.len).toBe(500);
    expect(a.all).toBe(false);
    const span = Math.floor((n - 1) / B);
    for (let i = 0; i < B; i++) {
      expect(a.starts[i]).toBeGreaterThanOrEqual(i * span);
      expect(a.starts[i] + a.len).toBeLessThanOrEqual((i + 1) * span); // its targets stay inside the text
    }
    expect(Array.from(sampledStreams(n, B, 8_000, 124).starts)).not.toEqual(Array.from(a.starts));
  });

  it('are the whole text when --eval-chars is 0 or covers it', () => {
    const whole = allStreams(1000, 4);
    expect(whole).toEqual({ starts: Int32Array.from([0, 249, 498, 747]), len: 249, all: true });
    expect(sampledStreams(1000, 4, 0, 1)).toEqual(whole);
    expect(sampledStreams(1000, 4, 5000, 1)).toEqual(whole);
  });
});
