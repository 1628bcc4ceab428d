// The checkpoint: one JSON file (docs/checkpoint-format.md specifies it completely).
// Tensors are little-endian float32 in base64: exact (bit for bit) and 4/3 of the raw size.
// Files are written atomically (src/io/atomic.ts).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Vec } from '../engine/arena';
import type { EngineConfig, ModelConfig, OptimConfig, OptimizerKind, TrainConfig } from '../config';
import { validateDocument, validateModelSection } from './schema';
import { cliName } from '../io/invocation';
import { UserError } from '../io/errors';
import { Model, paramSpecs, type ModelOptions } from '../engine/model';
import type { RngState } from '../engine/rng';

export const FORMAT = 'charrnn-checkpoint';
export const VERSION = 1;

export interface TensorJSON {
  shape: number[];
  dtype: 'float32';
  encoding: 'base64';
  data: string;
}

export interface HistoryJSON {
  /** [iteration, characters seen, mean training loss (nats/char) since the previous point] */
  train: [number, number, number][];
  /** [iteration, characters seen, validation loss (nats/char)] */
  val: [number, number, number][];
}

/** Everything needed to continue a run exactly where it stopped. */
export interface TrainingStateJSON {
  iter: number;
  epoch: number;
  /** Index of the next batch within the epoch. */
  batchPos: number;
  rng: RngState;
  /** The hidden (and cell) state carried into the next batch, (L, B, H[, 2]) flat. */
  hidden: TensorJSON;
  bestValLoss: number | null;
  /** Evaluations since the best validation loss (for --patience). */
  evalsSinceBest: number;
  /** Seconds spent training so far, over all sessions of the run. */
  elapsed: number;
  charsSeen: number;
  /** Learning rate in force after the last update. */
  lr: number;
  /** Sum and count of the training losses since the last history point (optional). */
  pendingLoss?: [number, number];
  /** Factor on the learning rate left by --recover rollbacks (optional, 1 when absent). */
  lrScale?: number;
}

export interface DataJSON {
  /** Corpus files as given (resolved to absolute paths), '-' for stdin. */
  sources: string[];
  /** Number of characters (code points) of the whole corpus. */
  chars: number;
  /** FNV-1a hash of the corpus ids, to know the same text is back. */
  fingerprint: string;
  valFrac: number;
}

export interface CheckpointJSON {
  format: typeof FORMAT;
  version: number;
  /** ISO date of writing (null when a checkpoint written elsewhere has none). */
  created: string | null;
  model: ModelConfig;
  /** The full resolved training configuration (train flags), for the record and for resuming. */
  config: { train?: Partial<TrainConfig>; optim?: Partial<OptimConfig>; engine?: Partial<EngineConfig> };
  /** Code points in id order. */
  vocab: number[];
  tensors: Record<string, TensorJSON>;
  optimizer: { kind: OptimizerKind; step: number; slots: Record<string, TensorJSON>[] } | null;
  training: TrainingStateJSON | null;
  data: DataJSON | null;
  history: HistoryJSON;
}

export function encodeTensor(v: ArrayLike<number>, shape: number[]): TensorJSON {
  const f = v instanceof Float32Array ? v : Float32Array.from(v);
  const bytes = Buffer.from(f.buffer, f.byteOffset, f.byteLength);
  return { shape, dtype: 'float32', encoding: 'base64', data: bytes.toString('base64') };
}

export function decodeTensor(t: TensorJSON, name: string, file: string): Float32Array {
  if (!t || typeof t.data !== 'string' || !Array.isArray(t.shape)) {
    throw new UserError(`checkpoint ${file}: tensor ${name} is malformed (expected {shape, dtype, encoding, data})`);
  }
  if (t.dtype !== 'float32' || t.encoding !== 'base64') {
    throw new UserError(`checkpoint ${file}: tensor ${name} has dtype ${t.dtype}/${t.encoding}; this version reads float32/base64`);
  }
  if (t.data.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(t.data)) {
    throw new UserError(`checkpoint ${file}: tensor ${name} is not valid base64 (truncated?)`);
  }
  const buf = Buffer.from(t.data, 'base64');
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (buf.length !== n * 4) {
    throw new UserError(`checkpoint ${file}: tensor ${name} holds ${buf.length / 4} values but its shape [${t.shape}] needs ${n}`);
  }
  const out = new Float32Array(n);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

/** The named tensors of a flat buffer laid out by `views`, with their shapes from the model. */
export function encodeTensors(views: Record<string, Vec>, model: ModelConfig, V: number): Record<string, TensorJSON> {
  const out: Record<string, TensorJSON> = {};
  for (const s of paramSpecs(model, V)) out[s.name] = encodeTensor(views[s.name], s.shape);
  return out;
}

/**
 * Copy the tensors of a checkpoint into views, checking that every expected tensor is there with
 * the right shape and finite values.
 */
export function loadTensors(
  views: Record<string, Vec>,
  tensors: Record<string, TensorJSON>,
  model: ModelConfig,
  V: number,
  file: string,
): void {
  if (!tensors || typeof tensors !== 'object') throw new UserError(`checkpoint ${file}: no tensors`);
  for (const s of paramSpecs(model, V)) {
    const t = tensors[s.name];
    if (!t) throw new UserError(`checkpoint ${file}: tensor ${s.name} is missing`);
    if (t.shape?.join(',') !== s.shape.join(',')) {
      throw new UserError(`checkpoint ${file}: tensor ${s.name} has shape [${t.shape}], the model needs [${s.shape}]`);
    }
    const v = decodeTensor(t, s.name, file);
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i])) throw new UserError(`checkpoint ${file}: tensor ${s.name} holds a non-finite value (${v[i]}) at index ${i}; use an earlier checkpoint`);
    }
    views[s.name].set(v);
  }
}

