// Defaults that fit the corpus and the budget (train/recipe.ts): the rules as a pure function
// (tiny, medium and big corpora; a flag given wins), and a real run on a 5 KB corpus.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_DEFAULTS, TRAIN_DEFAULTS } from '../src/config';
import { chooseRecipe, paramCount, plannedPasses, RECIPE_RULES, type RecipeInput } from '../src/train/recipe';
import { makeTmp, ok, readJSON, removeTmp, shakespeare } from './cli-helpers';

/** A corpus of `chars` characters over 65 (Tiny Shakespeare's vocabulary), 10% held out. */
function input(chars: number, o: Partial<RecipeInput> = {}): RecipeInput {
  return {
    chars,
    trainChars: Math.floor(chars * 0.9),
    vocabSize: 65,
    budget: 0,
    epochs: TRAIN_DEFAULTS.epochs,
    iters: 0,
    model: { ...MODEL_DEFAULTS },
    batchSize: TRAIN_DEFAULTS.batchSize,
    seqLength: TRAIN_DEFAULTS.seqLength,
    explicit: new Set(),
    ...o,
  };
}

describe('chooseRecipe', () => {
  it("a corpus of Tiny Shakespeare's size gets exactly the defaults for 10 epochs or 3 minutes", () => {
    for (const chars of [1_115_394, 2_000_000, 9_000_000]) {
      const r = chooseRecipe(input(chars));
      expect(r.model, `${chars} characters`).toEqual(MODEL_DEFAULTS);
      expect(r.batchSize).toBe(TRAIN_DEFAULTS.batchSize);
    }
    expect(chooseRecipe(input(1_115_394)).line).toBe('recipe: lstm 2 x 256, dropout 0, batch 32: corpus 1.1 M characters, no --time, ~10 epochs (the defaults)');
    const three = chooseRecipe(input(1_115_394, { budget: 180, epochs: 0 }));
    expect(three.model).toEqual(MODEL_DEFAULTS);
    expect(three.line).toBe('recipe: lstm 2 x 256, dropout 0, batch 32: corpus 1.1 M characters, budget 3m00s, ~7.2 epochs (the defaults)');
  });

  it('a budget that buys 2 x 384 enough passes takes it: 10 minutes of Tiny Shakespeare, not 3, not a bound that comes first', () => {
    const ten = chooseRecipe(input(1_115_394, { budget: 600, epochs: 0 }));
    expect(ten.model).toEqual({ ...MODEL_DEFAULTS, hidden: 384, dropout: 0.2 });
    expect(ten.line).toBe('recipe: lstm 2 x 384, dropout 0.2, batch 32: corpus 1.1 M characters, budget 10m00s, ~11 epochs');
    const rung = RECIPE_RULES.ladder.find((r) => r.hidden === 384)!;
    const P384 = paramCount({ ...MODEL_DEFAULTS, hidden: 384 }, 65);
    // the threshold: the shortest budget that buys minBudgetPasses takes 2 x 384, a second less does not
    const edge = Math.ceil((rung.minBudgetPasses! * P384 * 1_003_854) / RECIPE_RULES.paramCharsPerSecond);
    expect(chooseRecipe(input(1_115_394, { budget: edge, epochs: 0 })).model.hidden).toBe(384);
    expect(chooseRecipe(input(1_115_394, { budget: edge - 1, epochs: 0 })).model.hidden).toBe(256);
    // the first bound counts: 10 minutes but --epochs 5 (or --iters 1000) keep 2 x 256 without dropout
    expect(chooseRecipe(input(1_115_394, { budget: 600, epochs: 5 })).model).toEqual(MODEL_DEFAULTS);
    expect(chooseRecipe(input(1_115_394, { budget: 600, epochs: 0, iters: 1000 })).model).toEqual(MODEL_DEFAULTS);
    // no --time: epochs alone never take it, however many (the run's length would grow with the model)
    expect(chooseRecipe(input(1_115_394, { epochs: 50 })).model).toMatchObject({ hidden: 256, dropout: 0.3 });
    // a corpus too small for 2 x 384 at 8 parameters a character keeps 2 x 256 with any budget
    expect(chooseRecipe(input(200_000, { budget: 3600, epochs: 0 })).model.hidden).toBe(256);
    // --hidden given: the rung's layers are not forced on it
    expect(chooseRecipe(input(1_115_394, { budget: 600, epochs: 0, explicit: new Set(['hidden']) })).model).toMatchObject({ hidden: 256, layers: 2 });
  });

  it('dropout rises with the passes a budget buys: 0.2 for 10 minutes of Tiny Shakespeare, 0.3 for an hour', () => {
    expect(chooseRecipe(input(1_115_394, { budget: 600, epochs: 0 })).model.dropout).toBe(0.2);
    expect(chooseRecipe(input(1_115_394, { budget: 3600, epochs: 0 })).model).toMatchObject({ hidden: 384, dropout: 0.3 });
    // --hidden 256 given with 10 minutes: 2 x 256 makes ~24 passes, exposure 18
    const given = chooseRecipe(input(1_115_394, { budget: 600, epochs: 0, explicit: new Set(['hidden']) }));
    expect(given.model.dropout).toBe(0.2);
    expect(given.line).toBe('recipe: lstm 2 x 256, dropout 0.2, batch 32: corpus 1.1 M characters, budget 10m00s, ~24 epochs (--hidden as given)');
    // --iters: 10,000 x 32 x 64 characters are ~20 passes over 1 M
    const P = paramCount(MODEL_DEFAULTS, 65);
    const iters = { budget: 0, epochs: 0, iters: 10_000 };
    expect(plannedPasses(input(1_115_394, iters), P, 32)).toBeCloseTo((10_000 * 32 * 64) / 1_003_854, 9);
    expect(chooseRecipe(input(1_115_394, iters)).model.dropout).toBe(0.2);
    // no bound at all (Ctrl-C or --patience): planned as the default epochs
    expect(plannedPasses(input(1_115_394, { epochs: 0 }), P, 32)).toBe(RECIPE_RULES.unboundedEpochs);
  });

  it('a tiny corpus gets a small model within maxParamsPerChar, dropout, and a batch that makes an epoch of several batches', () => {
    const r = chooseRecipe(input(5_000));
    expect(r.model).toMatchObject({ model: 'lstm', layers: 2, hidden: 32, dropout: 0.3 });
    expect(paramCount(r.model, 65)).toBeLessThanOrEqual(RECIPE_RULES.maxParamsPerChar * 4500);
    expect(r.batchSize).toBe(Math.floor(4500 / (64 * RECIPE_RULES.minBatchesPerEpoch))); // 3
    expect(r.line).toBe('recipe: lstm 2 x 32, dropout 0.3, batch 3: corpus 5.0 K characters, no --time, ~10 epochs');
    const twelve = chooseRecipe(input(12_000));
    expect(twelve.model).toMatchObject({ layers: 2, hidden: 64, dropout: 0.3 });
    expect(paramCount(twelve.model, 65)).toBeLessThanOrEqual(RECIPE_RULES.maxParamsPerChar * 10_800);
    // the largest rung that fits: the next one up does not
    expect(paramCount({ ...twelve.model, hidden: 128 }, 65)).toBeGreaterThan(RECIPE_RULES.maxParamsPerChar * 10_800);
  });

  it('below the smallest rung the floor is taken; dropout follows the parameters a character', () => {
    expect(chooseRecipe(input(500)).model).toMatchObject({ hidden: 32, layers: 2, dropout: 0.3 });
    // 10 epochs of 2 x 128 on 100 K characters: ~2.7 parameters a training character, exposure 27
    expect(chooseRecipe(input(100_000)).model).toMatchObject({ hidden: 128, layers: 2, dropout: 0.2 });
    // 2 x 256 on 200 K: ~4.9 a character, exposure 49
    expect(chooseRecipe(input(200_000)).model).toMatchObject({ hidden: 256, layers: 2, dropout: 0.3 });
  });

  it('a big corpus gets 2 x 512 without --time or with a long one, not with a short budget', () => {
    expect(chooseRecipe(input(50_000_000)).model).toMatchObject({ hidden: 512, layers: 2, dropout: 0 });
    expect(chooseRecipe(input(50_000_000, { budget: 3600, epochs: 0 })).model).toMatchObject({ hidden: 512 });
    expect(chooseRecipe(input(50_000_000, { budget: 600, epochs: 0 })).model).toMatchObject({ hidden: 256, dropout: 0 });
    expect(chooseRecipe(input(50_000_000, { budget: 600, epochs: 0 })).line).toContain('corpus 50.0 M characters, budget 10m00s, ~0.53 epochs');
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
    expect(large.model).toMatchObject({ hidden: 512, dropout: 0.3 });
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
    // 6 epochs of 2 x 32 (~5.8 parameters a character): exposure 34, dropout 0.3; 3 iterations would need none
    const r = ok(['train', 'small.txt', '--epochs', '6', '--eval-every', '50', '--checkpoint-dir', 'ck'], dir);
    expect(r.stderr).toContain('recipe: lstm 2 x 32, dropout 0.3, batch 3: corpus 5.0 K characters, no --time, ~6.0 epochs');
    expect(r.stderr).toMatch(/model: lstm, 2 x 32,.*dropout 0\.3/);
    const ck = readJSON(join(dir, 'ck', 'latest.json'));
    expect(ck.model).toMatchObject({ model: 'lstm', hidden: 32, layers: 2, dropout: 0.3 });
    expect(ck.config.train.batchSize).toBe(3);
    const more = ok(['train', 'small.txt', '--resume', '--epochs', '7', '--checkpoint-dir', 'ck'], dir);
    expect(more.stderr).not.toContain('recipe:');
    expect(readJSON(join(dir, 'ck', 'latest.json')).model).toMatchObject({ hidden: 32, dropout: 0.3 });
    const given = ok(['train', 'small.txt', '--hidden', '48', '--dropout', '0', '--iters', '3', '--eval-every', '3', '--checkpoint-dir', 'ck2'], dir);
    expect(ok(['train', 'small.txt', '--iters', '3', '--eval-every', '3', '--checkpoint-dir', 'ck3'], dir).stderr).toContain('dropout 0, batch 3: corpus 5.0 K characters, no --time, ~0.13 epochs');
    expect(given.stderr).toContain('recipe: lstm 2 x 48, dropout 0, batch 3: corpus 5.0 K characters, no --time, ~0.13 epochs (--hidden, --dropout as given)');
    expect(readJSON(join(dir, 'ck2', 'latest.json')).model).toMatchObject({ hidden: 48, dropout: 0 });
  });
});
