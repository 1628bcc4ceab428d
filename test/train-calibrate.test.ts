// A cosine schedule that ends at a --time budget (train/calibrate.ts): the estimate as a pure
// function, the schedule before and after it is fixed, and a real run that records the value,
// ends at the low rate and resumes exactly.

import { cpSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRAIN_DEFAULTS } from '../src/config';
import { calibrateDecayIters, CALIBRATION, stretchOver, type Measured } from '../src/train/calibrate';
import { describeSchedule, learningRate, resolveSchedule } from '../src/train/schedule';
import { makeTmp, ok, readJSON, removeTmp, shakespeare, TINY, type Checkpoint, jsonLines } from './cli-helpers';

const measured: Measured = { iter: 40, elapsed: 6, secondsPerIter: 0.1, secondsPerEval: 2, evalEvery: 200, secondsPerPreview: 0.5, sampleEvery: 0 };

describe('calibrateDecayIters', () => {
  it('the iterations done plus what the rest of the budget pays for, less the margin', () => {
    // 180 s budget, 6 s spent: 174 s x 0.97 = 168.78 s left at 0.1 + 2 / 200 = 0.11 s an iteration
    expect(calibrateDecayIters(measured, 180, 0)).toBe(40 + Math.floor((174 * (1 - CALIBRATION.margin)) / 0.11));
    expect(calibrateDecayIters(measured, 180, 0, 0)).toBe(40 + Math.floor(174 / 0.11));
  });

  it('evaluations and previews each cost their share of an iteration', () => {
    const noEval = calibrateDecayIters({ ...measured, secondsPerEval: 0 }, 180, 0, 0);
    expect(noEval).toBe(40 + Math.floor(174 / 0.1));
    const previews = calibrateDecayIters({ ...measured, sampleEvery: 50 }, 180, 0, 0); // + 0.5 / 50 s an iteration
    expect(previews).toBe(40 + Math.floor(174 / 0.12));
    const oftenEval = calibrateDecayIters({ ...measured, evalEvery: 20 }, 180, 0, 0); // + 2 / 20 s an iteration
    expect(oftenEval).toBe(40 + Math.floor(174 / 0.2));
  });

  it('a spent budget still ends after the current iteration, and after the warmup', () => {
    expect(calibrateDecayIters({ ...measured, elapsed: 200 }, 180, 0)).toBe(41);
    expect(calibrateDecayIters(measured, 180, 5000)).toBe(5001);
  });

  it('the stretch lasts the larger of minIters iterations and budgetShare of the budget', () => {
    expect(stretchOver(CALIBRATION.minIters - 1, 100, 180)).toBe(false);
    expect(stretchOver(CALIBRATION.minIters, 180 * CALIBRATION.budgetShare - 0.01, 180)).toBe(false);
    expect(stretchOver(CALIBRATION.minIters, 180 * CALIBRATION.budgetShare, 180)).toBe(true);
  });
});

describe('a cosine schedule with only --time as a bound', () => {
  const cfg = { ...TRAIN_DEFAULTS, lrSchedule: 'cosine' as const, epochs: 0, time: 180, warmupIters: 10 };

  it('waits for the calibration at --lr (after the warmup), then is the cosine to the fixed end', () => {
    const s = resolveSchedule(cfg, 0.02, 50, null);
    expect(s.decayIters).toBe(0);
    expect(describeSchedule(s)).toBe('cosine schedule: warmup 10 iterations, down to 0.002 at the end of the --time budget');
    expect(learningRate(4, s)).toBeCloseTo((0.02 * 5) / 11, 15);
    expect(learningRate(50, s)).toBe(0.02);
    const fixed = { ...s, decayIters: 110 };
    expect(learningRate(60, fixed)).toBeCloseTo(0.002 + 0.5 * (1 + Math.cos(Math.PI / 2)) * 0.018, 15);
    expect(learningRate(110, fixed)).toBeCloseTo(0.002, 15);
  });
});

let dir: string;
beforeAll(() => {
  dir = makeTmp();
  writeFileSync(join(dir, 'corpus.txt'), shakespeare(20_000));
});
afterAll(() => removeTmp(dir));


