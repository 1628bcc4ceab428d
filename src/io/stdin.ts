// Reading a file descriptor to its end, synchronously: the one reader of standard input (the
// corpus, the prime) and of files read in chunks. Standard input may be non-blocking (a pipe
// Node set up, a terminal): a read then fails with EAGAIN until data arrives, and the reader
// sleeps a little (1 ms, doubling up to 50 ms) instead of spinning a core.

import { readSync } from 'node:fs';

const nap = new Int32Array(new SharedArrayBuffer(4));

function sleep(ms: number): void {
  Atomics.wait(nap, 0, 0, ms);
}

/**
 * The bytes of `fd` from where it stands to its end, as views of `buf` (each valid until the
 * next one is taken: copy what is kept). Read errors other than EAGAIN are thrown as they are.
 */
export function* readChunks(fd: number, buf: Uint8Array): Generator<Uint8Array> {
  let wait = 1;
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        sleep(wait);
        wait = Math.min(2 * wait, 50);
        continue;
      }
      if (code === 'EOF') return; // Windows: the end of a pipe
      throw e;
    }
    if (n === 0) return;
    wait = 1;
    yield buf.subarray(0, n);
  }
}

/** All bytes of `fd` (default: standard input). */
export function readAllSync(fd = 0): Buffer {
  const parts: Buffer[] = [];
  for (const chunk of readChunks(fd, new Uint8Array(1 << 16))) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}
