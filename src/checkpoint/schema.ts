// The checkpoint document as one schema (zod): every section, every key, with the range each
// value must be in. readCheckpoint (format.ts) validates a whole file against it before anything
// is used, so a bad value is one line naming its key path ("training.iter: expected an integer
// >= 0, got -3"), never a NaN or a crash later. docs/checkpoint-format.md documents these keys,
// and a test holds the two together.
//
// Format and version are checked before (they say whether the file is ours at all); tensor
// shapes against the model, non-finite weights and the hidden state's length when loading.

import { z } from 'zod';
import { CELL_KINDS, LR_SCHEDULES, OPTIMIZER_KINDS, type EngineConfig, type OptimConfig, type TrainConfig } from '../config';

const int = (min: number) => {
  const error = `expected an integer >= ${min}`;
  return z.number({ error }).int({ error }).min(min, { error });
};
const num = (error: string, ok: (v: number) => boolean) => z.number({ error }).refine(ok, { error });
const nonNegative = num('expected a number >= 0', (v) => v >= 0);
const fraction = num('expected a number in [0, 1)', (v) => v >= 0 && v < 1);
const bool = z.boolean({ error: 'expected true or false' });
const str = z.string({ error: 'expected a string' });
const oneOf = <T extends string>(values: readonly T[]) => z.enum(values as [T, ...T[]], { error: `expected one of ${values.join(', ')}` });
const obj = <S extends z.ZodRawShape>(shape: S) => z.object(shape, { error: 'expected an object' });

export const TENSOR = obj({
  shape: z.array(int(0), { error: 'expected a list of sizes' }),
  dtype: z.literal('float32', { error: 'expected "float32"' }),
  encoding: z.literal('base64', { error: 'expected "base64"' }),
  data: str,
});

const TENSORS = z.record(z.string(), TENSOR, { error: 'expected an object of tensors' });

export const MODEL = obj({
  model: oneOf(CELL_KINDS),
  hidden: int(1),
  layers: int(1),
  embed: int(0),
  dropout: fraction,
});

export const OPTIMIZER = obj({
  kind: oneOf(OPTIMIZER_KINDS),
  step: int(0),
  slots: z.array(TENSORS, { error: 'expected a list of tensor objects' }),
});

const RNG = obj({ c: z.number(), s0: z.number(), s1: z.number(), s2: z.number(), spare: z.number().nullable().optional() });

export const TRAINING = obj({
  iter: int(0),
  epoch: int(0),
  batchPos: int(0),
  rng: RNG,
  hidden: TENSOR,
  bestValLoss: z.number({ error: 'expected a number or null' }).nullable(),
  evalsSinceBest: int(0),
  elapsed: nonNegative,
  charsSeen: int(0),
  lr: nonNegative,
  pendingLoss: z.tuple([z.number(), int(0)], { error: 'expected [sum, count]' }).optional(),
  lrScale: num('expected a number > 0', (v) => v > 0).optional(),
});

export const DATA = obj({
  sources: z.array(str, { error: 'expected a list of paths' }),
  chars: int(0),
  fingerprint: str,
  valFrac: fraction,
});

/** A history point [iteration, characters seen, loss]: checked by a loop (a long run has millions). */
const POINTS = z.array(z.unknown(), { error: 'expected a list of [iteration, chars, loss]' }).superRefine((points, ctx) => {
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (!Array.isArray(p) || p.length !== 3 || !p.every((v) => typeof v === 'number')) {
      ctx.addIssue({ code: 'custom', path: [i], message: 'expected [iteration, chars, loss], three numbers', input: p });
      return;
    }
  }
});

export const HISTORY = obj({ train: POINTS, val: POINTS });

