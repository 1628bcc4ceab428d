// safetensors export and import: the exact bytes of a tiny model against a file written by hand
// from the spec, bit-identical round trips for every cell / input / depth, and one-line errors
// for corrupt files and for missing, extra or misshapen tensors.

import { describe, expect, it } from 'vitest';
import { encodeTensor, FORMAT, type CheckpointJSON } from '../src/checkpoint/format';
import type { CellKind, ModelConfig } from '../src/config';
import { paramSpecs } from '../src/engine/model';
import { Rng } from '../src/engine/rng';
import { UserError } from '../src/io/errors';
import { exportBytes, importCheckpoint } from '../src/export/commands';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../src/export/safetensors';
import { toTorch } from '../src/export/torch-layout';

/** A checkpoint holding exactly these tensors (values in charrnn's layout). */
function checkpoint(model: ModelConfig, vocab: number[], values: Record<string, number[] | Float32Array>): CheckpointJSON {
  const tensors: CheckpointJSON['tensors'] = {};
  for (const s of paramSpecs(model, vocab.length)) tensors[s.name] = encodeTensor(Float32Array.from(values[s.name]), s.shape);
  return { format: FORMAT, version: 1, created: '', model, config: {}, vocab, tensors, optimizer: null, training: null, data: null, history: { train: [], val: [] } };
}

/** Random values, with the awkward ones (-0, a denormal, extremes) in the first slots. */
function randomCheckpoint(model: ModelConfig, vocab: number[], seed: number, awkward = true): CheckpointJSON {
  const rng = new Rng(seed);
  const values: Record<string, Float32Array> = {};
  for (const s of paramSpecs(model, vocab.length)) {
    const v = new Float32Array(s.shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < v.length; i++) v[i] = rng.normal();
    if (awkward) v.set([-0, 1e-45, 3.4e38, -1.5e-39].slice(0, v.length));
    values[s.name] = v;
  }
  return checkpoint(model, vocab, values);
}

/** The message of the UserError `f` throws (which must be one line). */
function userError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    const msg = (e as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error('expected a UserError, nothing was thrown');
}

const LSTM_1x1: ModelConfig = { model: 'lstm', hidden: 1, layers: 1, embed: 0, dropout: 0 };

