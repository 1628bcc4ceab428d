// `charrnn info CHECKPOINT`: what a checkpoint holds, without loading the weights: architecture,
// parameter count, vocabulary, how far it was trained and how well, the configuration, the
// format version. Text for people on stdout (it is the product), or one JSON object with --json.

import { cliName } from '../io/invocation';
import { bestOf, readCheckpoint, type CheckpointJSON } from '../checkpoint/format';
import { kebab, type ModelConfig } from '../config';
import { batchesPerEpoch } from '../data/batcher';
import { validationChars } from '../data/corpus';
import { paramSpecs } from '../engine/model';
import { nativeIsas, nativeUnavailable } from '../engine/kernels/native';
import { exitQuietlyOnClosedStdout } from '../io/output';
import { escapeChar } from '../io/printable';
import { formatDuration } from '../train/report';

export interface InfoOptions {
  checkpoint: string;
  json: boolean;
}

/** Vocabulary characters shown in the text form; the JSON form has them all. */
const VOCAB_SHOWN = 300;

export function countParams(model: ModelConfig, V: number): number {
  return paramSpecs(model, V).reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
}

/** "lstm, 2 x 128, one-hot input, dropout 0", as the training summary says it. */
export function describeModel(m: ModelConfig): string {
  return `${m.model}, ${m.layers} x ${m.hidden}, ${m.embed > 0 ? 'embedding ' + m.embed : 'one-hot input'}, dropout ${m.dropout}`;
}

/** Batches per epoch of a run, from the recorded corpus size and configuration (the text itself is not needed). */
function recordedBatchesPerEpoch(ck: CheckpointJSON): number | null {
  const train = ck.config.train;
  const chars = ck.data?.chars;
  const valFrac = ck.data?.valFrac ?? train?.valFrac;
  if (!train?.batchSize || !train.seqLength || chars === undefined || valFrac === undefined) return null;
  const bpe = batchesPerEpoch(chars - validationChars(chars, valFrac), train.batchSize, train.seqLength);
  return bpe >= 1 ? bpe : null;
}

/** The epoch a checkpoint's training reached, fractional (null without training state). */
export function recordedEpoch(ck: CheckpointJSON): number | null {
  const st = ck.training;
  const bpe = recordedBatchesPerEpoch(ck);
  return st ? (bpe ? st.epoch + st.batchPos / bpe : st.epoch) : null;
}

/** The kernels `--kernels auto` picks on this machine, and why when it is not native. */
export function kernelsHere(): { auto: 'native' | 'wasm'; isa: string | null; reason: string | null } {
  const reason = nativeUnavailable();
  return reason ? { auto: 'wasm', isa: null, reason } : { auto: 'native', isa: nativeIsas()[0] ?? null, reason: null };
}

export function checkpointInfo(ck: CheckpointJSON, file: string) {
  const V = ck.vocab.length;
  const st = ck.training;
  const bpe = recordedBatchesPerEpoch(ck);
  const best = bestOf(ck.history);
  const lastTrain = ck.history.train[ck.history.train.length - 1];
  const lastVal = ck.history.val[ck.history.val.length - 1];
  return {
    file,
    format: ck.format,
    version: ck.version,
    created: typeof ck.created === 'string' ? ck.created : null,
    model: ck.model,
    parameters: countParams(ck.model, V),
    vocab: { size: V, chars: ck.vocab.map((c) => String.fromCodePoint(c)).join('') },
    training: st
      ? {
          iter: st.iter,
          epoch: recordedEpoch(ck)!,
          charsSeen: st.charsSeen,
          seconds: st.elapsed,
          lr: st.lr,
          bestValLoss: st.bestValLoss,
          evalsSinceBest: st.evalsSinceBest,
        }
      : null,
    resumable: !!(st && ck.optimizer && ck.data),
    optimizer: ck.optimizer ? { kind: ck.optimizer.kind, step: ck.optimizer.step } : null,
    history: {
      trainPoints: ck.history.train.length,
      valPoints: ck.history.val.length,
      lastTrainLoss: lastTrain ? lastTrain[2] : null,
      lastValLoss: lastVal ? lastVal[2] : null,
      lastValIter: lastVal ? lastVal[0] : null,
      bestValLoss: best?.loss ?? null,
      bestValIter: best?.iter ?? null,
    },
    data: ck.data,
    config: ck.config,
    kernels: kernelsHere(),
  };
}

export type CheckpointInfo = ReturnType<typeof checkpointInfo>;

