// The checkpoint format from the outside: a checkpoint written by hand from the documented
// format (no charrnn code involved) is read right by `sample` and `eval`; the encoding is
// exact and compact.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTensor, encodeTensor, encodeTensors, FORMAT, VERSION, type CheckpointJSON } from '../src/checkpoint/format';
import type { ModelConfig } from '../src/config';
import { Model } from '../src/engine/model';
import { Rng } from '../src/engine/rng';
import { charrnn, expectUserError, f32ToBase64, makeTmp, ok, readJSON, removeTmp, tensor, writeJSON } from './cli-helpers';

let dir: string;
beforeAll(() => {
  dir = makeTmp();
  writeFileSync(join(dir, 'abab.txt'), 'abababab');
});
afterAll(() => removeTmp(dir));

// ---- a vanilla RNN, 1 layer, H = 2, vocabulary ['a', 'b'], one-hot input ----
// h_t = tanh(x_t Wx + h_{t-1} Wh + b), logits = h_t out.W + out.b; row-major (rows, cols).
// The weights are deliberately asymmetric, so a transposed reading gives other numbers.
const Wx = [2.5, -3, -2, 3.5]; // (D=V=2, G=H=2): row 0 is 'a', row 1 is 'b'
const Wh = [0.5, 0.1, -0.2, 0.3]; // (H, H)
const b = [0.1, -0.05]; // (H)
const outW = [-2, 1.5, 2.5, -1]; // (H, V)
const outB = [0.05, -0.02]; // (V)
const f32 = (v: number[]) => Array.from(Float32Array.from(v)); // the values as stored

/** The forward pass, in float64, from the float32 weights: log-probabilities after each input. */
function logProbs(ids: number[]): number[][] {
  const [wx, wh, bb, ow, ob] = [Wx, Wh, b, outW, outB].map(f32);
  let h = [0, 0];
  const out: number[][] = [];
  for (const id of ids) {
    const a = [0, 1].map((j) => wx[id * 2 + j] + h[0] * wh[0 * 2 + j] + h[1] * wh[1 * 2 + j] + bb[j]);
    h = a.map(Math.tanh);
    const logits = [0, 1].map((v) => h[0] * ow[0 * 2 + v] + h[1] * ow[1 * 2 + v] + ob[v]);
    const m = Math.max(...logits);
    const lse = m + Math.log(logits.reduce((s, z) => s + Math.exp(z - m), 0));
    out.push(logits.map((z) => z - lse));
  }
  return out;
}

function handCheckpoint(): Record<string, unknown> {
  return {
    format: 'charrnn-checkpoint',
    version: 1,
    model: { model: 'rnn', hidden: 2, layers: 1, embed: 0, dropout: 0 },
    vocab: ['a'.codePointAt(0), 'b'.codePointAt(0)],
    tensors: {
      'l0.Wx': tensor([2, 2], Wx),
      'l0.Wh': tensor([2, 2], Wh),
      'l0.b': tensor([2], b),
      'out.W': tensor([2, 2], outW),
      'out.b': tensor([2], outB),
    },
  };
}