describe('safetensors bytes', () => {
  it('a one-hot LSTM (V=2, H=1) is exactly the file written by hand from the spec', () => {
    // charrnn: Wx rows are ids, columns the gates i, f, o, g
    const ck = checkpoint(LSTM_1x1, [97, 98], {
      'l0.Wx': [1, 2, 3, 4, 5, 6, 7, 8],
      'l0.Wh': [9, 10, 11, 12],
      'l0.b': [0.5, 1, -0.5, -1],
      'out.W': [0.25, -0.25],
      'out.b': [0.125, -2],
    });
    // PyTorch: weight_ih (4H, V) rows are the gates i, f, g, o; bias_hh is zero
    const header =
      '{"__metadata__":{"format":"charrnn","model":"{\\"model\\":\\"lstm\\",\\"hidden\\":1,\\"layers\\":1,\\"embed\\":0,\\"dropout\\":0}","vocab":"[97,98]"},' +
      '"rnn.weight_ih_l0":{"dtype":"F32","shape":[4,2],"data_offsets":[0,32]},' +
      '"rnn.weight_hh_l0":{"dtype":"F32","shape":[4,1],"data_offsets":[32,48]},' +
      '"rnn.bias_ih_l0":{"dtype":"F32","shape":[4],"data_offsets":[48,64]},' +
      '"rnn.bias_hh_l0":{"dtype":"F32","shape":[4],"data_offsets":[64,80]},' +
      '"head.weight":{"dtype":"F32","shape":[2,1],"data_offsets":[80,88]},' +
      '"head.bias":{"dtype":"F32","shape":[2],"data_offsets":[88,96]}}';
    const data = [
      ...[1, 5, 2, 6, 4, 8, 3, 7], // weight_ih_l0: i, f, g, o rows of (id 0, id 1)
      ...[9, 10, 12, 11], // weight_hh_l0
      ...[0.5, 1, -1, -0.5], // bias_ih_l0
      ...[0, 0, 0, 0], // bias_hh_l0
      ...[0.25, -0.25], // head.weight (V, H)
      ...[0.125, -2], // head.bias
    ];
    const padded = header + ' '.repeat((8 - (header.length % 8)) % 8);
    expect(padded.length % 8).toBe(0);
    const expected = Buffer.alloc(8 + padded.length + 4 * data.length);
    expected.writeBigUInt64LE(BigInt(padded.length), 0);
    expected.write(padded, 8, 'latin1');
    data.forEach((v, i) => expected.writeFloatLE(v, 8 + padded.length + 4 * i));

    const got = Buffer.from(exportBytes(ck, 'ck.json', 'safetensors'));
    expect(got.toString('hex')).toBe(expected.toString('hex'));
  });

  it('reads back what it writes, metadata included', () => {
    const t: NamedTensor[] = [
      { name: 'a', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
      { name: 'b', shape: [], data: Float32Array.from([7]) },
      { name: 'c', shape: [0], data: new Float32Array(0) },
    ];
    const f = decodeSafetensors(encodeSafetensors(t, { k: 'v' }), 'x');
    expect(f.metadata).toEqual({ k: 'v' });
    expect([...f.tensors.values()]).toEqual(t);
  });
});

describe('export then import', () => {
  const cells: CellKind[] = ['lstm', 'gru', 'rnn'];
  for (const model of cells) {
    for (const embed of [0, 3]) {
      for (const layers of [1, 2]) {
        it(`is bit-identical: ${model}, ${embed ? 'embedding' : 'one-hot'}, ${layers} layer(s)`, () => {
          const config: ModelConfig = { model, hidden: 4, layers, embed, dropout: 0.25 };
          const vocab = [10, 32, 97, 98, 0x1f600]; // an astral code point too
          const ck = randomCheckpoint(config, vocab, layers * 10 + embed);
          const back = importCheckpoint(exportBytes(ck, 'ck.json', 'safetensors'), 'm.safetensors', null);
          expect(back.model).toEqual(config);
          expect(back.vocab).toEqual(vocab);
          expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(ck.tensors).sort());
          for (const name of Object.keys(ck.tensors)) expect(back.tensors[name], name).toEqual(ck.tensors[name]);
        });
      }
    }
  }

  it('sums the two LSTM and RNN biases of a PyTorch state dict, keeps both GRU biases', () => {
    for (const model of cells) {
      const config: ModelConfig = { model, hidden: 2, layers: 1, embed: 0, dropout: 0 };
      const ck = randomCheckpoint(config, [97, 98], 3, false);
      const file = decodeSafetensors(exportBytes(ck, 'ck.json', 'safetensors'), 'f');
      const bih = file.tensors.get('rnn.bias_ih_l0')!.data;
      const bhh = file.tensors.get('rnn.bias_hh_l0')!.data;
      const G = bih.length;
      if (model !== 'gru') expect([...bhh]).toEqual(new Array(G).fill(0));
      // move half of each bias to the other vector, as training in PyTorch would
      const shifted = Float32Array.from(bih, (v) => v / 2);
      const tensors = [...file.tensors.values()].map((t) =>
        t.name === 'rnn.bias_ih_l0' ? { ...t, data: shifted } : t.name === 'rnn.bias_hh_l0' ? { ...t, data: Float32Array.from(bhh, (v, i) => v + bih[i] - shifted[i]) } : t,
      );
      const back = importCheckpoint(encodeSafetensors(tensors, file.metadata), 'f', null);
      const b = Buffer.from(back.tensors['l0.b'].data, 'base64');
      const orig = Buffer.from(ck.tensors['l0.b'].data, 'base64');
      for (let i = 0; i < G; i++) {
        if (model === 'gru') expect(b.readFloatLE(4 * i)).toBe(Math.fround(orig.readFloatLE(4 * i) / 2));
        else expect(b.readFloatLE(4 * i)).toBeCloseTo(orig.readFloatLE(4 * i), 6);
      }
    }
  });
});

/** A valid file to corrupt: header text and data of the tiny LSTM. */
function parts(): { header: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>; data: Buffer } {
  const bytes = Buffer.from(exportBytes(randomCheckpoint(LSTM_1x1, [97, 98], 1), 'ck', 'safetensors'));
  const n = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.toString('utf8', 8, 8 + n)), data: bytes.subarray(8 + n) };
}

function assemble(header: unknown, data: Buffer): Buffer {
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, data]);
}

