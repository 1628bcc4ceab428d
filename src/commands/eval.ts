// `charrnn eval`: the loss of a checkpoint on a text, in nats/char, bits/char and perplexity.
// A file is read as one stream, the state carried through the whole text, every character but
// the first predicted. The checkpoint's own validation split is read as training reads it at its
// final evaluation: cut into --batch-size streams (train/evalset.ts), so the number is the one
// training printed (each stream's first character goes unpredicted and its state starts at zero,
// which costs a little: one stream over the same text gives a slightly lower loss).

import { cliName } from '../io/invocation';
import { fingerprint, modelFromCheckpoint, readCheckpoint } from '../checkpoint/format';
import { countUnknown, describeUnknown, readCorpus, splitCorpus, Vocab, type Ids } from '../data/corpus';
import type { EngineConfig } from '../config';
import { UserError } from '../io/errors';
import type { InputNames } from '../io/files';
import { resolveThreads } from '../engine/kernels';
import { warn } from '../io/log';
import { exitQuietlyOnClosedStdout } from '../io/output';
import { evaluateText } from '../train/step';

export interface EvalOptions {
  files: string[];
  checkpoint: string;
  json: boolean;
  kernels: EngineConfig['kernels'];
  threads: number;
}

/** Steps per chunk: long enough for the big input products to pay, the state carried anyway. */
export const EVAL_T = 128;

/** How errors name the files to evaluate (not "corpus": they need not be what the model was trained on). */
const EVAL_FILE: InputNames = {
  what: 'file',
  missingHint: "pass an existing UTF-8 text file, or no file for the checkpoint's validation split",
  directoryHint: (path) => `pass the text files in it, e.g. ${path}/*.txt`,
};

export interface EvalResult {
  chars: number;
  natsPerChar: number;
  bitsPerChar: number;
  perplexity: number;
}

export async function runEval(o: EvalOptions): Promise<number> {
  exitQuietlyOnClosedStdout();
  const ck = readCheckpoint(o.checkpoint);
  const vocab = new Vocab(ck.vocab);
  let ids: Ids;
  let what: string;
  let streams = 1;
  if (o.files.length > 0) {
    const corpus = readCorpus(o.files, vocab, EVAL_FILE);
    if (corpus.unknown.size > 0) {
      warn(`${countUnknown(corpus.unknown)} characters outside the model's vocabulary were excluded: ${describeUnknown(corpus.unknown)}`);
    }
    ids = corpus.ids;
    what = o.files.join(' ');
  } else {
    ids = rebuildValidation(ck, o.checkpoint, vocab);
    // as the run evaluated it, so the numbers agree
    streams = Math.max(1, Math.min(ck.config.train?.batchSize ?? 1, Math.floor((ids.length - 1) / 2)));
    what = `the validation split (${streams} stream${streams === 1 ? '' : 's'}, as training evaluates it)`;
  }
  if (ids.length < 2) throw new UserError(`${what} has fewer than 2 characters in the model's vocabulary; nothing to evaluate`);

  const model = modelFromCheckpoint(ck, o.checkpoint, { shapes: [{ B: streams, T: EVAL_T }], kernels: o.kernels, threads: resolveThreads(o.threads) });
  let r: { loss: number; count: number };
  try {
    r = evaluateText(model.workspaces[0], ids);
  } finally {
    model.close();
  }
  const res: EvalResult = { chars: r.count, natsPerChar: r.loss, bitsPerChar: r.loss / Math.LN2, perplexity: Math.exp(r.loss) };
  if (o.json) process.stdout.write(JSON.stringify(res) + '\n');
  else {
    process.stdout.write(
      `${what}: ${res.chars} characters predicted\n` +
        `loss ${res.natsPerChar.toFixed(4)} nats/char, ${res.bitsPerChar.toFixed(4)} bits/char, perplexity ${res.perplexity.toFixed(3)}\n`,
    );
  }
  return 0;
}

/** The checkpoint's validation split, from its recorded sources, if they are still the same text. */
function rebuildValidation(ck: ReturnType<typeof readCheckpoint>, file: string, vocab: Vocab): Ids {
  const d = ck.data;
  const hint = `pass a file to evaluate: ${cliName()} eval FILE`;
  if (!d || d.sources.length === 0 || d.sources.includes('-')) {
    throw new UserError(`the checkpoint ${file} does not record a corpus file to rebuild its validation split from; ${hint}`);
  }
  let corpus;
  try {
    corpus = readCorpus(d.sources, vocab);
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`cannot rebuild the validation split: ${e.message}; ${hint}`);
    throw e;
  }
  if (fingerprint(corpus.ids) !== d.fingerprint) {
    throw new UserError(`the corpus ${d.sources.join(' ')} changed since the checkpoint was trained; ${hint}`);
  }
  const { val } = splitCorpus(corpus.ids, d.valFrac);
  if (val.length < 2) throw new UserError(`the checkpoint's run had no validation split (--val-frac ${d.valFrac}); ${hint}`);
  return val;
}
