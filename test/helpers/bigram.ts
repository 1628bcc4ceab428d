// A vanilla RNN that is exactly (to float rounding) a bigram model with a given transition
// table: one-hot input, Wx = +-12 so that h = tanh(Wx[id]) = 2 e_id - 1 (saturated), Wh = 0,
// and out.W, out.b chosen so that the logits are log T[id][.]:
//   logits_v = sum_j h_j out.W[j][v] + out.b[v] = 2 out.W[id][v] - sum_j out.W[j][v] + out.b[v]
//   with out.W[j][v] = log T[j][v] / 2 and out.b[v] = sum_j out.W[j][v].
//
// Shape legend: V vocab = H hidden.

import type { Model } from '../../src/engine/model';
import { tensor } from '../cli-helpers';

export interface BigramTensors {
  'l0.Wx': number[]; // (V, V)
  'l0.Wh': number[]; // (V, V)
  'l0.b': number[]; // (V)
  'out.W': number[]; // (V, V)
  'out.b': number[]; // (V)
}

/** table[i][v] = P(next = v | current = i), every entry > 0. */
export function bigramTensors(table: number[][]): BigramTensors {
  const V = table.length;
  const Wx: number[] = [];
  const outW: number[] = [];
  for (let i = 0; i < V; i++) {
    const rowSum = table[i].reduce((a, b) => a + b, 0);
    for (let j = 0; j < V; j++) {
      Wx.push(i === j ? 12 : -12);
      outW.push(Math.log(table[i][j] / rowSum) / 2);
    }
  }
  const outB = Array.from({ length: V }, (_, v) => table.reduce((s, _row, j) => s + outW[j * V + v], 0));
  return { 'l0.Wx': Wx, 'l0.Wh': new Array(V * V).fill(0), 'l0.b': new Array(V).fill(0), 'out.W': outW, 'out.b': outB };
}

/** Set a model's (rnn, H = V, one layer, one-hot) weights to the bigram table. */
export function setBigram(model: Model, table: number[][]): void {
  const t = bigramTensors(table);
  for (const [name, values] of Object.entries(t)) model.params.t[name].set(values);
}

/** The same model as a checkpoint file's JSON (only the required fields). */
export function bigramCheckpoint(chars: string, table: number[][]): Record<string, unknown> {
  const V = table.length;
  const t = bigramTensors(table);
  return {
    format: 'charrnn-checkpoint',
    version: 1,
    model: { model: 'rnn', hidden: V, layers: 1, embed: 0, dropout: 0 },
    vocab: Array.from(chars, (c) => c.codePointAt(0)),
    tensors: {
      'l0.Wx': tensor([V, V], t['l0.Wx']),
      'l0.Wh': tensor([V, V], t['l0.Wh']),
      'l0.b': tensor([V], t['l0.b']),
      'out.W': tensor([V, V], t['out.W']),
      'out.b': tensor([V], t['out.b']),
    },
  };
}

/**
 * A table where greedy decoding is not the most probable text: from 'a' the likeliest next
 * character is 'b' (0.5), after which everything is uniform (0.25); but 'c' (0.4) is followed
 * by 'a' with 0.9. So after "a": greedy "ba" has 0.125, "ca" has 0.36.
 */
export const TRAP_CHARS = 'abcd';
export const TRAP_TABLE = [
  [0.01, 0.5, 0.4, 0.09], // a
  [0.25, 0.25, 0.25, 0.25], // b
  [0.9, 0.04, 0.03, 0.03], // c
  [0.25, 0.25, 0.25, 0.25], // d
];