describe('corrupt safetensors files are one-line errors', () => {
  const read = (b: Buffer) => () => importCheckpoint(b, 'bad.safetensors', null);

  it('a file shorter than the length field', () => {
    expect(userError(read(Buffer.from([1, 2, 3])))).toMatch(/bad\.safetensors .*3 bytes long, shorter than the 8-byte header length/);
  });

  it('a header length past the end of the file, or absurd', () => {
    const { header, data } = parts();
    const b = assemble(header, data);
    b.writeBigUInt64LE(BigInt(b.length), 0);
    expect(userError(read(b))).toMatch(/header length is \d+ bytes but only \d+ bytes follow/);
    b.writeBigUInt64LE(2n ** 63n, 0);
    expect(userError(read(b))).toMatch(/header length is 9223372036854775808 bytes/);
  });

  it('a header that is not JSON, or a truncated data section', () => {
    const { header, data } = parts();
    const b = assemble(header, data);
    b.write('!', 8);
    expect(userError(read(b))).toMatch(/header is not UTF-8 JSON/);
    expect(userError(read(assemble(header, data.subarray(0, data.length - 4))))).toMatch(/tensor head\.bias ends at byte 96 of the data, which holds only 92 bytes/);
  });

  it('overlapping offsets, and a hole in the data', () => {
    const { header, data } = parts();
    header['rnn.weight_hh_l0'].data_offsets = [28, 44];
    expect(userError(read(assemble(header, data)))).toMatch(/tensors rnn\.weight_ih_l0 and rnn\.weight_hh_l0 overlap/);
    const h2 = parts().header;
    h2['rnn.weight_hh_l0'].data_offsets = [36, 52];
    h2['rnn.bias_ih_l0'].data_offsets = [52, 68];
    h2['rnn.bias_hh_l0'].data_offsets = [68, 84];
    h2['head.weight'].data_offsets = [84, 92];
    h2['head.bias'].data_offsets = [92, 100];
    expect(userError(read(assemble(h2, Buffer.concat([data, Buffer.alloc(4)]))))).toMatch(/bytes 32\.\.36 of the data belong to no tensor/);
  });

  it('a dtype other than F32, and a shape that does not match its bytes', () => {
    const { header, data } = parts();
    header['rnn.bias_ih_l0'].dtype = 'F16';
    expect(userError(read(assemble(header, data)))).toMatch(/tensor rnn\.bias_ih_l0 has dtype "F16"; charrnn reads F32 only/);
    const h2 = parts().header;
    h2['head.bias'].shape = [3];
    expect(userError(read(assemble(h2, data)))).toMatch(/tensor head\.bias spans 8 bytes but F32 of shape \[3\] needs 12/);
  });
});

describe('import names the tensor that is wrong', () => {
  const config: ModelConfig = { model: 'gru', hidden: 2, layers: 2, embed: 3, dropout: 0 };
  const ck = randomCheckpoint(config, [97, 98, 99], 5);
  const file = decodeSafetensors(exportBytes(ck, 'ck', 'safetensors'), 'f');
  const tensors = [...file.tensors.values()];
  const imp = (t: NamedTensor[], meta = file.metadata) => () => importCheckpoint(encodeSafetensors(t, meta), 'm.safetensors', null);

  it('missing', () => {
    expect(userError(imp(tensors.filter((t) => t.name !== 'rnn.bias_hh_l1')))).toMatch(/m\.safetensors: tensor rnn\.bias_hh_l1 is missing \(expected shape \[6\] for gru, 2 layer/);
  });

  it('extra', () => {
    const extra = { name: 'rnn.weight_ih_l2', shape: [6, 2], data: new Float32Array(12) };
    expect(userError(imp([...tensors, extra]))).toMatch(/unexpected tensor rnn\.weight_ih_l2/);
  });

  it('misshapen', () => {
    const bad = tensors.map((t) => (t.name === 'embed.weight' ? { ...t, shape: [9, 1] } : t));
    expect(userError(imp(bad))).toMatch(/tensor embed\.weight has shape \[9,1\], expected \[3,3\]/);
  });

  it('non-finite', () => {
    const bad = tensors.map((t) => (t.name === 'head.bias' ? { ...t, data: Float32Array.from([0, NaN, 0]) } : t));
    expect(userError(imp(bad))).toMatch(/tensor head\.bias holds a non-finite value \(NaN\) at index 1/);
  });

  it('without metadata: the architecture from the shapes, the vocabulary required', () => {
    expect(userError(imp(tensors, {}))).toMatch(/has no vocabulary in its metadata; pass --vocab-from CHECKPOINT\|TEXT/);
    const onlyVocab = { vocab: file.metadata.vocab };
    const back = imp(tensors, onlyVocab)();
    expect(back.model).toEqual({ ...config, dropout: 0 });
    for (const name of Object.keys(ck.tensors)) expect(back.tensors[name], name).toEqual(ck.tensors[name]);
  });

  it('PyTorch tensors in charrnn order: toTorch lists the state dict keys in nn.Module order', () => {
    expect(toTorch(config, 3, Object.fromEntries(paramSpecs(config, 3).map((s) => [s.name, new Float32Array(s.shape.reduce((a, b) => a * b, 1))]))).map((t) => t.name)).toEqual([
      'embed.weight',
      'rnn.weight_ih_l0',
      'rnn.weight_hh_l0',
      'rnn.bias_ih_l0',
      'rnn.bias_hh_l0',
      'rnn.weight_ih_l1',
      'rnn.weight_hh_l1',
      'rnn.bias_ih_l1',
      'rnn.bias_hh_l1',
      'head.weight',
      'head.bias',
    ]);
  });
});
