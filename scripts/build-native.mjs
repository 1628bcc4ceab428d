// Builds the native kernels (native/, binding.gyp) with node-gyp, against the headers of the
// Node that runs this script (no download: without them nothing is built). Run by `npm install`
// (the install script) and `npm run build`. It never fails: without a compiler or headers it
// records why in build/native-status.txt and exits 0, and charrnn falls back to the wasm
// kernels, saying so once (src/engine/kernels/native.ts reads that file). Up to date when the
// addon is newer than every source; `--force` rebuilds anyway.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'build', 'Release', 'charrnn_native.node');
const statusFile = join(root, 'build', 'native-status.txt');
const logFile = join(root, 'build', 'native-build.log');
const force = process.argv.includes('--force');

function say(line) {
  process.stderr.write(`charrnn: ${line}\n`);
}

/** Records why there is no addon (read by native.ts for its one line), removes a stale one. */
function fail(reason) {
  mkdirSync(join(root, 'build'), { recursive: true });
  rmSync(addon, { force: true });
  writeFileSync(statusFile, reason + '\n');
  say(`native kernels not built: ${reason}; the wasm kernels will be used`);
  process.exit(0);
}

if (process.env.CHARRNN_SKIP_NATIVE) fail('CHARRNN_SKIP_NATIVE is set');

const sources = [join(root, 'binding.gyp'), ...readdirSync(join(root, 'native')).map((f) => join(root, 'native', f))];
if (!force && existsSync(addon)) {
  const built = statSync(addon).mtimeMs;
  if (sources.every((f) => statSync(f).mtimeMs <= built)) process.exit(0);
}

// Node's headers: <prefix>/include/node next to the running node (a distribution's package, or
// the official tarballs), else NODE_GYP_NODEDIR / npm_config_nodedir if set.
const nodedir = [process.env.npm_config_nodedir, process.env.NODE_GYP_NODEDIR, join(dirname(process.execPath), '..')].find(
  (d) => d && existsSync(join(d, 'include', 'node', 'node_api.h')),
);
if (!nodedir) fail(`Node's headers were not found (no include/node/node_api.h next to ${process.execPath})`);

// node-gyp: the one npm passes to scripts, else the one bundled with npm.
const gyp = [
  process.env.npm_config_node_gyp,
  join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
].find((p) => p && existsSync(p));
if (!gyp) fail('node-gyp was not found (it comes with npm)');

const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--jobs=max'], {
  cwd: root,
  encoding: 'utf8',
  env: { ...process.env, npm_config_nodedir: nodedir },
  timeout: 300_000,
});
mkdirSync(join(root, 'build'), { recursive: true });
writeFileSync(logFile, `${r.stdout ?? ''}${r.stderr ?? ''}`);
if (r.status !== 0 || !existsSync(addon)) {
  const lines = `${r.stderr ?? ''}${r.stdout ?? ''}`.split('\n');
  const first = lines.find((l) => /error|not found|No such file|command not found/i.test(l) && !/^gyp (info|ERR! (stack|System|command|cwd|node))/.test(l));
  fail(`the C++ build failed (${(first ?? r.error?.message ?? `exit ${r.status}`).trim().slice(0, 200)}; see build/native-build.log)`);
}
// Loads here too: a binary that builds but cannot load (wrong headers) is not a native backend.
const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(addon)}).isas()`], { encoding: 'utf8' });
if (probe.status !== 0) fail(`the addon was built but does not load (${(probe.stderr || '').split('\n')[0]})`);
rmSync(statusFile, { force: true });
say('native kernels built (build/Release/charrnn_native.node)');
