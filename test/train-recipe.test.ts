// Defaults that fit the corpus and the budget (train/recipe.ts): the rules as a pure function
// (tiny, medium and big corpora; a flag given wins), and a real run on a 5 KB corpus.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_DEFAULTS, TRAIN_DEFAULTS } from '../src/config';
import { chooseRecipe, paramCount, RECIPE_RULES, type RecipeInput } from '../src/train/recipe';
import { makeTmp, ok, readJSON, removeTmp, shakespeare } from './cli-helpers';

/** A corpus of `chars` characters over 65 (Tiny Shakespeare's vocabulary), 10% held out. */
function input(chars: number, o: Partial<RecipeInput> = {}): RecipeInput {
  return {
    chars,
    trainChars: Math.floor(chars * 0.9),
    vocabSize: 65,
    budget: 0,
    model: { ...MODEL_DEFAULTS },
    batchSize: TRAIN_DEFAULTS.batchSize,
    seqLength: TRAIN_DEFAULTS.seqLength,
    explicit: new Set(),
    ...o,
  };
}

describe('chooseRecipe', () => {
  it("a corpus of Tiny Shakespeare's size without --time gets exactly the defaults", () => {
    for (const chars of [1_115_394, 300_000, 9_000_000]) {
      const r = chooseRecipe(input(chars));
      expect(r.model, `${chars} characters`).toEqual(MODEL_DEFAULTS);
      expect(r.batchSize).toBe(TRAIN_DEFAULTS.batchSize);
    }
    expect(chooseRecipe(input(1_115_394)).line).toBe('recipe: lstm 2 x 128, dropout 0, batch 50: corpus 1.1 M characters, no --time (the defaults)');
    expect(chooseRecipe(input(1_115_394, { budget: 180 })).model).toEqual(MODEL_DEFAULTS);
  });

  it('a tiny corpus gets a small model within maxParamsPerChar, dropout, and a batch that makes an epoch of several batches', () => {
    const r = chooseRecipe(input(5_000));
    expect(r.model).toMatchObject({ model: 'lstm', layers: 2, hidden: 32, dropout: 0.2 });
    expect(paramCount(r.model, 65)).toBeLessThanOrEqual(RECIPE_RULES.maxParamsPerChar * 4500);
    expect(r.batchSize).toBe(Math.floor(4500 / (50 * RECIPE_RULES.minBatchesPerEpoch))); // 4
    expect(r.line).toBe('recipe: lstm 2 x 32, dropout 0.2, batch 4: corpus 5.0 K characters, no --time');
    const twelve = chooseRecipe(input(12_000));
    expect(twelve.model).toMatchObject({ layers: 2, hidden: 64, dropout: 0.2 });
    expect(paramCount(twelve.model, 65)).toBeLessThanOrEqual(RECIPE_RULES.maxParamsPerChar * 10_800);
    // the largest rung that fits: the next one up does not
    expect(paramCount({ ...twelve.model, hidden: 128 }, 65)).toBeGreaterThan(RECIPE_RULES.maxParamsPerChar * 10_800);
  });

  it('below the smallest rung the floor is taken; dropout follows the parameters a character', () => {
    expect(chooseRecipe(input(500)).model).toMatchObject({ hidden: 32, layers: 2, dropout: 0.2 });
    // 2 x 128 on 200 K characters: ~1.3 parameters a training character; on 100 K ~2.7
    expect(chooseRecipe(input(200_000)).model).toMatchObject({ hidden: 128, layers: 2, dropout: 0.1 });
    expect(chooseRecipe(input(100_000)).model).toMatchObject({ hidden: 128, layers: 2, dropout: 0.2 });
  });

  it('a big corpus gets 2 x 256 without --time or with a long one, not with a short budget', () => {
    expect(chooseRecipe(input(50_000_000)).model).toMatchObject({ hidden: 256, layers: 2, dropout: 0 });
    expect(chooseRecipe(input(50_000_000, { budget: 3600 })).model).toMatchObject({ hidden: 256 });
    expect(chooseRecipe(input(50_000_000, { budget: 600 })).model).toMatchObject({ hidden: 128 });
    expect(chooseRecipe(input(50_000_000, { budget: 600 })).line).toContain('corpus 50.0 M characters, budget 10m');
  });

  it('every value given as a flag wins, and the line says which', () => {
    const explicit = new Set(['hidden', 'dropout', 'batchSize']);
    const r = chooseRecipe(input(5_000, { explicit, model: { ...MODEL_DEFAULTS, hidden: 256, dropout: 0 }, batchSize: 16 }));
    expect(r.model).toMatchObject({ hidden: 256, layers: 2, dropout: 0 });
    expect(r.batchSize).toBe(16);
    expect(r.line).toContain('(--hidden, --dropout, --batch-size as given)');
    // --layers given: the hidden size is chosen for those layers; dropout rises for a big model on a small text
    const three = chooseRecipe(input(12_000, { explicit: new Set(['layers']), model: { ...MODEL_DEFAULTS, layers: 3 } }));
    expect(three.model.layers).toBe(3);
    expect(paramCount(three.model, 65)).toBeLessThanOrEqual(RECIPE_RULES.maxParamsPerChar * 10_800);
    const large = chooseRecipe(input(200_000, { explicit: new Set(['hidden']), model: { ...MODEL_DEFAULTS, hidden: 512 } }));
    expect(large.model).toMatchObject({ hidden: 512, dropout: 0.2 });
  });
});

let dir: string;
beforeAll(() => {
  dir = makeTmp();
  writeFileSync(join(dir, 'small.txt'), shakespeare(5_000));
});
afterAll(() => removeTmp(dir));

describe('charrnn train on a 5 KB corpus', () => {
  it('gets the small model in the header and in the checkpoint; a flag overrides it; --resume keeps it', () => {
    const r = ok(['train', 'small.txt', '--iters', '3', '--eval-every', '3', '--checkpoint-dir', 'ck'], dir);
    expect(r.stderr).toContain('recipe: lstm 2 x 32, dropout 0.2, batch 4: corpus 5.0 K characters, no --time');
    expect(r.stderr).toMatch(/model: lstm, 2 x 32,.*dropout 0\.2/);
    const ck = readJSON(join(dir, 'ck', 'latest.json'));
    expect(ck.model).toMatchObject({ model: 'lstm', hidden: 32, layers: 2, dropout: 0.2 });
    expect(ck.config.train.batchSize).toBe(4);
    const more = ok(['train', 'small.txt', '--resume', '--iters', '6', '--checkpoint-dir', 'ck'], dir);
    expect(more.stderr).not.toContain('recipe:');
    expect(readJSON(join(dir, 'ck', 'latest.json')).model).toMatchObject({ hidden: 32, dropout: 0.2 });
    const given = ok(['train', 'small.txt', '--hidden', '48', '--dropout', '0', '--iters', '3', '--eval-every', '3', '--checkpoint-dir', 'ck2'], dir);
    expect(given.stderr).toContain('recipe: lstm 2 x 48, dropout 0, batch 4: corpus 5.0 K characters, no --time (--hidden, --dropout as given)');
    expect(readJSON(join(dir, 'ck2', 'latest.json')).model).toMatchObject({ hidden: 48, dropout: 0 });
  });
});
