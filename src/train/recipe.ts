// Defaults that fit the corpus and the budget. A new run (not --resume, not --init-from) takes
// every value the user did not give from these rules: the model size (hidden, layers), dropout
// and the batch size; a flag given always wins. The recipe study (docs/recipes.md) measured the
// defaults on Tiny Shakespeare (~1 M training characters): 2 x 256 with no dropout for runs of a
// few epochs, dropout once a run makes many passes over the text. The rules carry that to other
// corpus sizes and budgets through two numbers: parameters a training character (how easily the
// model memorises the text) and the passes the run will make over it.

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
    { layers: 2, hidden: 128 }, // char-rnn's size
    { layers: MODEL_DEFAULTS.layers, hidden: MODEL_DEFAULTS.hidden }, // the default, 2 x 256: the study's best at 3 minutes and for 10 epochs
    // with a --time budget that buys it minBudgetPasses. 10 minutes of Tiny Shakespeare buy ~11:
    // 1.443 against 1.465 for 2 x 256; 10 minutes of the study's JavaScript corpus ~9.9: 1.363
    // against 1.332, so not there (3 minutes of Tiny Shakespeare buy ~3.3 and keep 2 x 256)
    { layers: 2, hidden: 384, minBudgetPasses: 10.5 },
    { layers: 2, hidden: 512, big: true }, // only for a big corpus with the time to train it (not measured by the study)
  ] as { layers: number; hidden: number; big?: boolean; minBudgetPasses?: number }[],
  // A model with more parameters than 8 x the training characters memorises the text: 2 x 256
  // (~870 k parameters) needs ~110 K characters, 2 x 64 ~8 K (Tiny Shakespeare has 1 M)
  maxParamsPerChar: 8,
  // A rung marked big needs this much text (10 x Tiny Shakespeare) ...
  bigMinTrainChars: 10_000_000,
  // ... and no --time, or at least this long a budget (a bigger model trains more slowly)
  bigMinBudget: 30 * 60,
  // The passes a --time budget buys: the native kernels on 2 cores train about 3.5e10 / P
  // characters a second for a model of P parameters (2 x 256: 40,000; 2 x 128 one-hot: 140,000)
  paramCharsPerSecond: 3.5e10,
  // Dropout by exposure = passes over the text x parameters a training character, the first row
  // that applies (none below). Tiny Shakespeare, 2 x 256 (0.87 a character): 3 minutes are ~8
  // passes (exposure 7, best without dropout: 1.492 against 1.509 with 0.1); the default 10 epochs
  // 8.7; 10 minutes take 2 x 384 (1.9 a character) for ~11 passes (exposure 21: 0.2)
  dropout: [
    { minExposure: 30, dropout: 0.3 },
    { minExposure: 12, dropout: 0.2 },
  ],
  // A run with no bound but a patience or Ctrl-C: plan as for the default epochs
  unboundedEpochs: TRAIN_DEFAULTS.epochs,
  // An epoch of at least 20 batches: B 32 x T 64 on 5 KB would be one batch an epoch (ten
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
  /** The run's other bounds: --epochs and --iters (0 = none). */
  epochs: number;
  iters: number;
  /** The flags' values (defaults where not given), and which were given. */
  model: ModelConfig;
  batchSize: number;
  seqLength: number;
  explicit: Set<string>;
}

export interface Recipe {
  model: ModelConfig;
  batchSize: number;
  /** "recipe: lstm 2 x 64, dropout 0.2, batch 10: corpus 12.0 K characters, no --time, ~10 epochs (--hidden as given)" */
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
  const batchSize = given('batchSize') ? r.batchSize : Math.max(1, Math.min(r.batchSize, Math.floor(r.trainChars / (r.seqLength * rules.minBatchesPerEpoch))));
  const bigAllowed = r.trainChars >= rules.bigMinTrainChars && (r.budget === 0 || r.budget >= rules.bigMinBudget);
  let model = { ...r.model };
  if (!given('hidden') || !given('layers')) {
    const sized = (rung: { layers: number; hidden: number }) => ({
      ...model,
      hidden: given('hidden') ? model.hidden : rung.hidden,
      layers: given('layers') ? model.layers : rung.layers,
    });
    const fits = rules.ladder.filter((rung) => {
      const P = paramCount(sized(rung), r.vocabSize);
      if (rung.big && !bigAllowed) return false;
      // a rung that needs time: only a --time budget that buys it the passes (an --epochs or --iters bound that comes first counts)
      if (rung.minBudgetPasses && !(r.budget > 0 && plannedPasses(r, P, batchSize) >= rung.minBudgetPasses)) return false;
      return P <= rules.maxParamsPerChar * r.trainChars;
    });
    model = sized(fits.length ? fits[fits.length - 1] : rules.ladder[0]);
  }
  const params = paramCount(model, r.vocabSize);
  const passes = plannedPasses(r, params, batchSize);
  const exposure = passes * (params / Math.max(1, r.trainChars));
  if (!given('dropout')) model.dropout = rules.dropout.find((row) => exposure >= row.minExposure)?.dropout ?? MODEL_DEFAULTS.dropout;
  return { model, batchSize, line: describe(r, model, batchSize, passes) };
}

/** The passes over the training text the run's first bound allows (--time at the nominal speed). */
export function plannedPasses(r: RecipeInput, params: number, batchSize: number): number {
  const train = Math.max(1, r.trainChars);
  const bounds: number[] = [];
  if (r.epochs > 0) bounds.push(r.epochs);
  if (r.iters > 0) bounds.push((r.iters * batchSize * r.seqLength) / train);
  if (r.budget > 0) bounds.push((r.budget * RECIPE_RULES.paramCharsPerSecond) / params / train);
  return bounds.length ? Math.min(...bounds) : RECIPE_RULES.unboundedEpochs;
}

/** Characters as "5.0 K characters", "1.1 M characters". */
function size(chars: number): string {
  if (chars < 1000) return `${chars} characters`;
  if (chars < 1e6) return `${(chars / 1e3).toFixed(1)} K characters`;
  return `${(chars / 1e6).toFixed(1)} M characters`;
}

function describe(r: RecipeInput, m: ModelConfig, batchSize: number, passes: number): string {
  const flags = ['hidden', 'layers', 'dropout', 'batchSize'].filter((k) => r.explicit.has(k)).map((k) => '--' + kebab(k));
  const same = m.hidden === MODEL_DEFAULTS.hidden && m.layers === MODEL_DEFAULTS.layers && m.dropout === MODEL_DEFAULTS.dropout && batchSize === TRAIN_DEFAULTS.batchSize;
  const epochs = passes >= 10 ? passes.toFixed(0) : passes.toPrecision(2);
  const why = `corpus ${size(r.chars)}, ${r.budget > 0 ? `budget ${formatDuration(r.budget)}` : 'no --time'}, ~${epochs} epochs`;
  const note = flags.length ? ` (${flags.join(', ')} as given)` : same ? ' (the defaults)' : '';
  return `recipe: ${m.model} ${m.layers} x ${m.hidden}, dropout ${m.dropout}, batch ${batchSize}: ${why}${note}`;
}
