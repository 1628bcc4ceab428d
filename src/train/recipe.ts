// Defaults that fit the corpus and the budget. A new run (not --resume, not --init-from) takes
// every value the user did not give from these rules: the model size (hidden, layers), dropout
// and the batch size; a flag given always wins. The rules are guard rails at the extremes until
// the recipe study (issue 12) measures better ones: a corpus of Tiny Shakespeare's size (~1.1 M
// characters) without --time gets exactly the defaults of config.ts.

import { kebab, MODEL_DEFAULTS, TRAIN_DEFAULTS, type ModelConfig } from '../config';
import { ParamLayout } from '../engine/params';
import { paramSpecs } from '../engine/model';
import { formatDuration } from './report';

/** Every threshold of the rules, one place. */
export const RECIPE_RULES = {
  /** The sizes a run may get, smallest first; the largest that the rules allow is taken. */
  ladder: [
    { layers: 2, hidden: 32 }, // the floor: a corpus of a few KB gets ~20 k parameters
    { layers: 2, hidden: 64 },
    { layers: MODEL_DEFAULTS.layers, hidden: MODEL_DEFAULTS.hidden }, // today's default, 2 x 128
    { layers: 2, hidden: 256, big: true }, // only for a big corpus with the time to train it
  ] as { layers: number; hidden: number; big?: boolean }[],
  // A model with more parameters than 8 x the training characters memorises the text: 2 x 128
  // (~240 k parameters) needs ~30 K characters, 2 x 64 ~8 K (Tiny Shakespeare has 1 M)
  maxParamsPerChar: 8,
  // A rung marked big needs this much text (10 x Tiny Shakespeare: 2 x 128 no longer sees it all
  // in a 10-epoch run's worth of updates) ...
  bigMinTrainChars: 10_000_000,
  // ... and no --time, or at least this long a budget (a bigger model trains more slowly)
  bigMinBudget: 30 * 60,
  // Dropout, by parameters a training character, the first row that applies (default 0 below):
  // Tiny Shakespeare's 2 x 128 has 0.24 and barely overfits in 10 epochs
  dropout: [
    { minParamsPerChar: 2, dropout: 0.2 }, // twice as many parameters as characters: memorises within a few epochs
    { minParamsPerChar: 1, dropout: 0.1 }, // as many: overfits before the default ten epochs end
  ],
  // An epoch of at least 20 batches: B 50 x T 50 on 5 KB would be one batch an epoch (ten
  // updates in the default ten epochs); the batch shrinks instead, down to 1
  minBatchesPerEpoch: 20,
};

/** What the rules read. */
export interface RecipeInput {
  /** Characters of the whole corpus, and of its training split. */
  chars: number;
  trainChars: number;
  vocabSize: number;
  /** --time in seconds; 0 = none. */
  budget: number;
  /** The flags' values (defaults where not given), and which were given. */
  model: ModelConfig;
  batchSize: number;
  seqLength: number;
  explicit: Set<string>;
}

export interface Recipe {
  model: ModelConfig;
  batchSize: number;
  /** "recipe: lstm 2 x 64, dropout 0.2, batch 10: corpus 12 K characters, no --time (--hidden given)" */
  line: string;
}

/** The parameters of a model of `config` over `V` characters. */
export function paramCount(config: ModelConfig, V: number): number {
  return new ParamLayout(paramSpecs(config, V)).count;
}

/** The run's recipe: the rules' value for each of hidden, layers, dropout and batch size the user did not give. */
export function chooseRecipe(r: RecipeInput): Recipe {
  const given = (k: string) => r.explicit.has(k);
  const rules = RECIPE_RULES;
  const bigAllowed = r.trainChars >= rules.bigMinTrainChars && (r.budget === 0 || r.budget >= rules.bigMinBudget);
  let model = { ...r.model };
  if (!given('hidden') || !given('layers')) {
    const sized = (rung: { layers: number; hidden: number }) => ({
      ...model,
      hidden: given('hidden') ? model.hidden : rung.hidden,
      layers: given('layers') ? model.layers : rung.layers,
    });
    const fits = rules.ladder.filter((rung) => (!rung.big || bigAllowed) && paramCount(sized(rung), r.vocabSize) <= rules.maxParamsPerChar * r.trainChars);
    model = sized(fits.length ? fits[fits.length - 1] : rules.ladder[0]);
  }
  const perChar = paramCount(model, r.vocabSize) / Math.max(1, r.trainChars);
  if (!given('dropout')) model.dropout = rules.dropout.find((row) => perChar >= row.minParamsPerChar)?.dropout ?? MODEL_DEFAULTS.dropout;
  const batchSize = given('batchSize') ? r.batchSize : Math.max(1, Math.min(r.batchSize, Math.floor(r.trainChars / (r.seqLength * rules.minBatchesPerEpoch))));
  return { model, batchSize, line: describe(r, model, batchSize) };
}

/** Characters as "5.0 K characters", "1.1 M characters". */
function size(chars: number): string {
  if (chars < 1000) return `${chars} characters`;
  if (chars < 1e6) return `${(chars / 1e3).toFixed(1)} K characters`;
  return `${(chars / 1e6).toFixed(1)} M characters`;
}

function describe(r: RecipeInput, m: ModelConfig, batchSize: number): string {
  const flags = ['hidden', 'layers', 'dropout', 'batchSize'].filter((k) => r.explicit.has(k)).map((k) => '--' + kebab(k));
  const same = m.hidden === MODEL_DEFAULTS.hidden && m.layers === MODEL_DEFAULTS.layers && m.dropout === MODEL_DEFAULTS.dropout && batchSize === TRAIN_DEFAULTS.batchSize;
  const why = `corpus ${size(r.chars)}, ${r.budget > 0 ? `budget ${formatDuration(r.budget)}` : 'no --time'}`;
  const note = flags.length ? ` (${flags.join(', ')} as given)` : same ? ' (the defaults)' : '';
  return `recipe: ${m.model} ${m.layers} x ${m.hidden}, dropout ${m.dropout}, batch ${batchSize}: ${why}${note}`;
}