/** Read and validate a checkpoint file (structure and configuration; tensors on load). */
/** `flag` is how the command that reads it takes another path, for the not-found hint. */
export function readCheckpoint(file: string, flag = '--checkpoint PATH'): CheckpointJSON {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`checkpoint not found: ${file} (train one with: ${cliName()} train, or pass ${flag})`);
    if (code === 'EISDIR') throw new UserError(`checkpoint ${file} is a directory; pass the .json file, e.g. ${join(file, 'latest.json')}`);
    throw new UserError(`cannot read checkpoint ${file}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new UserError(`checkpoint ${file} is not valid JSON (truncated or corrupted?); use another checkpoint, e.g. best.json`);
  }
  checkFormat(doc, file);
  let ck;
  try {
    ck = validateDocument(doc);
  } catch (e) {
    throw new UserError(`checkpoint ${file}: ${(e as Error).message}`);
  }
  if (new Set(ck.vocab).size !== ck.vocab.length) throw new UserError(`checkpoint ${file}: vocab lists a code point twice`);
  // Only format, version, model, vocab and tensors are required: the run's record and training
  // state may be absent (a checkpoint written by another tool); consumers see null / empty.
  return {
    ...ck,
    format: FORMAT,
    created: ck.created ?? null,
    config: ck.config ?? {},
    optimizer: ck.optimizer ?? null,
    training: ck.training ?? null,
    data: ck.data ?? null,
    history: (ck.history ?? { train: [], val: [] }) as HistoryJSON,
  };
}

/** Whether the document is a charrnn checkpoint at all, and of the version this code reads. */
function checkFormat(doc: unknown, file: string): void {
  const notOurs = (why: string) => new UserError(`${file} is not a charrnn checkpoint (${why}, expected "format": "${FORMAT}")`);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw notOurs(`a JSON ${doc === null ? 'null' : Array.isArray(doc) ? 'array' : typeof doc}, not an object`);
  const format = (doc as { format?: unknown }).format;
  if (format === undefined) throw notOurs('it has no "format" key');
  if (format !== FORMAT) throw notOurs(`"format" is ${JSON.stringify(format)}`);
  const version = (doc as { version?: unknown }).version;
  if (version !== VERSION) throw new UserError(`checkpoint ${file} is format version ${JSON.stringify(version)}; this charrnn reads version ${VERSION}`);
}

/** The best validation point of a history: the lowest loss, the first iteration that reached it. */
export function bestOf(h: HistoryJSON): { loss: number; iter: number } | null {
  let best: { loss: number; iter: number } | null = null;
  for (const [iter, , loss] of h.val) if (Number.isFinite(loss) && (best === null || loss < best.loss)) best = { loss, iter };
  return best;
}

/** Check a model configuration from outside a checkpoint; `what` names where it came from. */
export function validateModelConfig(m: unknown, what: string): ModelConfig {
  try {
    return validateModelSection(m);
  } catch (e) {
    throw new UserError(`${what}: ${(e as Error).message}`);
  }
}

/** FNV-1a over the ids: cheap, and enough to tell whether the same corpus is back. */
export function fingerprint(ids: ArrayLike<number>): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < ids.length; i++) {
    h ^= ids[i];
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0') + ':' + ids.length;
}

/** Build a model from a checkpoint's architecture and load its weights. */
export function modelFromCheckpoint(ck: CheckpointJSON, file: string, opts: Omit<ModelOptions, 'config' | 'vocabSize'>): Model {
  const model = new Model(ck.model, { ...opts, config: ck.model, vocabSize: ck.vocab.length });
  try {
    loadTensors(model.params.t, ck.tensors, ck.model, ck.vocab.length, file);
  } catch (e) {
    model.close();
    throw e;
  }
  return model;
}
