// Atomic writes (src/io/atomic.ts): every byte is written even when the system writes fewer
// bytes than asked, the file and its folder are flushed, and the temporaries of writers that are
// gone are removed while those of live writers stay.

import { spawnSync } from 'node:child_process';

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/** The system's writeSync, made to write at most `shortWrites` bytes a call while set. */
const io = vi.hoisted(() => ({ shortWrites: 0, fsyncs: [] as string[] }));
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const writeSync = (fd: number, data: string | NodeJS.ArrayBufferView, ...rest: unknown[]): number => {
    if (io.shortWrites <= 0) return (real.writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
    // as write(2) may: a prefix of what was asked
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const off = typeof data === 'string' ? 0 : ((rest[0] as number | undefined) ?? 0);
    const len = typeof data === 'string' ? buf.length : ((rest[1] as number | undefined) ?? buf.length - off);
    return real.writeSync(fd, buf, off, Math.min(len, io.shortWrites));
  };
  const fsyncSync = (fd: number) => {
    io.fsyncs.push(real.fstatSync(fd).isDirectory() ? 'dir' : 'file');
    real.fsyncSync(fd);
  };
  return { ...real, default: { ...real, writeSync, fsyncSync }, writeSync, fsyncSync };
});

const { removeStaleTemps, tempName, writeFileAtomic } = await import('../src/io/atomic');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'charrnn-atomic-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('writes every byte when the system writes only 7 bytes a call', () => {
    const text = JSON.stringify({ weights: 'x'.repeat(10_000), note: 'žluťoučký 😀' });
    const file = join(dir, 'latest.json');
    writeFileSync(file, 'the previous checkpoint');
    io.shortWrites = 7;
    try {
      writeFileAtomic(file, text);
    } finally {
      io.shortWrites = 0;
    }
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('flushes the file, then the folder after the rename', () => {
    io.fsyncs.length = 0;
    writeFileAtomic(join(dir, 'best.json'), '{}');
    expect(io.fsyncs).toEqual(['file', 'dir']);
  });

  it('a failed write leaves the old file and no temporary, and says which file', () => {
    const file = join(dir, 'sub-missing', 'latest.json');
    expect(() => writeFileAtomic(file, '{}')).toThrow(/cannot write checkpoint .*sub-missing\/latest\.json/);
  });
});

describe('removeStaleTemps', () => {
  it("removes the temporaries of writers that are gone, keeps a live writer's", () => {
    const d = mkdtempSync(join(dir, 'temps-'));
    // a process that has exited: its pid is free (the kernel does not reuse it at once)
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const live = process.pid;
    const deadTmp = tempName(join(d, 'latest.json'), Number(gone));
    const liveTmp = tempName(join(d, 'latest.json'), live);
    writeFileSync(deadTmp, 'half a checkpoint');
    writeFileSync(liveTmp, 'a checkpoint being written');
    writeFileSync(join(d, 'notes.tmp'), 'not ours');
    expect(removeStaleTemps(d)).toEqual([`.latest.json.${gone}.tmp`]);
    expect(readdirSync(d).sort()).toEqual([`.latest.json.${live}.tmp`, 'notes.tmp']);
  });
});

