// How a training run ends, in process: the signal handlers are removed on every path (an error
// too), a run without a validation split saves once at its end, and a second signal quits at once
// with its own exit code (src/train/signals.ts).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENGINE_DEFAULTS, MODEL_DEFAULTS, OPTIM_DEFAULTS, TRAIN_DEFAULTS, type OptimConfig, type TrainConfig } from '../src/config';
import { setQuiet } from '../src/io/log';
import { shakespeare } from './cli-helpers';

/** Every atomic write, by file name. */
const writes = vi.hoisted(() => [] as string[]);
vi.mock('../src/io/atomic', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/io/atomic')>();
  return {
    ...real,
    writeFileAtomic: (file: string, ...rest: [string, string?, string?]) => {
      writes.push(file);
      return real.writeFileAtomic(file, ...rest);
    },
  };
});

const { runTrain } = await import('../src/train/train');
const { QUIT_NOW, StopSignals } = await import('../src/train/signals');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'charrnn-exit-'));
  writeFileSync(join(dir, 'corpus.txt'), shakespeare(20_000));
  setQuiet(true);
});
afterAll(() => {
  setQuiet(false);
  rmSync(dir, { recursive: true, force: true });
});

function options(name: string, train: Partial<TrainConfig>, optim: Partial<OptimConfig> = {}) {
  return {
    corpus: [join(dir, 'corpus.txt')],
    model: { ...MODEL_DEFAULTS, model: 'lstm' as const, hidden: 16, layers: 1 },
    optim: { ...OPTIM_DEFAULTS, ...optim },
    train: { ...TRAIN_DEFAULTS, batchSize: 4, seqLength: 8, epochs: 0, checkpointDir: join(dir, name), ...train },
    engine: { ...ENGINE_DEFAULTS, kernels: 'js' as const },
    resume: null,
    initFrom: null,
    force: false,
    explicit: new Set<string>(),
    json: false,
  };
}

describe('the signal handlers (bug 9)', () => {
  it('are removed when the run ends with an error', async () => {
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const exploding = options('boom', { iters: 20, evalEvery: 5 }, { optimizer: 'sgd', lr: 1e6, clip: 0 });
    await expect(runTrain(exploding)).rejects.toThrow(/the loss (exploded|became)/);
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(before);
  });

  it('are removed when the run ends normally', async () => {
    const before = process.listenerCount('SIGINT');
    expect(await runTrain(options('fine', { iters: 2, evalEvery: 2 }))).toBe(0);
    expect(process.listenerCount('SIGINT')).toBe(before);
  });
});

describe('the final save (bug 9)', () => {
  it('a run without a validation split writes latest.json once at its end, not twice', async () => {
    writes.length = 0;
    expect(await runTrain(options('noval', { iters: 10, evalEvery: 5, valFrac: 0 }))).toBe(0);
    const latest = writes.filter((f) => f.endsWith('latest.json'));
    expect(latest).toEqual([join(dir, 'noval', 'latest.json'), join(dir, 'noval', 'latest.json')]); // iterations 5 and 10
  });
});

describe('a second signal (bug 10)', () => {
  it('quits at once with its own exit code, not the 130 of an orderly stop', () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const firsts: string[] = [];
    const s = new StopSignals((sig) => firsts.push(sig), 'ck/latest.json');
    s.install();
    try {
      process.emit('SIGINT', 'SIGINT');
      expect(firsts).toEqual(['SIGINT']);
      expect(exit).not.toHaveBeenCalled();
      expect(s.exitCode()).toBe(130);
      process.emit('SIGINT', 'SIGINT');
      expect(exit).toHaveBeenCalledWith(QUIT_NOW);
      expect(QUIT_NOW).not.toBe(130);
      expect(String(err.mock.calls.at(-1)?.[0])).toMatch(/second signal \(SIGINT\): quitting at once without saving; ck\/latest\.json/);
    } finally {
      s.remove();
      exit.mockRestore();
      err.mockRestore();
    }
  });
});
