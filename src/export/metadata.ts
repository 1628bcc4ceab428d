// The metadata an exported file carries so that it stands on its own: the architecture and the
// vocabulary, as JSON strings (safetensors' "__metadata__" is a string -> string map; ONNX's
// metadata_props too). Import reads them back, or takes them from --vocab-from and the shapes.
//   format: "charrnn"
//   model:  {"model": "lstm", "hidden": 128, "layers": 2, "embed": 0, "dropout": 0}
//   vocab:  [10, 32, 33, ...]   code points in id order

import { closeSync, openSync, readSync } from 'node:fs';
import type { ModelConfig } from '../config';
import { FORMAT, readCheckpoint, validateModelConfig } from '../checkpoint/format';
import { readCorpus } from '../data/corpus';
import { UserError } from '../io/errors';

export function exportMetadata(config: ModelConfig, vocab: number[]): Record<string, string> {
  const { model, hidden, layers, embed, dropout } = config;
  return { format: 'charrnn', model: JSON.stringify({ model, hidden, layers, embed, dropout }), vocab: JSON.stringify(vocab) };
}

function parseJSON(text: string, key: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UserError(`${file}: metadata "${key}" is not valid JSON`);
  }
}

/** The architecture in the metadata, or null when the file has none. */
export function metadataConfig(meta: Record<string, string>, file: string): ModelConfig | null {
  if (meta.model === undefined) return null;
  const m = parseJSON(meta.model, 'model', file) as ModelConfig;
  validateModelConfig(m, `${file} (metadata)`);
  return { model: m.model, hidden: m.hidden, layers: m.layers, embed: m.embed, dropout: m.dropout };
}

/** Check a vocabulary: distinct code points; `what` names where it came from. */
export function checkVocab(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.length < 1 || v.some((c) => !Number.isInteger(c) || c < 0 || c > 0x10ffff)) {
    throw new UserError(`${what}: the vocabulary must be a non-empty list of code points`);
  }
  if (new Set(v).size !== v.length) throw new UserError(`${what}: the vocabulary lists a code point twice`);
  return v as number[];
}

/** The vocabulary in the metadata, or null when the file has none. */
export function metadataVocab(meta: Record<string, string>, file: string): number[] | null {
  if (meta.vocab === undefined) return null;
  return checkVocab(parseJSON(meta.vocab, 'vocab', file), `${file} (metadata "vocab")`);
}

/**
 * --vocab-from PATH: the vocabulary of a charrnn checkpoint, or else the one charrnn builds
 * from a text (its sorted distinct code points, as `charrnn train` does).
 */
export function vocabFrom(path: string): number[] {
  let head = '';
  try {
    // sniff the first bytes: a checkpoint starts {"format":"charrnn-checkpoint"; a corpus may be huge
    const fd = openSync(path, 'r');
    const buf = Buffer.alloc(4096);
    head = buf.toString('utf8', 0, readSync(fd, buf, 0, buf.length, 0));
    closeSync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`--vocab-from ${path}: ${code === 'ENOENT' ? 'file not found' : (e as Error).message} (pass a charrnn checkpoint or the training text)`);
  }
  if (head.trimStart().startsWith('{') && head.includes(`"${FORMAT}"`)) return readCheckpoint(path).vocab;
  const corpus = readCorpus([path]);
  return checkVocab([...corpus.vocab.codePoints], `--vocab-from ${path}`);
}
