// The one reader of standard input: a non-blocking descriptor answers EAGAIN until data comes;
// the reader waits (without spinning) and tries again, and returns every byte in order.

import { describe, expect, it, vi } from 'vitest';

/** What the fake readSync does on each call: throw a code, or hand over bytes (empty = end). */
const script: (string | Buffer)[] = [];
let calls = 0;

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return {
    ...real,
    readSync: (fd: number, buf: Uint8Array, off: number, len: number) => {
      if (fd !== 99) return (real.readSync as (...a: unknown[]) => number)(fd, buf, off, len, null);
      calls++;
      const step = script.shift() ?? Buffer.alloc(0);
      if (typeof step === 'string') throw Object.assign(new Error(step), { code: step });
      const n = Math.min(step.length, len);
      buf.set(step.subarray(0, n), off);
      if (n < step.length) script.unshift(step.subarray(n));
      return n;
    },
  };
});

const { readAllSync, readChunks } = await import('../src/io/stdin');

describe('readAllSync', () => {
  it('waits through EAGAIN and returns all bytes in order', () => {
    script.push('EAGAIN', Buffer.from('héllo '), 'EAGAIN', 'EAGAIN', Buffer.from('wörld'), Buffer.alloc(0));
    calls = 0;
    const wait = vi.spyOn(Atomics, 'wait');
    expect(readAllSync(99).toString('utf8')).toBe('héllo wörld');
    expect(calls).toBe(6); // one read per step: no spinning between EAGAIN answers
    // it slept before each retry: 1 ms, then (after data came) 1 ms and 2 ms
    expect(wait.mock.calls.map((c) => c[3])).toEqual([1, 1, 2]);
    wait.mockRestore();
  });

  it('an end-of-file error (Windows pipes) ends the text; other errors are thrown', () => {
    script.push(Buffer.from('abc'), 'EOF');
    expect(readAllSync(99).toString('utf8')).toBe('abc');
    script.push(Buffer.from('abc'), 'EIO');
    expect(() => readAllSync(99)).toThrow(/EIO/);
    script.length = 0;
  });

  it('readChunks yields views of the given buffer, one per read', () => {
    script.push(Buffer.from('0123456789'), Buffer.alloc(0));
    const sizes = [...readChunks(99, new Uint8Array(4))].map((c) => c.length);
    expect(sizes).toEqual([4, 4, 2]);
  });
});
