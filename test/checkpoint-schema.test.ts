// The checkpoint schema (src/checkpoint/schema.ts): every section of a checkpoint is validated
// before use, with errors that name the key path; docs/checkpoint-format.md and the schema list
// the same keys; the configuration sections cover every key of config.ts.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKPOINT, DATA, ENGINE_CONFIG, HISTORY, MODEL, OPTIM_CONFIG, OPTIMIZER, TENSOR, TRAIN_CONFIG, TRAINING } from '../src/checkpoint/schema';
import { ENGINE_DEFAULTS, OPTIM_DEFAULTS, TRAIN_DEFAULTS } from '../src/config';
import { charrnn, expectUserError, f32ToBase64, makeTmp, readJSON, removeTmp, ROOT, shakespeare, trainTiny, writeJSON, type Checkpoint } from './cli-helpers';

let dir: string;
let good: Checkpoint;
beforeAll(() => {
  dir = makeTmp();
  writeFileSync(join(dir, 'corpus.txt'), shakespeare(20_000));
  trainTiny(dir, 'corpus.txt', 'ck', ['--kernels', 'js']);
  good = readJSON(join(dir, 'ck', 'latest.json'));
});
afterAll(() => removeTmp(dir));

/** Write the trained checkpoint with one change, as `name`. */
function variant(name: string, change: (ck: Checkpoint) => void): string {
  const ck = structuredClone(good);
  change(ck);
  writeJSON(join(dir, name), ck);
  return name;
}

