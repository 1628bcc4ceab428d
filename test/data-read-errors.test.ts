// Files that cannot be read: each reason has its own one-line UserError naming the file
// (not "not found" for every failure, not an internal error). ENOENT, EISDIR, ELOOP and
// ENOTDIR are made for real; EACCES, EPERM and EIO are injected at node:fs (the tests run as
// root, which reads any file whatever its permissions).

import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readCorpus } from '../src/data/corpus';
import { UserError } from '../src/io/errors';
import { readPrime } from '../src/sample/prime';
import { makeTmp, removeTmp } from './cli-helpers';

/** Paths whose open fails with the given code (the injected errors). */
const failing = new Map<string, string>();

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const fail = (path: unknown) => {
    const code = failing.get(String(path));
    if (code) throw Object.assign(new Error(`${code}: injected, open '${String(path)}'`), { code, errno: -1, syscall: 'open', path });
  };
  return {
    ...real,
    openSync: (path: fs.PathLike, ...rest: unknown[]) => {
      fail(path);
      return (real.openSync as (...a: unknown[]) => number)(path, ...rest);
    },
    statSync: (path: fs.PathLike, ...rest: unknown[]) => {
      fail(path);
      return (real.statSync as (...a: unknown[]) => fs.Stats)(path, ...rest);
    },
  };
});

let dir: string;
const at = (name: string) => join(dir, name);

beforeAll(() => {
  dir = makeTmp();
  fs.writeFileSync(at('text.txt'), 'hello\n');
  fs.mkdirSync(at('folder'));
  fs.symlinkSync(at('loop'), at('loop')); // a link to itself
  for (const [name, code] of [['locked.txt', 'EACCES'], ['forbidden.txt', 'EPERM'], ['broken.txt', 'EIO']]) {
    fs.writeFileSync(at(name), 'hello\n'); // it exists: only opening it fails
    failing.set(at(name), code);
  }
});
afterAll(() => removeTmp(dir));

/** The UserError a call throws (fails the test when it throws anything else, or nothing). */
function userError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e, `not a UserError: ${String(e)}`).toBeInstanceOf(UserError);
    const msg = (e as UserError).message;
    expect(msg.includes('\n'), msg).toBe(false);
    return msg;
  }
  throw new Error('expected a UserError, nothing was thrown');
}

const cases: [string, string, RegExp][] = [
  ['ENOENT', 'missing.txt', /not found: .*missing\.txt/],
  ['EACCES', 'locked.txt', /cannot read .*locked\.txt: permission denied/],
  ['EPERM', 'forbidden.txt', /cannot read .*forbidden\.txt: permission denied/],
  ['EISDIR', 'folder', /folder is a directory/],
  ['ELOOP', 'loop', /loop: too many symbolic links/],
  ['ENOTDIR', 'text.txt/inner.txt', /inner\.txt: .*text\.txt is not a directory|inner\.txt: a part of the path is not a directory/],
  ['another code is named', 'broken.txt', /cannot read .*broken\.txt: EIO/],
];

describe('a corpus that cannot be read', () => {
  for (const [code, name, pattern] of cases) {
    it(code, () => {
      const msg = userError(() => readCorpus([at(name)]));
      expect(msg).toMatch(pattern);
      expect(msg).toContain('corpus file');
      if (code !== 'ENOENT') expect(msg).not.toMatch(/not found/);
    });
  }
});

describe('a prime file that cannot be read', () => {
  for (const [code, name, pattern] of cases) {
    it(code, () => {
      const msg = userError(() => readPrime('', at(name)));
      expect(msg).toMatch(pattern);
      expect(msg).toContain('prime file');
      if (code !== 'ENOENT') expect(msg).not.toMatch(/not found/);
    });
  }
});