function expectSameState(a: Checkpoint, b: Checkpoint): void {
  expect(b.training.iter).toBe(a.training.iter);
  for (const name of Object.keys(a.tensors)) expect(b.tensors[name].data === a.tensors[name].data, `tensor ${name} is bit-identical`).toBe(true);
  expect(b.optimizer).toEqual(a.optimizer);
  expect(b.training.lr).toBe(a.training.lr);
}

describe('charrnn train --lr-schedule cosine --time', () => {
  it('fixes --lr-decay-iters once, records it, ends at --min-lr (or the time), and resumes exactly', () => {
    const flags = [...TINY, '--optimizer', 'adagrad', '--lr', '0.03', '--lr-schedule', 'cosine', '--warmup-iters', '0', '--min-lr', '0.002', '--eval-every', '20', '--kernels', 'js'];
    const r = ok(['train', 'corpus.txt', ...flags, '--time', '4s', '--keep', '50', '--json', '--print-every', '1', '--checkpoint-dir', 'A'], dir);
    const line = /cosine schedule: down to 0\.002 at iteration (\d+), the estimated end of the 4s budget \(measured over iterations 1-(\d+)\)/.exec(r.stderr);
    expect(line, r.stderr).not.toBeNull();
    const end = Number(line![1]);
    const calibratedAt = Number(line![2]);
    expect(calibratedAt).toBeGreaterThanOrEqual(CALIBRATION.minIters);
    expect(end).toBeGreaterThan(calibratedAt);
    // every checkpoint of the run, the first included, records the fixed value
    const numbered = readdirSync(join(dir, 'A')).filter((f) => f.startsWith('iter-')).sort();
    expect(numbered.length).toBeGreaterThan(0);
    for (const f of numbered) expect(readJSON(join(dir, 'A', f)).config.train.lrDecayIters, f).toBe(end);
    const a = readJSON(join(dir, 'A', 'latest.json'));
    expect(a.config.train).toMatchObject({ lrSchedule: 'cosine', time: 4, lrDecayIters: end, minLr: 0.002 });
    // the rates: --lr until the calibration, then the cosine to the fixed end
    const lines = jsonLines(r.stdout);
    const cos = (it: number) => 0.002 + 0.5 * (1 + Math.cos((Math.PI * it) / end)) * 0.028;
    for (const o of lines.filter((o) => o.type === 'train')) {
      const it = o.iter - 1;
      expect(o.lr, `iteration ${o.iter}`).toBeCloseTo(it < calibratedAt ? 0.03 : cos(it), 12);
    }
    const done = lines.pop();
    expect(done.evalSeconds).toBeGreaterThan(0);
    expect(done.evalSeconds).toBeLessThan(done.seconds);
    // it stops at the end of the schedule, at the low rate, unless the time ran out first
    if (done.stoppedBy === 'done') {
      expect(done.iter).toBe(end);
      expect(a.training.lr).toBeCloseTo(cos(end - 1), 12);
      expect(a.training.lr).toBeLessThan(0.002 * 1.001);
    } else expect(done.stoppedBy).toBe('time');

    // resumed from its first numbered checkpoint with an iteration bound, it keeps the schedule and ends in the same state
    // as the run (or as the run resumed to the same bound, when the time stopped it first)
    cpSync(join(dir, 'A'), join(dir, 'B'), { recursive: true });
    ok(['train', 'corpus.txt', '--quiet', '--resume', join('B', numbered[0]), '--iters', String(end), '--time', '1h', '--checkpoint-dir', 'B'], dir);
    if (done.stoppedBy !== 'done') ok(['train', 'corpus.txt', '--quiet', '--resume', '--iters', String(end), '--time', '1h', '--checkpoint-dir', 'A'], dir);
    const b = readJSON(join(dir, 'B', 'latest.json'));
    expect(b.config.train.lrDecayIters).toBe(end);
    expectSameState(readJSON(join(dir, 'A', 'latest.json')), b);
  });
});