describe('a checkpoint written by hand (format, version, model, vocab, tensors only)', () => {
  beforeAll(() => {
    writeJSON(join(dir, 'hand.json'), handCheckpoint());
  });

  it('the hand forward pass predicts alternation', () => {
    const lp = logProbs([0, 1, 0, 1]);
    expect(lp.map((p) => (p[0] > p[1] ? 0 : 1))).toEqual([1, 0, 1, 0]);
  });

  for (const kernels of ['js', 'wasm']) {
    it(`sample --argmax --prime a --len 6 --no-echo prints "bababa" (${kernels})`, () => {
      const r = ok(['sample', '--checkpoint', 'hand.json', '--argmax', '--prime', 'a', '--len', '6', '--no-echo', '--kernels', kernels], dir);
      expect(r.stdout).toBe('bababa');
    });

    for (const text of ['abababab', 'abbaabbbaab']) {
      it(`eval --json on "${text}" gives the loss computed by hand (${kernels})`, () => {
        writeFileSync(join(dir, `${text}.txt`), text);
        const r = ok(['eval', '--json', '--checkpoint', 'hand.json', `${text}.txt`, '--kernels', kernels], dir);
        const res = JSON.parse(r.stdout);
        const ids = Array.from(text, (c) => (c === 'a' ? 0 : 1));
        const lp = logProbs(ids.slice(0, -1));
        const nll = -lp.reduce((s, p, t) => s + p[ids[t + 1]], 0) / lp.length;
        expect(res.chars).toBe(text.length - 1);
        expect(res.natsPerChar).toBeCloseTo(nll, 5);
        expect(res.bitsPerChar).toBeCloseTo(nll / Math.LN2, 5);
        expect(res.perplexity).toBeCloseTo(Math.exp(nll), 5);
      });
    }
  }

  it('sample without a prime (no newline in the vocabulary) still prints --len characters', () => {
    const r = ok(['sample', '--checkpoint', 'hand.json', '--len', '9'], dir);
    expect(r.stdout).toMatch(/^[ab]{9}$/);
  });

  it('eval without a file says to pass one (the checkpoint records no corpus)', () => {
    expectUserError(charrnn(['eval', '--checkpoint', 'hand.json'], dir), /pass a file/);
  });

  it('--resume says there is no training state; --init-from trains from it', () => {
    expectUserError(charrnn(['train', 'abab.txt', '--resume', 'hand.json', '--checkpoint-dir', 'ck'], dir), /no training state.*--init-from/);
    writeFileSync(join(dir, 'abab-long.txt'), 'ab'.repeat(500));
    const r = ok(
      ['train', 'abab-long.txt', '--init-from', 'hand.json', '--batch-size', '4', '--seq-length', '8', '--iters', '5', '--eval-every', '5', '--print-every', '1', '--checkpoint-dir', 'ck', '--json', '--kernels', 'js'],
      dir,
    );
    const first = JSON.parse(r.stdout.split('\n')[0]);
    expect(first.type).toBe('train');
    expect(first.loss).toBeLessThan(0.2); // already predicts alternation (ln 2 = 0.69 is a guess)
    const ck = readJSON(join(dir, 'ck', 'latest.json'));
    expect(ck.model).toEqual({ model: 'rnn', hidden: 2, layers: 1, embed: 0, dropout: 0 });
    expect(ck.vocab).toEqual([97, 98]);
  });

  it('also with explicit null/empty optional parts', () => {
    const ck = { ...handCheckpoint(), created: null, config: {}, optimizer: null, training: null, data: null, history: { train: [], val: [] } };
    writeJSON(join(dir, 'hand-nulls.json'), ck);
    expect(ok(['sample', '--checkpoint', 'hand-nulls.json', '--argmax', '--prime', 'b', '--len', '5'], dir).stdout).toBe('bababa');
  });

  it('a resumable checkpoint that lacks its config or history is refused with a message, not a crash', () => {
    const full = readJSON(join(dir, 'ck', 'latest.json'));
    delete full.config;
    writeJSON(join(dir, 'no-config.json'), full);
    expectUserError(charrnn(['train', 'abab-long.txt', '--resume', 'no-config.json', '--checkpoint-dir', 'ck2', '--iters', '6'], dir), /config/);
    const full2 = readJSON(join(dir, 'ck', 'latest.json'));
    delete full2.history;
    writeJSON(join(dir, 'no-history.json'), full2);
    const r = ok(['train', 'abab-long.txt', '--resume', 'no-history.json', '--checkpoint-dir', 'ck3', '--iters', '7', '--quiet', '--kernels', 'js'], dir);
    expect(r.stderr).toBe('');
    expect(readJSON(join(dir, 'ck3', 'latest.json')).training.iter).toBe(7);
  });
});

