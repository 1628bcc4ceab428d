// `charrnn eval`: the loss of a checkpoint on a text, in nats/char, bits/char and perplexity,
// over every character (batch 1, the state carried through the whole text).

import { fingerprint, modelFromCheckpoint, readCheckpoint } from '../checkpoint/format';
import { describeChar, readCorpus, splitCorpus, Vocab, type Ids } from '../data/corpus';
import type { EngineConfig } from '../config';
import { UserError } from '../io/errors';
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
const EVAL_T = 128;

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
  if (o.files.length > 0) {
    const corpus = readCorpus(o.files, vocab);
    if (corpus.unknown.size > 0) {
      const n = [...corpus.unknown.values()].reduce((a, b) => a + b, 0);
      const list = [...corpus.unknown.keys()].slice(0, 5).map(describeChar).join(', ');
      warn(`${n} characters outside the model's vocabulary were excluded (${list}${corpus.unknown.size > 5 ? ', ...' : ''})`);
    }
    ids = corpus.ids;
    what = o.files.join(' ');
  } else {
    ids = rebuildValidation(ck, o.checkpoint);
    what = 'the validation split';
  }
  if (ids.length < 2) throw new UserError(`${what} has fewer than 2 characters in the model's vocabulary; nothing to evaluate`);

  const model = modelFromCheckpoint(ck, o.checkpoint, { shapes: [{ B: 1, T: EVAL_T }], kernels: o.kernels, threads: resolveThreads(o.threads) });
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
function rebuildValidation(ck: ReturnType<typeof readCheckpoint>, file: string): Ids {
  const d = ck.data;
  const hint = 'pass a file to evaluate: charrnn eval FILE';
  if (!d || d.sources.length === 0 || d.sources.includes('-')) {
    throw new UserError(`the checkpoint ${file} does not record a corpus file to rebuild its validation split from; ${hint}`);
  }
  let corpus;
  try {
    corpus = readCorpus(d.sources, new Vocab(ck.vocab));
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
