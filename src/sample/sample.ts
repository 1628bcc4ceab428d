// `charrnn sample`: load a checkpoint, condition on a prime, and generate. Sampled text is
// streamed to stdout as it is produced; beam search prints its results when it is done.
// Nothing else goes to stdout: warnings go to stderr, and with --json each sample is one JSON
// object a line.
//
// Reproducibility: sample i (0-based) of --num draws from its own generator, seeded with
// --seed for i = 0 (so --num 1 is the plain output) and with "<seed>:<i>" after that. Sample i
// is therefore the same text whether or not the others are drawn.
//
// Shape legend: V vocab, W beam width.

import { beamSearch, type BeamResult } from './beam';
import { modelFromCheckpoint, readCheckpoint } from '../checkpoint/format';
import { SAMPLE_DEFAULTS, type EngineConfig } from '../config';
import { idArray, Vocab, type Ids } from '../data/corpus';
import type { Workspace } from '../engine/model';
import { resolveKernels, resolveThreads } from '../engine/kernels';
import { UserError } from '../io/errors';
import { warn } from '../io/log';
import { StreamWriter, yieldToEvents } from '../io/output';
import { encodePrime, readPrime, startId, type UnknownPolicy } from './prime';
import { Rng } from '../engine/rng';
import { Sampler, type PickOptions } from './sampler';
import { StopMatcher, unescapeFlag } from './stops';

export interface SampleOptions {
  checkpoint: string;
  len: number;
  temperature: number;
  /** '' = none; '-' reads stdin. */
  prime: string;
  primeFile?: string;
  unknown?: UnknownPolicy;
  echo: boolean;
  argmax: boolean;
  /** 0 = all characters. */
  topK?: number;
  topP?: number;
  num?: number;
  /** Between samples, backslash escapes not yet undone. */
  separator?: string;
  /** Stop strings, backslash escapes not yet undone. */
  stop?: string[];
  /** Beam width; 0 = sample. */
  beam?: number;
  lengthNorm?: number;
  json?: boolean;
  seed: number;
  kernels: EngineConfig['kernels'];
  threads: number;
}

/** Beam search keeps (len x W) history entries of 8 bytes. */
const MAX_BEAM_HISTORY = 50_000_000;

/** Flag combinations that make no sense: one line naming the flags and the values. */
export function validateSampleOptions(o: SampleOptions): void {
  const beam = o.beam ?? 0;
  const num = o.num ?? 1;
  if (beam > 0) {
    if (num > beam) throw new UserError(`--num must be <= --beam for beam search (the ${beam} best are kept), got --num ${num} with --beam ${beam}`);
    const sampling = [
      o.temperature !== 1 && '--temperature',
      (o.topK ?? 0) > 0 && '--top-k',
      (o.topP ?? 1) < 1 && '--top-p',
      o.argmax && '--argmax',
    ].filter(Boolean);
    if (sampling.length > 0) {
      throw new UserError(`--beam searches for the most probable text and takes no sampling flags, got ${sampling.join(' and ')}; drop them or --beam`);
    }
    if (o.len * beam > MAX_BEAM_HISTORY) {
      throw new UserError(`--len x --beam must be <= ${MAX_BEAM_HISTORY} (beam search keeps that much history), got ${o.len} x ${beam}`);
    }
  } else if ((o.lengthNorm ?? 0) !== 0) {
    throw new UserError(`--length-norm applies to --beam only, got --length-norm ${o.lengthNorm} without --beam`);
  }
}

/** Seed of sample i: --seed itself for the first, so --num 1 is the plain output. */
export function sampleSeed(seed: number, i: number): number | string {
  return i === 0 ? seed : `${seed}:${i}`;
}

export async function runSample(o: SampleOptions): Promise<number> {
  validateSampleOptions(o);
  const ck = readCheckpoint(o.checkpoint);
  const vocab = new Vocab(ck.vocab);
  const source = readPrime(o.prime, o.primeFile);
  const prime = encodePrime(source.text, source.flag, vocab, o.unknown ?? 'error');
  const stopStrings = (o.stop ?? []).map(unescapeFlag);
  const unusable: string[] = [];
  const stops = stopStrings.length > 0 ? new StopMatcher(stopStrings, vocab, unusable) : null;
  for (const u of unusable) warn(`--stop ${u} has characters outside the model's vocabulary; it can never match`);

  const beam = o.beam ?? 0;
  // Batch 1, one step at a time (beam: one stream per hypothesis). The wasm kernels' threads
  // would only add synchronisation; the native ones split a step's products only when they are
  // big enough to gain (a 2 x 512 LSTM samples 1.8x faster on two cores, a 2 x 128 the same).
  const kernels = resolveKernels(o.kernels);
  const threads = kernels === 'native' ? resolveThreads(o.threads) : 1;
  const model = modelFromCheckpoint(ck, o.checkpoint, { shapes: [{ B: Math.max(beam, 1), T: 1 }], kernels, threads });
  try {
    const out = new StreamWriter();
    const ctx = { o, vocab, prime: prime.text, primeIds: prime.ids, stops: stops?.active ? stops : null, stopStrings, out };
    if (beam > 0) runBeam(ctx, model.workspaces[0]);
    else {
      const sampler = new Sampler(model, vocab, new Rng(o.seed));
      await runSampling(ctx, sampler);
    }
    if (!o.json) out.finishLineOnTerminal();
    await out.end();
    return 0;
  } finally {
    model.close();
  }
}

