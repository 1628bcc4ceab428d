// `charrnn explain TEXT_FILE`: run a checkpoint over a text as `charrnn eval` does and write
// what it saw as one self-contained HTML page (surprise, guesses, neurons, summary), or the
// same data as JSON on stdout with --json.

import { modelFromCheckpoint, readCheckpoint } from '../checkpoint/format';
import { writeFileAtomic } from '../io/atomic';
import { EVAL_T } from '../commands/eval';
import { countUnknown, describeUnknown, readCorpus, Vocab } from '../data/corpus';
import type { EngineConfig } from '../config';
import { resolveThreads } from '../engine/kernels';
import { UserError } from '../io/errors';
import { info, warn } from '../io/log';
import { exitQuietlyOnClosedStdout } from '../io/output';
import { suggestUnits, textFeatures } from './features';
import { renderPage } from './page';
import { jsonDocument, pagePayload, type Context } from './payload';
import { explainIds, type ExplainRun } from './run';

export interface ExplainOptions {
  file: string;
  checkpoint: string;
  /** The page's path; null with --json and no -o: no page. */
  out: string | null;
  chars: number;
  top: number;
  json: boolean;
  kernels: EngineConfig['kernels'];
  threads: number;
}

export async function runExplain(o: ExplainOptions): Promise<number> {
  exitQuietlyOnClosedStdout();
  const ck = readCheckpoint(o.checkpoint);
  const vocab = new Vocab(ck.vocab);
  const corpus = readCorpus([o.file], vocab);
  if (corpus.unknown.size > 0) {
    warn(`${countUnknown(corpus.unknown)} characters outside the model's vocabulary were excluded, as eval excludes them: ${describeUnknown(corpus.unknown)}`);
  }
  const textChars = corpus.ids.length;
  if (textChars > o.chars) {
    warn(
      `${o.file} has ${textChars} characters; explaining the first ${o.chars} ` +
        `(--chars N raises the bound; the page grows with N, a few MB per 20,000 characters at the default model size)`,
    );
  }
  const ids = corpus.ids.subarray(0, Math.min(textChars, o.chars));
  if (ids.length < 2) throw new UserError(`${o.file} has fewer than 2 characters in the model's vocabulary; nothing to explain`);

  const model = modelFromCheckpoint(ck, o.checkpoint, { shapes: [{ B: 1, T: EVAL_T }], kernels: o.kernels, threads: resolveThreads(o.threads) });
  let run: ExplainRun;
  try {
    run = explainIds(model.workspaces[0], ids, o.top);
  } finally {
    model.close();
  }
  const N = ids.length;
  const features = textFeatures(Array.from(ids, (id) => ck.vocab[id]));
  const ctx: Context = {
    source: o.file,
    checkpoint: o.checkpoint,
    model: ck.model,
    vocab: ck.vocab,
    textChars,
    unknown: corpus.unknown,
    features,
    units: suggestUnits(run.states, features, run.H, N),
  };
  if (o.json) process.stdout.write(JSON.stringify(jsonDocument(run, ctx)) + '\n');
  if (o.out !== null) {
    const html = renderPage(pagePayload(run, ctx));
    writeFileAtomic(o.out, html, 'page', 'free space or choose another -o');
    const nats = run.totalNats / run.predicted;
    info(
      `wrote ${o.out} (${(Buffer.byteLength(html) / 1e6).toFixed(1)} MB): ${N} characters, ` +
        `${nats.toFixed(4)} nats/char, ${(nats / Math.LN2).toFixed(4)} bits/char`,
    );
  }
  return 0;
}

/** The command line's values as options: with --json the page is written only when -o is given. */
export function explainOptions(
  file: string,
  o: { checkpoint: string; out: string; chars: number; top: number; json?: boolean; kernels: EngineConfig['kernels']; threads: number },
  explicit: Set<string>,
): ExplainOptions {
  const json = !!o.json;
  return {
    file,
    checkpoint: o.checkpoint,
    out: json && !explicit.has('out') ? null : o.out,
    chars: o.chars,
    top: o.top,
    json,
    kernels: o.kernels,
    threads: o.threads,
  };
}