describe('tensor encoding', () => {
  it('is little-endian float32 in base64', () => {
    expect(encodeTensor(Float32Array.of(1), [1]).data).toBe('AACAPw=='); // 00 00 80 3f
    expect(encodeTensor([1, -2], [2]).data).toBe(f32ToBase64([1, -2]));
    const t = { shape: [2], dtype: 'float32' as const, encoding: 'base64' as const, data: f32ToBase64([0.5, -3.25]) };
    expect(Array.from(decodeTensor(t, 'x', 'f'))).toEqual([0.5, -3.25]);
  });

  it('data that is not a whole number of float32 values says how many bytes, not "0.75 values"', () => {
    const t = { shape: [512], dtype: 'float32' as const, encoding: 'base64' as const, data: 'AAAA' }; // 3 bytes
    expect(() => decodeTensor(t, 'training.hidden', 'f.json')).toThrow(
      /^checkpoint f\.json: tensor training\.hidden holds 3 bytes, not a whole number of float32 values; its shape \[512\] needs 2048 bytes$/,
    );
  });

  it('round-trips float32 bit for bit: random values, -0, denormals, extremes (through JSON)', () => {
    const rng = new Rng(99);
    const n = 4096;
    const bits = new Uint32Array(n);
    for (let i = 0; i < n; i++) bits[i] = Math.floor(rng.uniform() * 2 ** 32);
    const special = [
      0x00000000, // +0
      0x80000000, // -0
      0x00000001, // smallest denormal
      0x80000001,
      0x007fffff, // largest denormal
      0x807fffff,
      0x00800000, // smallest normal
      0x7f7fffff, // largest finite
      0xff7fffff,
      0x7f800000, // +Infinity
      0xff800000, // -Infinity
      0x3f800000, // 1
    ];
    bits.set(special);
    // NaN bit patterns are excluded (exponent all ones, mantissa non-zero)
    for (let i = 0; i < n; i++) if ((bits[i] & 0x7f800000) === 0x7f800000 && (bits[i] & 0x007fffff) !== 0) bits[i] &= 0xff7fffff;
    const values = new Float32Array(bits.buffer);
    const t = JSON.parse(JSON.stringify(encodeTensor(values, [64, 64])));
    const back = decodeTensor(t, 'x', 'mem');
    expect(back.length).toBe(n);
    expect(Array.from(new Uint32Array(back.buffer))).toEqual(Array.from(bits));
    expect(Object.is(back[1], -0)).toBe(true);
  });

  it('encodes a view into a larger buffer, not the whole buffer', () => {
    const big = Float32Array.from({ length: 32 }, (_, i) => i);
    const view = big.subarray(8, 12);
    expect(Array.from(decodeTensor(encodeTensor(view, [4]), 'v', 'mem'))).toEqual([8, 9, 10, 11]);
  });

  it('a 2 x 512 LSTM checkpoint without optimizer state is under 1.4x its raw float32 size', () => {
    const cfg: ModelConfig = { model: 'lstm', hidden: 512, layers: 2, embed: 0, dropout: 0 };
    const V = 65;
    const model = new Model(cfg, { config: cfg, vocabSize: V, shapes: [{ B: 1, T: 1 }], kernels: 'js' });
    try {
      model.init(new Rng(1));
      const ck: CheckpointJSON = {
        format: FORMAT,
        version: VERSION,
        created: new Date(0).toISOString(),
        model: cfg,
        config: {},
        vocab: Array.from({ length: V }, (_, i) => 32 + i),
        tensors: encodeTensors(model.params.t, cfg, V),
        optimizer: null,
        training: null,
        data: null,
        history: { train: [], val: [] },
      };
      const raw = model.paramCount * 4;
      expect(model.paramCount).toBe(V * 2048 + 512 * 2048 + 2048 + 512 * 2048 + 512 * 2048 + 2048 + 512 * V + V);
      const size = Buffer.byteLength(JSON.stringify(ck));
      expect(size).toBeGreaterThan(raw); // sanity: the weights are all in there
      expect(size / raw).toBeLessThan(1.4);
    } finally {
      model.close();
    }
  });
});

describe('bad checkpoints written by hand', () => {
  it('a NaN weight is refused, naming the tensor', () => {
    const ck = handCheckpoint() as { tensors: Record<string, unknown> };
    ck.tensors['l0.Wh'] = { ...tensor([2, 2], Wh), data: f32ToBase64([0.5, NaN, -0.2, 0.3]) };
    writeJSON(join(dir, 'nan.json'), ck);
    const line = expectUserError(charrnn(['sample', '--checkpoint', 'nan.json', '--len', '3'], dir), /non-finite/);
    expect(line).toContain('l0.Wh');
    expectUserError(charrnn(['eval', '--checkpoint', 'nan.json', 'abab.txt'], dir), /l0\.Wh.*non-finite/);
  });

  it('a missing tensor is refused, naming it', () => {
    const ck = handCheckpoint() as { tensors: Record<string, unknown> };
    delete ck.tensors['out.b'];
    writeJSON(join(dir, 'missing.json'), ck);
    expectUserError(charrnn(['sample', '--checkpoint', 'missing.json'], dir), /out\.b is missing/);
  });

  it('a tensor whose shape disagrees with the model is refused', () => {
    const ck = handCheckpoint() as { tensors: Record<string, unknown> };
    ck.tensors['l0.Wh'] = tensor([4], Wh);
    writeJSON(join(dir, 'shape.json'), ck);
    expectUserError(charrnn(['sample', '--checkpoint', 'shape.json'], dir), /l0\.Wh.*shape \[4\].*\[2,2\]/);
  });

  it('a tensor whose data has the wrong number of values is refused', () => {
    const ck = handCheckpoint() as { tensors: Record<string, unknown> };
    ck.tensors['out.W'] = { ...tensor([2, 2], outW), data: f32ToBase64([1, 2, 3]) };
    writeJSON(join(dir, 'size.json'), ck);
    expectUserError(charrnn(['sample', '--checkpoint', 'size.json'], dir), /out\.W holds 3 values.*needs 4/);
  });

  it('a vocabulary that disagrees with out.W is refused', () => {
    const ck = handCheckpoint();
    ck.vocab = [97, 98, 99];
    writeJSON(join(dir, 'vocab.json'), ck);
    expectUserError(charrnn(['sample', '--checkpoint', 'vocab.json'], dir), /shape/);
  });

  it('an unknown cell kind is refused', () => {
    const ck = handCheckpoint();
    ck.model = { model: 'transformer', hidden: 2, layers: 1, embed: 0, dropout: 0 };
    writeJSON(join(dir, 'cell.json'), ck);
    expectUserError(charrnn(['sample', '--checkpoint', 'cell.json'], dir), /transformer/);
  });
});
