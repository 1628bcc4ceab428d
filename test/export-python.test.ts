// Runs the Python tests of the exports (test/python/, pytest) against fixtures made here:
// tiny trained checkpoints, their safetensors and ONNX exports, `charrnn eval` on held-out text,
// and charrnn's own step-by-step log-probabilities and states. Each pytest test is reported as
// a test of its own, with the figures it measured. The Python is CHARRNN_PYTHON, else the CI
// venv (.venv-ci, made by .ci/run), else python3; without torch, safetensors, onnx, onnxruntime
// and pytest the tests are skipped by name (and fail instead when CHARRNN_REQUIRE_PYTHON=1).

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelFromCheckpoint, readCheckpoint } from '../src/checkpoint/format';
import { Vocab } from '../src/data/corpus';
import { BIN, makeTmp, ok, removeTmp, ROOT, shakespeare } from './cli-helpers';

const PYTEST_TESTS = [
  'test_torch_logits_equal_charrnn_eval[lstm]',
  'test_torch_logits_equal_charrnn_eval[gru]',
  'test_torch_logits_equal_charrnn_eval[rnn]',
  'test_onnx_checker_and_onnxruntime_steps_equal_charrnn[lstm]',
  'test_onnx_checker_and_onnxruntime_steps_equal_charrnn[gru]',
  'test_onnx_checker_and_onnxruntime_steps_equal_charrnn[rnn]',
  'test_ddp_torchrun_round_trip',
];

/** The cells of the fixtures, each with another input and depth. */
const CASES = {
  lstm: ['--model', 'lstm', '--layers', '2', '--embed', '0'],
  gru: ['--model', 'gru', '--layers', '1', '--embed', '8'],
  rnn: ['--model', 'rnn', '--layers', '2', '--embed', '8'],
};

function findPython(): { python: string | null; why: string } {
  const env = process.env.CHARRNN_PYTHON;
  const candidates = env ? [env] : [join(ROOT, '.venv-ci', 'bin', 'python'), 'python3'];
  const why: string[] = [];
  for (const py of candidates) {
    if (py.includes('/') && !existsSync(py)) {
      why.push(`${py}: not found`);
      continue;
    }
    const r = spawnSync(py, ['-c', 'import torch, safetensors, onnx, onnxruntime, numpy, pytest'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return { python: py, why: '' };
    why.push(`${py}: ${(r.stderr || String(r.error)).trim().split('\n').pop()}`);
  }
  return { python: null, why: why.join('; ') };
}

const { python, why } = findPython();
const required = process.env.CHARRNN_REQUIRE_PYTHON === '1';
if (!python) {
  process.stderr.write(`export-python: no Python with torch, safetensors, onnx, onnxruntime, numpy and pytest (${why}); ` + `skipped: ${PYTEST_TESTS.join(', ')}. Set CHARRNN_PYTHON or run bash .ci/run to make .venv-ci.\n`);
}

/** charrnn's log-probabilities and states for a few steps of the held-out text (B = 1). */
function referenceSteps(ckPath: string, text: string, n: number) {
  const ck = readCheckpoint(ckPath);
  const model = modelFromCheckpoint(ck, ckPath, { shapes: [{ B: 1, T: 1 }], kernels: 'js' });
  const ws = model.workspaces[0];
  const { hidden: H, layers, model: kind } = ck.model;
  const ids = Array.from(new Vocab(ck.vocab).encode(text).ids.subarray(0, n));
  const state = new Float32Array(ws.stateSize);
  const out = { ids, state_names: [] as string[], logprobs: [] as number[][], states: [] as number[][][] };
  for (let k = 0; k < layers; k++) out.state_names.push(...(kind === 'lstm' ? [`h${k}`, `c${k}`] : [`h${k}`]));
  for (const id of ids) {
    ws.inputs[0] = id;
    ws.forward(1, { withTargets: false });
    out.logprobs.push(Array.from(ws.probs, Math.log));
    ws.saveState(state);
    out.states.push(out.state_names.map((_, j) => Array.from(state.subarray(j * H, (j + 1) * H))));
  }
  model.close();
  return out;
}

let dir: string;
let results: Record<string, { outcome: string; message: string; properties: Record<string, number> }> = {};

beforeAll(() => {
  if (!python) return;
  dir = makeTmp();
  writeFileSync(join(dir, 'train.txt'), shakespeare(20_000));
  const heldout = shakespeare(23_000).slice(20_000);
  writeFileSync(join(dir, 'held.txt'), heldout);
  const cases: Record<string, unknown> = {};
  for (const [cell, flags] of Object.entries(CASES)) {
    ok(['train', 'train.txt', ...flags, '--hidden', '16', '--batch-size', '8', '--seq-length', '16', '--iters', '30', '--eval-every', '30', '--checkpoint-dir', cell, '--quiet'], dir);
    const ck = join(dir, cell, 'latest.json');
    ok(['export', ck, '-o', join(dir, `${cell}.safetensors`)], dir);
    ok(['export', ck, '-o', join(dir, `${cell}.onnx`)], dir);
    cases[cell] = {
      safetensors: join(dir, `${cell}.safetensors`),
      onnx: join(dir, `${cell}.onnx`),
      model: JSON.stringify(readCheckpoint(ck).model),
      eval: JSON.parse(ok(['eval', 'held.txt', '--checkpoint', ck, '--json'], dir).stdout),
      steps: referenceSteps(ck, heldout, 40),
    };
  }
  const manifest = { root: ROOT, dir, node: process.execPath, bin: BIN, corpus: join(dir, 'train.txt'), heldout: join(dir, 'held.txt'), cases };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  const resultsFile = join(dir, 'results.json');
  const r = spawnSync(python, ['-m', 'pytest', join(ROOT, 'test', 'python'), '-q', '-p', 'no:cacheprovider'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CHARRNN_EXPORT_FIXTURES: join(dir, 'manifest.json'), CHARRNN_PYTEST_RESULTS: resultsFile },
    timeout: 540_000, // a guard against a hang, not a timing assertion
  });
  if (!existsSync(resultsFile)) throw new Error(`pytest wrote no results (exit ${r.status}): ${r.stdout}\n${r.stderr}`);
  results = JSON.parse(readFileSync(resultsFile, 'utf8'));
}, 600_000);
afterAll(() => removeTmp(dir));

describe('Python: PyTorch, onnxruntime and DDP on the exports (test/python/)', () => {
  if (!python && required) {
    it('a Python with torch is there (CHARRNN_REQUIRE_PYTHON=1)', () => {
      expect.fail(`CHARRNN_REQUIRE_PYTHON=1 but ${why}`);
    });
  }

  if (python) {
    it('pytest ran exactly the expected tests', () => {
      expect(Object.keys(results).sort()).toEqual([...PYTEST_TESTS].sort());
    });
  }

  for (const name of PYTEST_TESTS) {
    it.skipIf(!python)(name, () => {
      const r = results[name];
      expect(r, `pytest did not run ${name}`).toBeDefined();
      if (Object.keys(r.properties).length) process.stderr.write(`${name}: ${JSON.stringify(r.properties)}\n`);
      expect(r.outcome, r.message).toBe('passed');
    });
  }
});
