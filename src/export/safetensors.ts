// The safetensors file format, read and written exactly (huggingface/safetensors):
//   bytes 0..8      N, the header length, unsigned 64-bit little-endian
//   bytes 8..8+N    a UTF-8 JSON object: name -> {dtype, shape, data_offsets: [begin, end]},
//                   plus an optional "__metadata__": {string: string}; padded with spaces
//                   (0x20) so that the data starts on a multiple of 8
//   bytes 8+N..     the tensors' bytes, little-endian, row-major, packed back to back;
//                   data_offsets are relative to the start of this buffer
// charrnn writes and reads float32 ("F32") only. The reader checks what the reference
// implementation checks: the length, the JSON, every dtype and shape, and that the offsets
// tile the data exactly (no overlap, no hole, nothing past the end).

import { UserError } from '../io/errors';

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array; // row-major, product(shape) values
}

export interface SafetensorsFile {
  tensors: Map<string, NamedTensor>;
  /** The string map under "__metadata__" (empty when absent). */
  metadata: Record<string, string>;
}

const METADATA = '__metadata__';
/** The reference implementation refuses headers over 100 MB; so do we. */
const MAX_HEADER = 100_000_000;

/** The bytes of a safetensors file holding `tensors` in this order, with `metadata`. */
export function encodeSafetensors(tensors: NamedTensor[], metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header[METADATA] = metadata;
  let offset = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`tensor ${t.name}: shape [${t.shape}] needs ${n} values, got ${t.data.length}`);
    if (t.name === METADATA || t.name in header) throw new Error(`tensor name ${t.name} is used twice or reserved`);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * n] };
    offset += 4 * n;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const out = Buffer.alloc(8 + padded + offset);
  out.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(out, 8);
  let at = 8 + padded;
  for (const t of tensors) {
    // byte by byte: little-endian whatever the host
    for (let i = 0; i < t.data.length; i++, at += 4) out.writeFloatLE(t.data[i], at);
  }
  return out;
}

/** Parse and validate a safetensors file; `file` names it in the one-line errors. */
export function decodeSafetensors(bytes: Uint8Array, file: string): SafetensorsFile {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (why: string): never => {
    throw new UserError(`${file} is not a valid safetensors file: ${why}`);
  };
  if (buf.length < 8) bad(`it is ${buf.length} bytes long, shorter than the 8-byte header length (truncated?)`);
  const n64 = buf.readBigUInt64LE(0);
  if (n64 > BigInt(Math.min(MAX_HEADER, buf.length - 8))) {
    bad(`the header length is ${n64} bytes but ${buf.length - 8 > MAX_HEADER ? `the limit is ${MAX_HEADER}` : `only ${buf.length - 8} bytes follow`} (truncated, or not a safetensors file?)`);
  }
  const n = Number(n64);
  const dataStart = 8 + n;
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, dataStart)));
  } catch {
    return bad(`its ${n}-byte header is not UTF-8 JSON (truncated, or not a safetensors file?)`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) bad('its header is not a JSON object');
  const metadata = readMetadata(header[METADATA], bad);
  const dataLen = buf.length - dataStart;
  const spans: { name: string; begin: number; end: number }[] = [];
  const tensors = new Map<string, NamedTensor>();
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA) continue;
    const { shape, begin, end } = readEntry(name, info, bad);
    if (end > dataLen) bad(`tensor ${name} ends at byte ${end} of the data, which holds only ${dataLen} bytes (truncated?)`);
    spans.push({ name, begin, end });
    const data = new Float32Array((end - begin) / 4);
    for (let i = 0; i < data.length; i++) data[i] = buf.readFloatLE(dataStart + begin + 4 * i);
    tensors.set(name, { name, shape, data });
  }
  checkTiling(spans, dataLen, bad);
  return { tensors, metadata };
}

function readMetadata(m: unknown, bad: (why: string) => never): Record<string, string> {
  if (m === undefined || m === null) return {};
  if (typeof m !== 'object' || Array.isArray(m)) bad('"__metadata__" is not an object of strings');
  for (const [k, v] of Object.entries(m as object)) {
    if (typeof v !== 'string') bad(`"__metadata__" value of "${k}" is a ${typeof v}, not a string`);
  }
  return m as Record<string, string>;
}

function readEntry(name: string, info: unknown, bad: (why: string) => never): { shape: number[]; begin: number; end: number } {
  const e = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (!e || typeof e !== 'object') bad(`tensor ${name} has no {dtype, shape, data_offsets} entry`);
  if (e.dtype !== 'F32') bad(`tensor ${name} has dtype ${JSON.stringify(e.dtype)}; charrnn reads F32 only (save float32 tensors, e.g. model.float())`);
  const shape = e.shape;
  if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) bad(`tensor ${name} has shape ${JSON.stringify(shape)}, not a list of sizes`);
  const off = e.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || off.some((o) => !Number.isSafeInteger(o) || o < 0) || off[1] < off[0]) {
    bad(`tensor ${name} has data_offsets ${JSON.stringify(off)}, expected [begin, end] with 0 <= begin <= end`);
  }
  const [begin, end] = off as number[];
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  if (end - begin !== 4 * count) bad(`tensor ${name} spans ${end - begin} bytes but F32 of shape [${shape}] needs ${4 * count}`);
  return { shape: shape as number[], begin, end };
}

/** The tensors must cover the data buffer exactly, in some order, without overlap or holes. */
function checkTiling(spans: { name: string; begin: number; end: number }[], dataLen: number, bad: (why: string) => never): void {
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i];
    if (s.begin < at) bad(`tensors ${spans[i - 1].name} and ${s.name} overlap (bytes ${s.begin}..${at} of the data)`);
    if (s.begin > at) bad(`bytes ${at}..${s.begin} of the data belong to no tensor`);
    at = s.end;
  }
  if (at !== dataLen) bad(`the data holds ${dataLen} bytes but the tensors cover ${at}`);
}
