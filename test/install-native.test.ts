// The native addon's install step on a machine without a C++ compiler: a copy of the package
// (binding.gyp, native/, the install script, the built dist/ and bin/) runs the install script
// with CXX and CC pointing at /bin/false. The install must succeed (exit 0) and say, in one
// line, that the native kernels were not built; charrnn in that copy must then train on the
// wasm kernels, saying once on stderr which kernels it uses and why.
// (By hand, the whole install: copy the repository, then `CXX=/bin/false CC=/bin/false npm ci`.)

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, makeTmp, removeTmp, shakespeare } from './cli-helpers';

describe('install without a C++ compiler', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTmp();
    for (const f of ['package.json', 'binding.gyp', 'native', 'scripts', 'bin', 'dist']) cpSync(join(ROOT, f), join(dir, f), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir'); // node-addon-api's headers
  });
  afterAll(() => removeTmp(dir));

  it('succeeds, says the native kernels were not built, and charrnn falls back to wasm with one line saying why', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, CXX: '/bin/false', CC: '/bin/false', NO_COLOR: '1' };
    delete env.CHARRNN_SKIP_NATIVE;
    const install = spawnSync(process.execPath, [join(dir, 'scripts', 'build-native.mjs'), '--force'], { cwd: dir, env, encoding: 'utf8' });
    expect(install.status, install.stderr).toBe(0);
    expect(install.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^charrnn: native kernels not built: the C\+\+ build failed .*; the wasm kernels will be used$/)]);
    expect(existsSync(join(dir, 'build', 'Release', 'charrnn_native.node'))).toBe(false);
    expect(readFileSync(join(dir, 'build', 'native-status.txt'), 'utf8')).toMatch(/C\+\+ build failed/);

    writeFileSync(join(dir, 'input.txt'), shakespeare(5000));
    const train = spawnSync(
      process.execPath,
      [join(dir, 'bin', 'charrnn'), 'train', 'input.txt', '--hidden', '16', '--layers', '1', '--batch-size', '4', '--seq-length', '8', '--iters', '2', '--threads', '1'],
      { cwd: dir, env, encoding: 'utf8' },
    );
    expect(train.status, train.stderr).toBe(0);
    const why = train.stderr.split('\n').filter((l) => /^kernels: /.test(l));
    expect(why).toEqual([expect.stringMatching(/^kernels: wasm, because the native addon is not available: the C\+\+ build failed/)]);
    expect(train.stderr).toMatch(/; kernels wasm x1 thread;/);
  });
});
