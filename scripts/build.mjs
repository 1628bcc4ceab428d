// Build: AssemblyScript kernels -> dist/kernels.wasm, TypeScript -> dist/*.js (esbuild bundles).
// Run by `npm run build`, by `npm install` (prepare) and before `npm test` (pretest).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(root, 'dist'), { recursive: true });

// 1. WebAssembly kernels, compiled from source (never checked in).
const asEntry = join(root, 'assembly', 'kernels.ts');
if (existsSync(asEntry)) {
  const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
  execFileSync(
    process.execPath,
    [
      asc, asEntry,
      '--outFile', join(root, 'dist', 'kernels.wasm'),
      '--textFile', join(root, 'dist', 'kernels.wat'),
      '--config', join(root, 'assembly', 'asconfig.json'),
    ],
    { stdio: 'inherit', cwd: root },
  );
  // The same source with relaxed-SIMD fused multiply-adds (picked at run time when V8 accepts it).
  execFileSync(
    process.execPath,
    [asc, asEntry, '--outFile', join(root, 'dist', 'kernels-relaxed.wasm'), '--config', join(root, 'assembly', 'asconfig.json'), '--target', 'relaxed'],
    { stdio: 'inherit', cwd: root },
  );
}

// 2. The CLI, the worker and the benchmark, each one bundle (fast start: one file to load).
const entries = [
  ['src/cli/index.ts', 'dist/cli.js'],
  ['src/engine/kernels/worker.ts', 'dist/worker.js'],
  ['bench/bench.ts', 'dist/bench.js'],
  ['bench/sweep.ts', 'dist/bench-sweep.js'],
  ['bench/profile.ts', 'dist/bench-profile.js'],
  ['bench/bigcorpus.ts', 'dist/bench-bigcorpus.js'],
  ['bench/recipe.ts', 'dist/recipe.js'],
];
for (const [src, out] of entries) {
  if (!existsSync(join(root, src))) continue;
  await build({
    entryPoints: [join(root, src)],
    outfile: join(root, out),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
}