/** The vocabulary as a quoted string, invisibles and quotes escaped: "\n !$&',-.3:;?AB...". */
function showVocab(chars: string): string {
  const cps = Array.from(chars);
  const shown = cps.slice(0, VOCAB_SHOWN).map((c) => (c === '"' || c === '\\' ? '\\' + c : escapeChar(c)));
  return `"${shown.join('')}"${cps.length > VOCAB_SHOWN ? ` and ${(cps.length - VOCAB_SHOWN).toLocaleString('en-US')} more` : ''}`;
}

const num = (n: number) => n.toLocaleString('en-US');
const loss = (l: number) => `${l.toFixed(4)} nats/char (${(l / Math.LN2).toFixed(3)} bits/char)`;

/** key value pairs, kebab-case like the flags, wrapped to lines of about `width`. */
function showConfig(obj: Record<string, unknown>, indent: string, width = 100): string[] {
  const items = Object.entries(obj).map(([k, v]) => `${kebab(k)} ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const lines: string[] = [];
  let line = '';
  for (const it of items) {
    if (line && indent.length + line.length + it.length + 2 > width) {
      lines.push(indent + line + ',');
      line = '';
    }
    line += (line ? ', ' : '') + it;
  }
  if (line) lines.push(indent + line);
  return lines;
}

export function formatInfo(i: CheckpointInfo): string {
  const rows: [string, string][] = [];
  rows.push(['model', describeModel(i.model)]);
  rows.push(['parameters', num(i.parameters)]);
  rows.push(['vocabulary', `${i.vocab.size} characters: ${showVocab(i.vocab.chars)}`]);
  if (i.training) {
    const t = i.training;
    rows.push([
      'training',
      `iteration ${num(t.iter)}, epoch ${t.epoch.toFixed(2)}, ${num(t.charsSeen)} characters seen, ` +
        `${formatDuration(t.seconds)} of training, learning rate ${t.lr.toPrecision(3)}`,
    ]);
  } else rows.push(['training', 'no training state (weights only)']);
  const h = i.history;
  const losses: string[] = [];
  if (h.lastTrainLoss !== null) losses.push(`training ${h.lastTrainLoss.toFixed(4)} (last)`);
  if (h.lastValLoss !== null) losses.push(`validation ${h.lastValLoss.toFixed(4)} (iteration ${num(h.lastValIter!)})`);
  if (h.bestValLoss !== null) {
    const since = i.training ? `, ${i.training.evalsSinceBest} evaluation${i.training.evalsSinceBest === 1 ? '' : 's'} ago` : '';
    losses.push(`best validation ${loss(h.bestValLoss)} at iteration ${num(h.bestValIter!)}${since}`);
  }
  rows.push(['loss', losses.length ? losses.join('; ') : 'no history']);
  rows.push(['history', `${num(h.trainPoints)} training and ${num(h.valPoints)} validation points (${cliName()} plot draws them)`]);
  if (i.data) {
    rows.push(['data', `${i.data.sources.join(' ')}: ${num(i.data.chars)} characters, the last ${+(i.data.valFrac * 100).toFixed(4)}% for validation`]);
  }
  rows.push(['resumable', i.resumable ? `yes (${i.optimizer!.kind}, step ${num(i.optimizer!.step)})` : 'no: use it with sample, eval or train --init-from']);
  rows.push(['format', `${i.format} version ${i.version}${i.created ? `, written ${i.created}` : ''}`]);
  const k = i.kernels;
  rows.push(['kernels', k.auto === 'native' ? `native ${k.isa} on this machine (--kernels auto)` : `wasm on this machine (--kernels auto): ${k.reason}`]);
  const w = rows.reduce((m, r) => Math.max(m, r[0].length), 0) + 2;
  const out = [`${i.file}`, ...rows.map(([k, v]) => '  ' + k.padEnd(w) + v)];
  const cfg = i.config as Record<string, unknown>;
  const groups = Object.entries(cfg).filter(([, v]) => v && typeof v === 'object') as [string, Record<string, unknown>][];
  if (groups.length) {
    out.push('  configuration');
    for (const [name, obj] of groups) {
      const lines = showConfig(obj, '    ' + ' '.repeat(w));
      out.push('    ' + name.padEnd(w) + lines[0].trimStart(), ...lines.slice(1));
    }
  }
  return out.join('\n') + '\n';
}

export async function runInfo(o: InfoOptions): Promise<number> {
  exitQuietlyOnClosedStdout();
  const ck = readCheckpoint(o.checkpoint);
  const i = checkpointInfo(ck, o.checkpoint);
  process.stdout.write(o.json ? JSON.stringify(i) + '\n' : formatInfo(i));
  return 0;
}
