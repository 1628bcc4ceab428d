// Learning-rate schedules: the pure function against closed forms, the flags that choose them,
// the rates a real run reports (--json), and resuming across a schedule bit for bit.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRAIN_DEFAULTS, type TrainConfig } from '../src/config';
import { learningRate, resolveSchedule, scheduleFromFlags, type Schedule } from '../src/train/schedule';
import { charrnn, expectUserError, makeTmp, ok, readJSON, removeTmp, shakespeare, TINY, type Checkpoint, jsonLines } from './cli-helpers';

const base: Schedule = { kind: 'none', lr: 0.1, decay: 1, decayAfter: 10, decayEvery: 1, batchesPerEpoch: 10, warmupIters: 0, minLr: 0.01, decayIters: 0 };

describe('learningRate', () => {
  it('none: the constant rate', () => {
    for (const it of [0, 1, 99, 12345]) expect(learningRate(it, base)).toBe(0.1);
  });

  it("step with --lr-decay-every 1 is char-rnn's decay, exactly the rate charrnn used before schedules had names", () => {
    // the inline rule train.ts had: lr * decay ^ max(0, completed - max(after, 1) + 1)
    for (const after of [0, 1, 3]) {
      const s: Schedule = { ...base, kind: 'step', decay: 0.97, decayAfter: after, batchesPerEpoch: 7 };
      for (let it = 0; it < 200; it++) {
        const completed = Math.floor(it / 7);
        expect(learningRate(it, s)).toBe(0.1 * 0.97 ** Math.max(0, completed - Math.max(after, 1) + 1));
      }
    }
  });

  it('step every 3 epochs after epoch 2: decays at the ends of epochs 2, 5, 8, ...', () => {
    const s: Schedule = { ...base, kind: 'step', decay: 0.5, decayAfter: 2, decayEvery: 3, batchesPerEpoch: 10 };
    const expected: [number, number][] = [
      [0, 0.1], [19, 0.1], // epochs 0 and 1
      [20, 0.05], [49, 0.05], // from the end of epoch 2
      [50, 0.025], [79, 0.025], // from the end of epoch 5
      [80, 0.0125], [110, 0.00625],
    ];
    for (const [it, lr] of expected) expect(learningRate(it, s), `iteration ${it}`).toBeCloseTo(lr, 15);
  });

  it("cosine: nanoGPT's warmup (it + 1) / (warmup + 1), the cosine, then the floor", () => {
    const s: Schedule = { ...base, kind: 'cosine', lr: 1, warmupIters: 10, minLr: 0.1, decayIters: 110 };
    const cosine = (it: number) => 0.1 + 0.5 * (1 + Math.cos((Math.PI * (it - 10)) / 100)) * 0.9;
    expect(learningRate(0, s)).toBeCloseTo(1 / 11, 15);
    expect(learningRate(4, s)).toBeCloseTo(5 / 11, 15);
    expect(learningRate(9, s)).toBeCloseTo(10 / 11, 15);
    expect(learningRate(10, s)).toBeCloseTo(1, 15);
    expect(learningRate(35, s)).toBeCloseTo(0.1 + 0.45 * (1 + Math.SQRT1_2), 12); // a quarter of the way
    expect(learningRate(60, s)).toBeCloseTo(0.55, 12); // half way
    expect(learningRate(77, s)).toBeCloseTo(cosine(77), 15);
    expect(learningRate(110, s)).toBeCloseTo(0.1, 15);
    expect(learningRate(111, s)).toBe(0.1);
    expect(learningRate(10_000, s)).toBe(0.1);
    // without warmup the first update has the full rate
    expect(learningRate(0, { ...s, warmupIters: 0 })).toBe(1);
  });
});