describe('a checkpoint section with a bad value is refused, naming the key path (bug 7)', () => {
  const cases: [string, (ck: Checkpoint) => void, RegExp][] = [
    ['iter.json', (ck) => (ck.training.iter = -3), /checkpoint iter\.json: training\.iter: expected an integer >= 0, got -3$/],
    ['lr.json', (ck) => (ck.training.lr = 'fast'), /training\.lr: expected a number >= 0, got "fast"$/],
    ['rng.json', (ck) => delete ck.training.rng, /training\.rng is missing$/],
    ['kind.json', (ck) => (ck.optimizer.kind = 'lion'), /optimizer\.kind: expected one of adagrad, rmsprop, adam, sgd, got "lion"$/],
    ['slot.json', (ck) => (ck.optimizer.slots[0]['out.b'].dtype = 'float16'), /optimizer\.slots\[0\]\.out\.b\.dtype: expected "float32", got "float16"$/],
    ['batch.json', (ck) => (ck.config.train.batchSize = '8'), /config\.train\.batchSize: expected an integer >= 1, got "8"$/],
    ['reduction.json', (ck) => (ck.config.optim.reduction = 'max'), /config\.optim\.reduction: expected one of mean, sum, got "max"$/],
    ['valfrac.json', (ck) => (ck.data.valFrac = 1.5), /data\.valFrac: expected a number in \[0, 1\), got 1\.5$/],
    ['history.json', (ck) => (ck.history.val[1] = [20, 'x']), /history\.val\[1\]: expected \[iteration, chars, loss\], three numbers, got \[20,"x"\]$/],
    ['dropout.json', (ck) => (ck.model.dropout = 1), /model\.dropout: expected a number in \[0, 1\), got 1$/],
  ];
  for (const [name, change, message] of cases) {
    it(name.replace('.json', ''), () => {
      variant(name, change);
      expectUserError(charrnn(['info', name], dir), message);
      expectUserError(charrnn(['train', 'corpus.txt', '--resume', name, '--checkpoint-dir', 'ck', '--iters', '40'], dir), message);
    });
  }

  it('a short hidden state is refused on --resume, not loaded as NaN', () => {
    variant('short-hidden.json', (ck) => (ck.training.hidden = { shape: [3], dtype: 'float32', encoding: 'base64', data: f32ToBase64([0.1, 0.2, 0.3]) }));
    // 1 layer x 8 streams x 32 units, h and c: 512
    expectUserError(charrnn(['train', 'corpus.txt', '--resume', 'short-hidden.json', '--checkpoint-dir', 'ck-short', '--iters', '40'], dir), /training\.hidden holds 3 values, the run's state needs 512/);
  });

  it('optimizer slots that do not fit the optimizer are refused on --resume', () => {
    variant('slots.json', (ck) => ck.optimizer.slots.push(ck.optimizer.slots[0]));
    expectUserError(charrnn(['train', 'corpus.txt', '--resume', 'slots.json', '--checkpoint-dir', 'ck-slots', '--iters', '40'], dir), /optimizer holds 2 slots of adagrad.*needs 1/);
  });
});

describe('a file that is not a charrnn checkpoint', () => {
  it('says what it is, never format "undefined"', () => {
    writeJSON(join(dir, 'other.json'), { name: 'a package.json, say' });
    writeJSON(join(dir, 'list.json'), [1, 2]);
    writeJSON(join(dir, 'gpt.json'), { format: 'gguf' });
    const a = expectUserError(charrnn(['info', 'other.json'], dir), /other\.json is not a charrnn checkpoint \(it has no "format" key, expected "format": "charrnn-checkpoint"\)/);
    expect(a).not.toContain('undefined');
    expectUserError(charrnn(['info', 'list.json'], dir), /not a charrnn checkpoint \(a JSON array, not an object/);
    expectUserError(charrnn(['info', 'gpt.json'], dir), /not a charrnn checkpoint \("format" is "gguf"/);
  });
});

describe('docs/checkpoint-format.md and the schema', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'checkpoint-format.md'), 'utf8');
  const keys = (schema: { shape: Record<string, unknown> }) => Object.keys(schema.shape).sort();

  /** The keys in backticks in the first column of the table under `heading`. */
  function tableKeys(heading: string): string[] {
    const start = doc.indexOf(`\n${heading}\n`);
    expect(start, heading).toBeGreaterThan(0);
    const out: string[] = [];
    for (const line of doc.slice(start + heading.length + 2).split('\n')) {
      if (line.startsWith('#')) break;
      const m = /^\| ([^|]+) \|/.exec(line);
      if (m && !line.startsWith('|---') && !/^\| (key|name) \|/.test(line)) out.push(...[...m[1].matchAll(/`([^`]+)`/g)].map((k) => k[1]));
    }
    return out.sort();
  }

  /** The "key": names of the inline object in the row of `key` in the top-level table. */
  function inlineKeys(key: string): string[] {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${key}\` |`))!;
    return [...new Set([...row.matchAll(/"(\w+)":/g)].map((m) => m[1]))].sort();
  }

  it('the top level, model and training tables list exactly the keys of the schema', () => {
    expect(tableKeys('## Top level')).toEqual(keys(CHECKPOINT));
    expect(tableKeys('### `model`')).toEqual(keys(MODEL));
    expect(tableKeys('### `training`')).toEqual(keys(TRAINING));
  });

  it('the inline objects (optimizer, data, history, config, a tensor) too', () => {
    expect(inlineKeys('optimizer')).toEqual(keys(OPTIMIZER));
    expect(inlineKeys('data')).toEqual(keys(DATA));
    expect(inlineKeys('history')).toEqual(keys(HISTORY));
    expect(inlineKeys('config')).toEqual(['engine', 'optim', 'train']);
    const example = /```json\n(\{ "shape".*\})\n```/.exec(doc)!;
    expect(Object.keys(JSON.parse(example[1])).sort()).toEqual(keys(TENSOR));
  });

  it('the config sections hold every key of config.ts, and nothing else', () => {
    expect(keys(TRAIN_CONFIG)).toEqual(Object.keys(TRAIN_DEFAULTS).sort());
    expect(keys(OPTIM_CONFIG)).toEqual(Object.keys(OPTIM_DEFAULTS).sort());
    expect(keys(ENGINE_CONFIG)).toEqual(Object.keys(ENGINE_DEFAULTS).sort());
  });

  it('a checkpoint charrnn writes passes the schema', () => {
    expect(CHECKPOINT.safeParse(good).success).toBe(true);
  });
});