/** The one-character context of an unprimed text, empty when the vocabulary offers no start. */
function startContext(vocab: Vocab): Ids {
  const id = startId(vocab);
  const ids = idArray(vocab.size, id >= 0 ? 1 : 0);
  if (id >= 0) ids[0] = id;
  return ids;
}

interface Context {
  o: SampleOptions;
  vocab: Vocab;
  prime: string;
  primeIds: Ids;
  stops: StopMatcher | null;
  stopStrings: string[];
  out: StreamWriter;
}

/** --num independent samples, streamed (or one JSON line each). */
async function runSampling(c: Context, sampler: Sampler): Promise<void> {
  const { o, vocab, primeIds, stops, out } = c;
  const num = o.num ?? 1;
  const json = !!o.json;
  const separator = unescapeFlag(o.separator ?? SAMPLE_DEFAULTS.separator);
  const pick: PickOptions = { temperature: o.temperature, argmax: o.argmax, topK: o.topK ?? 0, topP: o.topP ?? 1 };
  const chars = vocab.codePoints.map((cp) => String.fromCodePoint(cp)); // no string made per character
  const ws = sampler.ws;

  // The state after the prime (or the start, prime.ts startId) is computed once and restored
  // for every sample. Without either the first character is drawn uniformly.
  sampler.reset();
  const context = primeIds.length > 0 ? primeIds : startContext(vocab);
  const uniformFirst = context.length === 0;
  for (let i = 0; i < context.length; i++) sampler.feed(context[i]);
  const primedState = new Float64Array(ws.stateSize);
  const primedProbs = new Float64Array(ws.probs.length);
  if (num > 1) {
    ws.saveState(primedState);
    primedProbs.set(ws.probs);
  }

  for (let s = 0; s < num; s++) {
    const rng = s === 0 ? sampler.rng : new Rng(sampleSeed(o.seed, s));
    if (s > 0) {
      ws.loadState(primedState);
      ws.probs.set(primedProbs);
      sampler.rng = rng;
      if (!json && out.write(separator)) await yieldToEvents();
    }
    if (!json && o.echo && out.write(c.prime)) await yieldToEvents();
    stops?.reset(primeIds);
    let text = ''; // only with --json
    let remaining = o.len;
    let logSum = 0;
    let scored = 0; // characters the model predicted (not a uniform first one)
    let stopped = false;
    if (uniformFirst && remaining > 0) {
      const id = Math.floor(rng.uniform() * vocab.size);
      if (json) text += chars[id];
      else out.write(chars[id]);
      stopped = stops !== null && stops.push(id);
      sampler.feed(id);
      remaining--;
    }
    for (let i = 0; i < remaining && !stopped; i++) {
      const id = sampler.pick(pick);
      logSum += sampler.logProb(id);
      scored++;
      if (json) text += chars[id];
      else if (out.write(chars[id])) await yieldToEvents();
      if (stops !== null && stops.push(id)) stopped = true;
      else if (i + 1 < remaining) sampler.feed(id);
    }
    if (json) {
      const settings = { mode: 'sample', seed: o.seed, index: s, len: o.len, ...pick, stop: c.stopStrings, kernels: o.kernels };
      const line = { text, meanLogProb: scored > 0 ? logSum / scored : null, stopped, settings };
      if (out.write(JSON.stringify(line) + '\n')) await yieldToEvents();
    }
  }
}

/** Beam search: the --num best texts, printed when the search is done. */
function runBeam(c: Context, ws: Workspace): void {
  const { o, vocab, primeIds, out } = c;
  const json = !!o.json;
  const separator = unescapeFlag(o.separator ?? SAMPLE_DEFAULTS.separator);
  // The context of the search: the prime, else the start (prime.ts startId); else a first
  // character drawn uniformly from --seed, which then begins every result.
  let context: Ids = primeIds.length > 0 ? primeIds : startContext(vocab);
  let stopContext: Ids = primeIds; // what a stop string may begin in: the text, not the start
  let first = '';
  let len = o.len;
  if (context.length === 0) {
    context = idArray(vocab.size, 1);
    context[0] = Math.floor(new Rng(o.seed).uniform() * vocab.size);
    stopContext = context;
    if (len > 0) {
      first = vocab.char(context[0]);
      len--;
    }
  }
  const results: BeamResult[] = beamSearch(ws, context, { len, num: o.num ?? 1, lengthNorm: o.lengthNorm ?? 0, stops: c.stops, stopContext });
  results.forEach((r, rank) => {
    const text = first + vocab.decode(r.ids);
    if (json) {
      const settings = { mode: 'beam', beam: o.beam, lengthNorm: o.lengthNorm ?? 0, rank, len: o.len, stop: c.stopStrings, kernels: o.kernels };
      const meanLogProb = r.ids.length > 0 ? r.logProb / r.ids.length : null;
      out.write(JSON.stringify({ text, score: r.score, logProb: r.logProb, meanLogProb, stopped: r.stopped, settings }) + '\n');
    } else {
      if (rank > 0) out.write(separator);
      out.write((o.echo ? c.prime : '') + text);
    }
  });
}