describe('resolveSchedule and scheduleFromFlags', () => {
  const cfg = (over: Partial<TrainConfig>): TrainConfig => ({ ...TRAIN_DEFAULTS, ...over });

  it("cosine defaults: --min-lr = --lr / 10, --lr-decay-iters = the run's bound, warmup 100 or a tenth of a short run", () => {
    const s = resolveSchedule(cfg({ lrSchedule: 'cosine' }), 0.02, 50, 4000);
    expect(s).toMatchObject({ kind: 'cosine', minLr: 0.002, decayIters: 4000, warmupIters: 100 });
    expect(resolveSchedule(cfg({ lrSchedule: 'cosine' }), 0.02, 50, 57)).toMatchObject({ decayIters: 57, warmupIters: 5 });
    expect(resolveSchedule(cfg({ lrSchedule: 'cosine' }), 0.02, 50, 5)).toMatchObject({ decayIters: 5, warmupIters: 0 });
    expect(resolveSchedule(cfg({ lrSchedule: 'cosine', time: 180 }), 0.02, 50, null)).toMatchObject({ decayIters: 0, warmupIters: 100 });
    expect(resolveSchedule(cfg({ lrSchedule: 'cosine', warmupIters: 0 }), 0.02, 50, 4000)).toMatchObject({ warmupIters: 0 });
    expect(resolveSchedule(cfg({ lrSchedule: 'cosine', lrDecayIters: 300, minLr: 0 }), 0.02, 50, 4000)).toMatchObject({ minLr: 0, decayIters: 300 });
  });

  it('cosine without a bound in iterations, or with a warmup as long as the decay, is refused', () => {
    expect(() => resolveSchedule(cfg({ lrSchedule: 'cosine' }), 0.02, 50, null)).toThrow(/needs a bound to end at/);
    expect(() => resolveSchedule(cfg({ lrSchedule: 'cosine', warmupIters: 100 }), 0.02, 50, 100)).toThrow(/--warmup-iters 100 must be below the run's 100 iterations/);
    expect(() => resolveSchedule(cfg({ lrSchedule: 'cosine', minLr: 0.5 }), 0.02, 50, 100)).toThrow(/--min-lr 0.5 is above --lr 0.02/);
  });

  it('a checkpoint from before schedules had names: --lr-decay alone means step', () => {
    const old = { ...TRAIN_DEFAULTS, lrDecay: 0.9 } as Partial<TrainConfig>;
    delete old.lrSchedule;
    delete old.lrDecayEvery;
    expect(resolveSchedule(old as TrainConfig, 0.1, 10, null)).toMatchObject({ kind: 'step', decayEvery: 1 });
  });

  it('no schedule flag: cosine when the run has an end, constant when it runs until stopped; --lr-decay < 1 alone selects step', () => {
    expect(scheduleFromFlags(undefined, 1, new Set(), true)).toBe('cosine');
    expect(scheduleFromFlags(undefined, 1, new Set(), false)).toBe('none');
    expect(scheduleFromFlags(undefined, 0.97, new Set(['lrDecay']), true)).toBe('step');
    expect(scheduleFromFlags(undefined, 1, new Set(['lrDecay', 'lrDecayAfter']), false)).toBe('none');
    expect(scheduleFromFlags(undefined, 1, new Set(['lrDecay', 'lrDecayAfter']), true)).toBe('cosine');
    expect(scheduleFromFlags('cosine', 1, new Set(['warmupIters', 'minLr', 'lrDecayIters']), true)).toBe('cosine');
    expect(scheduleFromFlags('none', 1, new Set(), true)).toBe('none');
  });

  it("a flag of another schedule is an error naming it and the fix", () => {
    expect(() => scheduleFromFlags(undefined, 1, new Set(['warmupIters']), false)).toThrow(/--warmup-iters applies to the cosine schedule, not none; add --lr-schedule cosine/);
    expect(() => scheduleFromFlags(undefined, 1, new Set(['lrDecayEvery']), true)).toThrow(/--lr-decay-every applies to the step schedule, not cosine; add --lr-decay below 1/);
    expect(() => scheduleFromFlags('cosine', 0.9, new Set(['lrDecay']), true)).toThrow(/--lr-decay applies to the step schedule, not cosine/);
    expect(() => scheduleFromFlags('step', 0.9, new Set(['lrDecay', 'minLr']), true)).toThrow(/--min-lr applies to the cosine schedule, not step/);
  });
});

let dir: string;
const text = shakespeare(20_000);

beforeAll(() => {
  dir = makeTmp();
  writeFileSync(join(dir, 'corpus.txt'), text);
  writeFileSync(join(dir, 'small.txt'), text.slice(0, 2000));
});
afterAll(() => removeTmp(dir));


describe('charrnn train with a schedule', () => {
  it('cosine: the rate of every reported update follows the closed form, and the summary names it', () => {
    const r = ok(
      ['train', 'corpus.txt', ...TINY, '--optimizer', 'adagrad', '--lr', '0.05', '--lr-schedule', 'cosine', '--warmup-iters', '4', '--min-lr', '0.005', '--iters', '24', '--eval-every', '12', '--print-every', '1', '--json', '--checkpoint-dir', 'cos', '--kernels', 'js'],
      dir,
    );
    expect(r.stderr).toContain('adagrad lr 0.05 (cosine schedule: warmup 4 iterations, down to 0.005 at iteration 24)');
    const train = jsonLines(r.stdout).filter((o) => o.type === 'train');
    expect(train.map((o) => o.iter)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    for (const o of train) {
      const it = o.iter - 1; // the line of iteration k reports the update that followed k - 1 updates
      const want = it < 4 ? (0.05 * (it + 1)) / 5 : 0.005 + 0.5 * (1 + Math.cos((Math.PI * (it - 4)) / 20)) * 0.045;
      expect(o.lr, `iteration ${o.iter}`).toBeCloseTo(want, 12);
    }
    const ck = readJSON(join(dir, 'cos', 'latest.json'));
    expect(ck.config.train).toMatchObject({ lrSchedule: 'cosine', warmupIters: 4, minLr: 0.005, lrDecayIters: 24 });
  });

  it("step: --lr-decay 0.5 --lr-decay-after 1 --lr-decay-every 2 halves the rate at the ends of epochs 1, 3, 5", () => {
    const r = ok(
      ['train', 'small.txt', ...TINY, '--optimizer', 'adagrad', '--lr', '0.03', '--lr-decay', '0.5', '--lr-decay-after', '1', '--lr-decay-every', '2', '--iters', '90', '--eval-every', '90', '--print-every', '1', '--json', '--checkpoint-dir', 'step', '--kernels', 'js'],
      dir,
    );
    const bpe = Number(/(\d+) batches\/epoch/.exec(r.stderr)![1]);
    expect(bpe).toBe(Math.floor(Math.floor((1800 - 1) / 8) / 16)); // 2000 characters, 10% held out
    expect(r.stderr).toContain('(step schedule: x0.5 every 2 epochs from the end of epoch 1)');
    for (const o of jsonLines(r.stdout).filter((o) => o.type === 'train')) {
      const completed = Math.floor((o.iter - 1) / bpe);
      const decays = completed < 1 ? 0 : Math.floor((completed - 1) / 2) + 1;
      expect(o.lr, `iteration ${o.iter}`).toBe(0.03 * 0.5 ** decays);
    }
  });

  it('without schedule flags the rate follows a cosine to the end of the run; --lr-schedule none keeps it constant', () => {
    const r = ok(['train', 'small.txt', ...TINY, '--iters', '40', '--eval-every', '40', '--checkpoint-dir', 'cos-default', '--json'], dir);
    expect(r.stderr).toContain('adagrad lr 0.1 (cosine schedule: warmup 4 iterations, down to 0.01 at iteration 40)');
    const lrs = jsonLines(r.stdout).filter((o) => o.type === 'train').map((o) => o.lr as number);
    expect(lrs.length).toBeGreaterThan(3);
    for (let i = 1; i < lrs.length; i++) expect(lrs[i]).toBeLessThan(lrs[i - 1]); // decaying after the warmup
    const c = ok(['train', 'small.txt', ...TINY, '--iters', '5', '--eval-every', '5', '--checkpoint-dir', 'const', '--lr-schedule', 'none'], dir);
    expect(c.stderr).toContain('adagrad lr 0.1 (constant)');
  });

  it('bad schedule flags are one-line errors', () => {
    const run = (args: string[]) => charrnn(['train', 'small.txt', ...TINY, '--checkpoint-dir', 'bad', ...args], dir);
    expectUserError(run(['--lr-schedule', 'linear']), /--lr-schedule expects one of none, step, cosine, got "linear"/);
    expectUserError(run(['--warmup-iters', '10', '--lr-schedule', 'step', '--lr-decay', '0.9']), /--warmup-iters applies to the cosine schedule, not step/);
    expectUserError(run(['--lr-schedule', 'cosine', '--epochs', '0']), /--lr-schedule cosine needs a bound to end at: --iters, --epochs or --time, or --lr-decay-iters/);
    expectUserError(run(['--lr-schedule', 'cosine', '--iters', '10', '--warmup-iters', '10']), /--warmup-iters 10 must be below/);
    expectUserError(run(['--lr-decay-every', '0', '--lr-decay', '0.9']), /--lr-decay-every expects an integer >= 1, got "0"/);
    expectUserError(run(['--min-lr', '-1', '--lr-schedule', 'cosine']), /--min-lr expects a number >= 0, got "-1"/);
  });
});

function expectSameState(a: Checkpoint, b: Checkpoint): void {
  expect(b.training.iter).toBe(a.training.iter);
  for (const name of Object.keys(a.tensors)) expect(b.tensors[name].data === a.tensors[name].data, `tensor ${name} is bit-identical`).toBe(true);
  expect(b.optimizer).toEqual(a.optimizer);
  expect(b.training.rng).toEqual(a.training.rng);
  expect(b.training.hidden).toEqual(a.training.hidden);
  expect(b.training.lr).toBe(a.training.lr);
  expect(b.history.train).toEqual(a.history.train);
}

describe('resuming across a schedule is exact', () => {
  const train = (args: string[]) => ok(['train', 'corpus.txt', '--quiet', ...args], dir);

  it('cosine with warmup, stopped in the warmup and resumed, ends where a run that never stopped ends', () => {
    const flags = [...TINY, '--seed', '5', '--optimizer', 'adam', '--lr', '0.002', '--lr-schedule', 'cosine', '--warmup-iters', '12', '--lr-decay-iters', '40', '--eval-every', '10'];
    train([...flags, '--iters', '40', '--checkpoint-dir', 'cres-A']);
    train([...flags, '--iters', '8', '--checkpoint-dir', 'cres-B']);
    train(['--resume', '--iters', '40', '--checkpoint-dir', 'cres-B']);
    const a = readJSON(join(dir, 'cres-A', 'latest.json'));
    const b = readJSON(join(dir, 'cres-B', 'latest.json'));
    // the rate of the 40th update (39 done before it): near the floor, --lr 0.002 / 10
    expect(a.training.lr).toBeCloseTo(0.0002 + 0.5 * (1 + Math.cos((Math.PI * 27) / 28)) * 0.0018, 15);
    expectSameState(a, b);
    // the same evaluations at 10, 20, 30, 40; the stopped session added one at its stop, 8
    expect(b.history.val.filter((p: number[]) => p[0] !== 8)).toEqual(a.history.val);
  });

  it('step with --lr-decay-every, resumed mid-epoch', () => {
    const flags = [...TINY, '--seed', '9', '--lr-decay', '0.8', '--lr-decay-after', '1', '--lr-decay-every', '2', '--eval-every', '50'];
    // small.txt: 14 batches an epoch, so 100 iterations cross several decays
    ok(['train', 'small.txt', '--quiet', ...flags, '--iters', '100', '--checkpoint-dir', 'sres-A'], dir);
    ok(['train', 'small.txt', '--quiet', ...flags, '--iters', '37', '--checkpoint-dir', 'sres-B'], dir);
    ok(['train', 'small.txt', '--quiet', '--resume', '--iters', '100', '--checkpoint-dir', 'sres-B'], dir);
    expectSameState(readJSON(join(dir, 'sres-A', 'latest.json')), readJSON(join(dir, 'sres-B', 'latest.json')));
  });

  it("a resumed cosine run keeps the first session's --lr-decay-iters, and refuses another", () => {
    const flags = [...TINY, '--optimizer', 'adagrad', '--lr', '0.03', '--lr-schedule', 'cosine', '--eval-every', '10'];
    train([...flags, '--iters', '10', '--checkpoint-dir', 'ckeep']); // --lr-decay-iters = 10, the run's length
    const r = ok(['train', 'corpus.txt', '--resume', '--iters', '20', '--checkpoint-dir', 'ckeep', '--json', '--print-every', '1'], dir);
    const lrs = jsonLines(r.stdout).filter((o) => o.type === 'train').map((o) => o.lr);
    expect(lrs).toEqual(Array(10).fill(0.003)); // past the decay: the floor, --lr 0.03 / 10
    expect(readJSON(join(dir, 'ckeep', 'latest.json')).config.train.lrDecayIters).toBe(10);
    expectUserError(
      charrnn(['train', 'corpus.txt', '--resume', '--iters', '30', '--lr-decay-iters', '30', '--checkpoint-dir', 'ckeep'], dir),
      /--lr-decay-iters 30 disagrees with the checkpoint given to --resume \(10\)/,
    );
  });
});