// config: the resolved flags of the run (config.ts); every key optional, as old checkpoints lack new ones
export const TRAIN_CONFIG = obj({
  seqLength: int(1),
  batchSize: int(1),
  valFrac: fraction,
  iters: int(0),
  epochs: nonNegative,
  time: nonNegative,
  lrDecay: num('expected a number in (0, 1]', (v) => v > 0 && v <= 1),
  lrDecayAfter: int(0),
  lrSchedule: oneOf(LR_SCHEDULES),
  lrDecayEvery: int(1),
  warmupIters: int(0).nullable(),
  minLr: nonNegative.nullable(),
  lrDecayIters: int(0),
  patience: int(0),
  keep: int(0),
  plotLog: bool,
  evalEvery: int(1),
  evalChars: int(0),
  printEvery: int(1),
  sampleEvery: int(0),
  sampleTemperature: nonNegative,
  sampleLen: int(1),
  checkpointDir: str,
  seed: int(0),
  recover: bool,
});

export const OPTIM_CONFIG = obj({
  optimizer: oneOf(OPTIMIZER_KINDS),
  lr: num('expected a number > 0', (v) => v > 0),
  clip: nonNegative,
  clipNorm: nonNegative,
  reduction: oneOf(['mean', 'sum'] as const),
});

export const ENGINE_CONFIG = obj({
  kernels: oneOf(['auto', 'native', 'wasm', 'js'] as const),
  threads: int(0),
});

export const CONFIG = obj({
  train: TRAIN_CONFIG.partial().optional(),
  optim: OPTIM_CONFIG.partial().optional(),
  engine: ENGINE_CONFIG.partial().optional(),
});

/** The whole document. Only format, version, model, vocab and tensors are required. */
export const CHECKPOINT = obj({
  format: str,
  version: z.number(),
  created: str.nullable().optional(),
  model: MODEL,
  config: CONFIG.optional(),
  vocab: z.array(num('expected a code point, an integer from 0 to 0x10FFFF', (v) => Number.isInteger(v) && v >= 0 && v <= 0x10ffff), { error: 'expected a list of code points' }).min(1, { error: 'expected at least one code point' }),
  tensors: TENSORS,
  optimizer: OPTIMIZER.nullable().optional(),
  training: TRAINING.nullable().optional(),
  data: DATA.nullable().optional(),
  history: HISTORY.optional(),
});

/** "training.iter", "tensors.l0.Wx.shape[1]", "history.val[12]" */
function keyPath(path: PropertyKey[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : (i > 0 ? '.' : '') + String(k))).join('') || '(the document)';
}

function shown(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? s.slice(0, 37) + '...' : s;
}

/**
 * The checkpoint document, checked against CHECKPOINT; throws the first problem as
 * "KEY.PATH: expected ..., got VALUE" (the caller names the file).
 */
export function validateDocument(doc: unknown): z.infer<typeof CHECKPOINT> {
  return check(CHECKPOINT, doc, []);
}

/** A model configuration from elsewhere (an exported file's metadata), as the checkpoint's `model`. */
export function validateModelSection(m: unknown): z.infer<typeof MODEL> {
  return check(MODEL, m, ['model']);
}

function check<S extends z.ZodType>(schema: S, doc: unknown, prefix: PropertyKey[]): z.infer<S> {
  const r = schema.safeParse(doc, { reportInput: true });
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = keyPath([...prefix, ...issue.path]);
  if (issue.input === undefined && issue.code === 'invalid_type') throw new Error(`${path} is missing`);
  throw new Error(`${path}: ${issue.message}, got ${shown(issue.input)}`);
}

// The parsed sections are what the interfaces of format.ts and config.ts promise (compile-time checks).
type Assignable<T, U extends T> = U;
export type SchemaAgrees = [
  Assignable<Partial<TrainConfig>, z.infer<typeof TRAIN_CONFIG>>,
  Assignable<Partial<OptimConfig>, z.infer<typeof OPTIM_CONFIG>>,
  Assignable<Partial<EngineConfig>, z.infer<typeof ENGINE_CONFIG>>,
];
