// `charrnn export` and `charrnn import`: a checkpoint to a safetensors file in PyTorch's layout
// or to a one-step ONNX graph, and a safetensors state dict back to a checkpoint. The option
// checks live here (cli/export.ts only declares the flags); docs/export-formats.md has the layouts.

import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { FORMAT, VERSION, encodeTensor, loadTensors, readCheckpoint, type CheckpointJSON } from '../checkpoint/format';
import { writeFileAtomic } from '../io/atomic';
import type { ModelConfig } from '../config';
import { paramSpecs } from '../engine/model';
import { UserError } from '../io/errors';
import { info } from '../io/log';
import { exportMetadata, metadataConfig, metadataVocab, vocabFrom } from './metadata';
import { encodeOnnxStep } from './onnx';
import { decodeSafetensors, encodeSafetensors } from './safetensors';
import { fromTorch, inferConfig, toTorch } from './torch-layout';

export const EXPORT_FORMATS = ['safetensors', 'onnx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  checkpoint: string;
  format: ExportFormat;
  out: string;
}

export interface ImportOptions {
  file: string;
  out: string;
  vocabFrom: string | null;
}

/** The export options from the command line: --format (or the extension of -o), -o required. */
export function exportOptions(checkpoint: string, flags: { format?: ExportFormat; out?: string }): ExportOptions {
  if (!flags.out) throw new UserError('export needs an output file: -o FILE (e.g. -o model.safetensors)');
  const ext = extname(flags.out).slice(1).toLowerCase();
  const format = flags.format ?? EXPORT_FORMATS.find((f) => f === ext);
  if (!format) throw new UserError(`which format? pass --format ${EXPORT_FORMATS.join('|')} (-o ${flags.out} does not end in .safetensors or .onnx)`);
  if (flags.out === '-' && process.stdout.isTTY) throw new UserError('-o - would write binary data to the terminal; redirect stdout or name a file');
  return { checkpoint, format, out: flags.out };
}

/** The import options from the command line: -o required. */
export function importOptions(file: string, flags: { out?: string; vocabFrom?: string }): ImportOptions {
  if (!flags.out) throw new UserError('import needs the checkpoint to write: -o CHECKPOINT.json');
  return { file, out: flags.out, vocabFrom: flags.vocabFrom ?? null };
}

/** The checkpoint's weights by name, checked as sample/eval check them. */
function checkpointTensors(ck: CheckpointJSON, file: string): Record<string, Float32Array> {
  const V = ck.vocab.length;
  const t: Record<string, Float32Array> = {};
  for (const s of paramSpecs(ck.model, V)) t[s.name] = new Float32Array(s.shape.reduce((a, b) => a * b, 1));
  loadTensors(t, ck.tensors, ck.model, V, file);
  return t;
}

/** The bytes of the export of a checkpoint in a format. */
export function exportBytes(ck: CheckpointJSON, file: string, format: ExportFormat): Uint8Array {
  const t = checkpointTensors(ck, file);
  if (format === 'onnx') return encodeOnnxStep(ck.model, ck.vocab, t);
  return encodeSafetensors(toTorch(ck.model, ck.vocab.length, t), exportMetadata(ck.model, ck.vocab));
}

export async function runExport(o: ExportOptions): Promise<number> {
  const ck = readCheckpoint(o.checkpoint);
  const bytes = exportBytes(ck, o.checkpoint, o.format);
  if (o.out === '-') await new Promise<void>((resolve) => process.stdout.write(bytes, () => resolve()));
  else writeFileAtomic(o.out, bytes, `${o.format} file`, 'free space or choose another -o');
  const { model, hidden, layers, embed } = ck.model;
  info(`wrote ${o.out === '-' ? 'stdout' : o.out}: ${o.format}, ${model} ${layers}x${hidden}, ${embed > 0 ? `embed ${embed}` : 'one-hot'}, vocab ${ck.vocab.length}, ${bytes.length} bytes`);
  return 0;
}

/** A checkpoint (no optimizer or training state) from the bytes of a safetensors state dict. */
export function importCheckpoint(bytes: Uint8Array, file: string, vocabFromPath: string | null): CheckpointJSON {
  const st = decodeSafetensors(bytes, file);
  const meta = metadataConfig(st.metadata, file);
  const inferred = meta ? null : inferConfig(st.tensors, file);
  const config: ModelConfig = meta ?? inferred!.config;
  const vocab = vocabFromPath ? vocabFrom(vocabFromPath) : metadataVocab(st.metadata, file);
  if (!vocab) throw new UserError(`${file} has no vocabulary in its metadata; pass --vocab-from CHECKPOINT|TEXT (the checkpoint it was exported from, or the training text)`);
  const rows = st.tensors.get('head.weight')?.shape[0];
  if (rows !== undefined && rows !== vocab.length) {
    const from = vocabFromPath ? `--vocab-from ${vocabFromPath}` : `the metadata of ${file}`;
    throw new UserError(`the vocabulary from ${from} has ${vocab.length} characters but head.weight has ${rows} rows; pass the matching --vocab-from`);
  }
  const t = fromTorch(config, vocab.length, st.tensors, file);
  const tensors: CheckpointJSON['tensors'] = {};
  for (const s of paramSpecs(config, vocab.length)) tensors[s.name] = encodeTensor(t[s.name], s.shape);
  return {
    format: FORMAT,
    version: VERSION,
    created: new Date().toISOString(),
    model: config,
    config: {},
    vocab,
    tensors,
    optimizer: null,
    training: null,
    data: null,
    history: { train: [], val: [] },
  };
}

export async function runImport(o: ImportOptions): Promise<number> {
  let bytes: Uint8Array;
  try {
    if (statSync(o.file).isDirectory()) throw new UserError(`${o.file} is a directory; pass a .safetensors file`);
    bytes = readFileSync(o.file);
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read ${o.file}: ${code === 'ENOENT' ? 'file not found' : (e as Error).message}`);
  }
  const ck = importCheckpoint(bytes, o.file, o.vocabFrom);
  writeFileAtomic(o.out, JSON.stringify(ck), 'checkpoint', 'free space or choose another -o');
  const { model, hidden, layers, embed } = ck.model;
  info(`wrote ${o.out}: ${model} ${layers}x${hidden}, ${embed > 0 ? `embed ${embed}` : 'one-hot'}, vocab ${ck.vocab.length}`);
  return 0;
}
