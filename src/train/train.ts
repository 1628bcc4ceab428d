// `charrnn train`: resolve the run's configuration (checkpoint/run.ts), prepare the checkpoint
// folder, read the corpus, build (or restore) the model, and hand them to the loop (run.ts).

import { resolve } from 'node:path';
import { fingerprint, loadTensors } from '../checkpoint/format';
import { prepareCheckpointDir } from '../checkpoint/folder';
import { newRunState, resolveRunConfig, restoreRunState, type RunConfig, type RunFlags, type RunState } from '../checkpoint/run';
import { Batcher } from '../data/batcher';
import { describeUnknown, readCorpus, splitCorpus, Vocab } from '../data/corpus';
import { describeModel } from '../commands/info';
import { describeBackend, resolveThreads } from '../engine/kernels';
import { Model } from '../engine/model';
import { Rng } from '../engine/rng';
import { UserError } from '../io/errors';
import { color, info, warn } from '../io/log';
import { chooseRecipe } from './recipe';
import { describeSchedule } from './schedule';
import { TrainingRun, type RunData } from './run';
import { Trainer } from './step';

export interface TrainOptions extends RunFlags {
  corpus: string[];
  json: boolean;
}

/** The corpus used when none is given. */
export function bundledCorpus(): string {
  // dist/cli.js and src/train/train.ts: the package root is one or two levels up.
  const up = __dirname.endsWith('train') ? ['..', '..'] : ['..'];
  return resolve(__dirname, ...up, 'data', 'tinyshakespeare.txt');
}

export async function runTrain(opts: TrainOptions): Promise<number> {
  let run = resolveRunConfig(opts);
  prepareCheckpointDir(run.train.checkpointDir, { resumeFrom: opts.resume, force: opts.force });
  const t0 = Date.now();
  const data = readData(opts, run);
  const readSeconds = (Date.now() - t0) / 1000;
  let recipe: string | null = null;
  if (!run.checkpoint) ({ run, line: recipe } = fitRecipe(run, data, opts.explicit));
  const cfg = run.train;
  const B = cfg.batchSize;
  const shapes = [{ B, T: cfg.seqLength }];
  if (cfg.sampleEvery > 0) shapes.push({ B: 1, T: 1 });
  const threads = resolveThreads(run.engine.threads);
  const model = new Model(run.model, { config: run.model, vocabSize: data.corpus.vocab.size, shapes, optimizer: run.optim.optimizer, kernels: run.engine.kernels, threads });
  try {
    const rng = new Rng(cfg.seed);
    const trainer = new Trainer(model, new Batcher(data.train, B, cfg.seqLength), run.optim, rng);
    const state = startState(opts, run, trainer, rng);
    const loop = new TrainingRun(run, trainer, state, data, { resumed: !!opts.resume, force: opts.force, json: opts.json });
    announce(opts, run, loop, trainer, data, readSeconds, recipe);
    return await loop.train();
  } finally {
    model.close();
  }
}

/** A new run: the model size, dropout and batch the flags left open, fitted to the corpus and the budget (recipe.ts). */
function fitRecipe(run: RunConfig, data: RunData, explicit: Set<string>): { run: RunConfig; line: string } {
  const { train } = run;
  const r = chooseRecipe({
    chars: data.corpus.ids.length,
    trainChars: data.train.length,
    vocabSize: data.corpus.vocab.size,
    budget: train.time,
    epochs: train.epochs,
    iters: train.iters,
    model: run.model,
    batchSize: train.batchSize,
    seqLength: train.seqLength,
    explicit,
  });
  return { run: { ...run, model: r.model, train: { ...train, batchSize: r.batchSize } }, line: r.line };
}

/** The corpus (the checkpoint's, for --resume without files), checked against the checkpoint, and split. */
function readData(opts: TrainOptions, run: RunConfig): RunData {
  const ck = run.checkpoint;
  const sources = opts.corpus.length > 0 ? opts.corpus : ck?.data && opts.resume ? ck.data.sources : [bundledCorpus()];
  const corpus = readCorpus(sources, ck ? new Vocab(ck.vocab) : undefined);
  if (corpus.unknown.size > 0) {
    throw new UserError(
      `the corpus has characters outside the checkpoint's vocabulary: ${describeUnknown(corpus.unknown)}; train a new model on it instead, or remove them`,
    );
  }
  const fp = fingerprint(corpus.ids);
  if (opts.resume && ck!.data!.fingerprint !== fp) {
    throw new UserError(`the corpus differs from the one the checkpoint was trained on (${ck!.data!.sources.join(' ')}); pass the same files to resume`);
  }
  const { train, val } = splitCorpus(corpus.ids, run.train.valFrac);
  // what the checkpoints record of the corpus (for --resume and `charrnn eval`)
  const record = { sources: sources.map((s) => (s === '-' ? s : resolve(s))), chars: corpus.ids.length, fingerprint: fp, valFrac: run.train.valFrac };
  return { sources, corpus, train, val, record };
}

/** The weights and counters the run starts from: the checkpoint's (--resume), its weights (--init-from), or new. */
function startState(opts: TrainOptions, run: RunConfig, trainer: Trainer, rng: Rng): RunState {
  const ck = run.checkpoint;
  if (ck && opts.resume) return restoreRunState(ck, opts.resume, trainer);
  const { model } = trainer;
  if (ck && opts.initFrom) loadTensors(model.params.t, ck.tensors, ck.model, ck.vocab.length, opts.initFrom);
  else model.init(rng);
  return newRunState(run.optim.lr);
}

/** The start-up summary on stderr, and what --resume took from the flags. */
function announce(opts: TrainOptions, run: RunConfig, loop: TrainingRun, trainer: Trainer, data: RunData, readSeconds: number, recipe: string | null): void {
  const { cfg } = loop;
  const { optim, engine } = run;
  const { corpus } = data;
  const n = (x: number) => x.toLocaleString('en-US');
  const B = trainer.ws.B;
  if (cfg.valFrac > 0 && !loop.doVal) warn(`the validation split (${data.val.length} characters) is too small for --batch-size ${B}; validation is off`);
  if (cfg.patience > 0 && !loop.doVal) warn(`--patience ${cfg.patience} needs a validation split, and there is none; the run stops on its budget only`);
  info(`${color.bold('charrnn train')}: ${data.sources.join(' ')}: ${n(corpus.bytes)} bytes, ${n(corpus.ids.length)} characters, vocabulary ${corpus.vocab.size} (read in ${readSeconds.toFixed(1)} s)`);
  if (recipe) info(recipe);
  info(`model: ${describeModel(run.model)}: ${n(trainer.model.paramCount)} parameters`);
  const sample = loop.evalChars !== null ? ` (${n(loop.evalChars)} an evaluation, all at the end)` : '';
  const val = loop.doVal ? `validation ${n(data.val.length)}${sample}` : 'validation off';
  info(
    `training: ${n(data.train.length)} chars, ${val}; batch ${B} x seq ${trainer.ws.T}, ${trainer.batcher.batchesPerEpoch} batches/epoch; ` +
      `${optim.optimizer} lr ${optim.lr} (${describeSchedule(loop.schedule)}), clip ${optim.clip}${optim.clipNorm > 0 ? ', clip-norm ' + optim.clipNorm : ''}; ` +
      `stop at ${loop.describeBounds()}; kernels ${describeBackend(trainer.model.backend)}; seed ${cfg.seed}` +
      (opts.resume ? `; resuming at iteration ${trainer.iter}` : opts.initFrom ? `; weights from ${opts.initFrom}` : ''),
  );
  for (const c of run.changes) info(c);
}
