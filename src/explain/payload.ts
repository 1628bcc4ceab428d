// What `charrnn explain` hands on: the data embedded in the page (compact: typed arrays,
// deflated, base64) and the --json document (plain numbers, per character). Both come from
// one ExplainRun, so the page and the JSON always agree.
//
// Shape legend: N characters, K guesses, V vocab, H hidden, S state traces (layers x h|c).

import type { ModelConfig } from '../config';
import type { Feature, SuggestedUnit } from './features';
import { bytesOf, packBytes, quantiseStates } from './quantise';
import type { ExplainRun, GateSaturation } from './run';

export interface Summary {
  /** Characters shown (N) and predicted (N - 1). */
  chars: number;
  predicted: number;
  natsPerChar: number;
  bitsPerChar: number;
  perplexity: number;
  /** Characters of the text in the vocabulary before --chars cut it (= chars when not cut). */
  textChars: number;
  /** Characters outside the vocabulary, left out as eval leaves them out. */
  unknown: { codePoint: number; count: number }[];
}

export interface Context {
  source: string;
  checkpoint: string;
  model: ModelConfig;
  vocab: readonly number[];
  textChars: number;
  unknown: Map<number, number>;
  features: Feature[];
  units: SuggestedUnit[];
}

export function summarise(run: ExplainRun, ctx: Context): Summary {
  const nats = run.totalNats / run.predicted;
  return {
    chars: run.ids.length,
    predicted: run.predicted,
    natsPerChar: nats,
    bitsPerChar: nats / Math.LN2,
    perplexity: Math.exp(nats),
    textChars: ctx.textChars,
    unknown: [...ctx.unknown].map(([codePoint, count]) => ({ codePoint, count })),
  };
}

/** The `n` positions with the largest loss, largest first. */
export function hardest(run: ExplainRun, n = 12): { index: number; loss: number }[] {
  const order = Array.from(run.loss.keys()).filter((i) => Number.isFinite(run.loss[i]));
  order.sort((a, b) => run.loss[b] - run.loss[a] || a - b);
  return order.slice(0, n).map((index) => ({ index, loss: run.loss[index] }));
}

/** The page's data: everything the client script needs, as one JSON-safe object. */
export function pagePayload(run: ExplainRun, ctx: Context) {
  const N = run.ids.length;
  const q = quantiseStates(run.states, run.H, N);
  const probs = new Uint16Array(run.topP.length);
  for (let i = 0; i < probs.length; i++) probs[i] = Math.round(run.topP[i] * 65535);
  const { hardest, saturation, features, units, ...head } = common(run, ctx);
  return {
    ...head,
    vocab: ctx.vocab,
    N,
    K: run.K,
    H: run.H,
    summary: summarise(run, ctx),
    hardest,
    saturation,
    features,
    units,
    traces: run.states.map((s) => ({ layer: s.layer, state: s.state })),
    // typed arrays, little-endian, deflated, base64:
    ids: packBytes(bytesOf(Int32Array.from(run.ids))), // (N)
    loss: packBytes(bytesOf(Float32Array.from(run.loss))), // (N) nats, NaN at 0
    rank: packBytes(bytesOf(run.rank)), // (N)
    topIds: packBytes(bytesOf(run.topIds)), // (N, K)
    topP: packBytes(bytesOf(probs)), // (N, K) p * 65535
    scales: packBytes(bytesOf(q.scales)), // (S, H)
    levels: q.levels, // activation ~ q / levels * scale
    acts: packBytes(bytesOf(q.bytes)), // (S, H, N) q in [-levels, levels]
  };
}

export type PagePayload = ReturnType<typeof pagePayload>;

/** The --json document: per character its code point, loss, guesses and the suggested units' values. */
export function jsonDocument(run: ExplainRun, ctx: Context) {
  const N = run.ids.length;
  const K = run.K;
  const traceOf = (u: SuggestedUnit) => run.states.find((s) => s.layer === u.layer && s.state === u.state)!;
  const unitSeries = ctx.units.map((u) => ({ values: traceOf(u).values, from: u.unit * N }));
  const characters = [];
  for (let i = 0; i < N; i++) {
    const top = [];
    for (let j = 0; j < K && i > 0; j++) {
      const id = run.topIds[i * K + j];
      top.push({ codePoint: ctx.vocab[id], char: String.fromCodePoint(ctx.vocab[id]), p: run.topP[i * K + j] });
    }
    const cp = ctx.vocab[run.ids[i]];
    characters.push({
      codePoint: cp,
      char: String.fromCodePoint(cp),
      loss: i > 0 ? run.loss[i] : null,
      rank: i > 0 ? run.rank[i] : null,
      top,
      units: unitSeries.map((s) => s.values[s.from + i]),
    });
  }
  const { hardest, saturation, features, units, ...head } = common(run, ctx);
  return { ...head, ...summarise(run, ctx), top: K, hardest, saturation, features, units, characters };
}

/** What the page and the --json document both say (the key order of each is its own). */
function common(run: ExplainRun, ctx: Context) {
  return {
    format: 'charrnn-explain',
    version: 1,
    source: ctx.source,
    checkpoint: ctx.checkpoint,
    model: ctx.model,
    hardest: hardest(run),
    saturation: run.saturation as GateSaturation[],
    features: ctx.features.map((f) => ({ name: f.name, label: f.label })),
    units: ctx.units,
  };
}
