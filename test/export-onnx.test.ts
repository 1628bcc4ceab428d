// The ONNX export without onnxruntime: the protobuf writer against the wire format's own
// examples, then the exported model decoded by a reader written here and its graph run by a
// naive interpreter of its eight operators, step by step, against charrnn's forward (float64).
// (test/python/ runs the same files through onnx.checker and onnxruntime when Python is there.)
//
// Shape legend: B streams, H hidden, V vocab, L layers.

import { describe, expect, it } from 'vitest';
import type { CellKind } from '../src/config';
import { Rng } from '../src/engine/rng';
import { encodeOnnxStep } from '../src/export/onnx';
import { Message, varint } from '../src/export/protobuf';
import { makeModel, maxAbsDiff, randomIds, randomizeParams, randomState, type SmallModel } from './helpers/engine';

describe('protobuf writer', () => {
  it('writes varints and fields as the encoding guide does', () => {
    expect(varint(1)).toEqual([0x01]);
    expect(varint(150)).toEqual([0x96, 0x01]);
    expect(varint(300)).toEqual([0xac, 0x02]);
    expect(varint(-1)).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(Buffer.from(new Message().int(1, 150).encode()).toString('hex')).toBe('089601');
    expect(Buffer.from(new Message().string(2, 'testing').encode()).toString('hex')).toBe('120774657374696e67');
    expect(Buffer.from(new Message().message(3, new Message().int(1, 150)).encode()).toString('hex')).toBe('1a03089601');
    expect(Buffer.from(new Message().packedInts(4, [3, 270, 86942]).encode()).toString('hex')).toBe('2206038e029ea705');
  });
});

// ---- a protobuf reader: field number -> values (varints as numbers, length-delimited as bytes) ----

type Fields = Map<number, (number | Buffer)[]>;

function decode(b: Buffer): Fields {
  const out: Fields = new Map();
  let at = 0;
  const readVarint = (): number => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = b[at++];
      v |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return Number(v);
    }
  };
  while (at < b.length) {
    const key = readVarint();
    const [field, wire] = [key >> 3, key & 7];
    let value: number | Buffer;
    if (wire === 0) value = readVarint();
    else if (wire === 2) {
      const n = readVarint();
      value = b.subarray(at, at + n);
      at += n;
    } else throw new Error(`unexpected wire type ${wire}`);
    out.set(field, [...(out.get(field) ?? []), value]);
  }
  return out;
}

const str = (f: Fields, n: number): string[] => (f.get(n) ?? []).map((v) => (v as Buffer).toString('utf8'));
const msgs = (f: Fields, n: number): Fields[] => (f.get(n) ?? []).map((v) => decode(v as Buffer));

// ---- a naive interpreter of the exported graph ----

interface T {
  shape: number[];
  data: Float64Array;
}

function run(graph: Fields, feeds: Map<string, T>): Map<string, T> {
  const env = new Map(feeds);
  for (const init of msgs(graph, 5)) {
    const dims = (init.get(1) ?? []).flatMap((v) => (typeof v === 'number' ? [v] : readPacked(v)));
    const raw = init.get(9)![0] as Buffer;
    expect(init.get(2)).toEqual([1]); // FLOAT
    env.set(str(init, 8)[0], { shape: dims, data: Float64Array.from({ length: raw.length / 4 }, (_, i) => raw.readFloatLE(4 * i)) });
  }
  for (const node of msgs(graph, 1)) {
    const ins = str(node, 1).map((n) => {
      const v = env.get(n);
      if (!v) throw new Error(`${n} used before it is defined`);
      return v;
    });
    const outs = str(node, 2);
    const map = (a: T, f: (x: number) => number): T => ({ shape: a.shape, data: a.data.map(f) });
    // elementwise with the trailing-axis broadcast the graph needs: (B, G) op (G)
    const zip = (a: T, b: T, f: (x: number, y: number) => number): T => {
      const big = a.data.length >= b.data.length ? a : b;
      return { shape: big.shape, data: big.data.map((_, i) => f(a.data[i % a.data.length], b.data[i % b.data.length])) };
    };
    const [a, b] = ins;
    let res: T[];
    switch (str(node, 4)[0]) {
      case 'Gather': {
        const C = a.shape[1];
        res = [{ shape: [b.shape[0], C], data: Float64Array.from({ length: b.data.length * C }, (_, i) => a.data[b.data[Math.floor(i / C)] * C + (i % C)]) }];
        break;
      }
      case 'MatMul': {
        const [M, K] = a.shape;
        const N = b.shape[1];
        const data = new Float64Array(M * N);
        for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) data[m * N + n] += a.data[m * K + k] * b.data[k * N + n];
        res = [{ shape: [M, N], data }];
        break;
      }
      case 'Split': {
        const [M, C] = a.shape;
        const w = C / outs.length;
        res = outs.map((_, j) => ({ shape: [M, w], data: Float64Array.from({ length: M * w }, (_, i) => a.data[Math.floor(i / w) * C + j * w + (i % w)]) }));
        break;
      }
      case 'Add': res = [zip(a, b, (x, y) => x + y)]; break;
      case 'Sub': res = [zip(a, b, (x, y) => x - y)]; break;
      case 'Mul': res = [zip(a, b, (x, y) => x * y)]; break;
      case 'Tanh': res = [map(a, Math.tanh)]; break;
      case 'Sigmoid': res = [map(a, (x) => 1 / (1 + Math.exp(-x)))]; break;
      default: throw new Error(`unexpected operator ${str(node, 4)[0]}`);
    }
    outs.forEach((n, i) => env.set(n, res[i]));
  }
  return env;
}

function readPacked(b: Buffer): number[] {
  const out: number[] = [];
  let v = 0;
  let shift = 1;
  for (const byte of b) {
    v += (byte & 0x7f) * shift;
    shift *= 128;
    if (!(byte & 0x80)) {
      out.push(v);
      v = 0;
      shift = 1;
    }
  }
  return out;
}

describe('ONNX step graph', () => {
  const cases: SmallModel[] = [];
  for (const kind of ['lstm', 'gru', 'rnn'] as CellKind[]) for (const E of [0, 3]) cases.push({ kind, H: 4, L: 2, E, V: 5 });
  cases.push({ kind: 'lstm', H: 3, L: 1, E: 0, V: 4 });

  for (const s of cases) {
    it(`runs charrnn's forward step by step: ${s.kind}, ${s.E ? 'embedding' : 'one-hot'}, ${s.L} layer(s)`, () => {
      const B = 2;
      const rng = new Rng(7);
      const model = makeModel(s, [{ B, T: 1 }]);
      randomizeParams(model, rng);
      const flat = model.params.flat;
      for (let i = 0; i < flat.length; i++) flat[i] = Math.fround(flat[i]); // the file holds float32
      const vocab = [97, 98, 99, 100, 101].slice(0, s.V);
      const bytes = Buffer.from(encodeOnnxStep(model.config, vocab, model.params.t));

      const m = decode(bytes);
      expect(m.get(1)).toEqual([8]); // ir_version
      const opset = msgs(m, 8)[0];
      expect([str(opset, 1)[0] ?? '', opset.get(2)]).toEqual(['', [17]]);
      const meta = Object.fromEntries(msgs(m, 14).map((e) => [str(e, 1)[0], str(e, 2)[0]]));
      expect(JSON.parse(meta.vocab)).toEqual(vocab);
      expect(JSON.parse(meta.model)).toEqual(model.config);
      const graph = msgs(m, 7)[0];
      const stateNames = Array.from({ length: s.L }, (_, k) => (s.kind === 'lstm' ? [`h${k}`, `c${k}`] : [`h${k}`])).flat();
      expect(msgs(graph, 11).map((v) => str(v, 1)[0])).toEqual(['ids', ...stateNames]);
      expect(msgs(graph, 12).map((v) => str(v, 1)[0])).toEqual(['logits', ...stateNames.map((n) => n + '_out')]);

      // charrnn: a random carried state, then 3 steps of random ids
      const ws = model.workspaces[0];
      const state = randomState(rng, s, B);
      ws.loadState(state);
      const per = B * s.H;
      const feeds = new Map<string, T>();
      stateNames.forEach((n, j) => feeds.set(n, { shape: [B, s.H], data: state.slice(j * per, (j + 1) * per) }));
      const saved = new Float64Array(ws.stateSize);
      for (let step = 0; step < 3; step++) {
        const ids = randomIds(rng, B, s.V);
        ws.inputs.set(ids);
        ws.forward(1, { withTargets: false });
        ws.saveState(saved);
        feeds.set('ids', { shape: [B], data: Float64Array.from(ids) });
        const out = run(graph, feeds);
        const logits = out.get('logits')!;
        for (let b = 0; b < B; b++) {
          const row = logits.data.subarray(b * s.V, (b + 1) * s.V);
          const mx = Math.max(...row);
          const lse = mx + Math.log(row.reduce((acc, x) => acc + Math.exp(x - mx), 0));
          const want = Array.from(ws.probs.subarray(b * s.V, (b + 1) * s.V), Math.log);
          expect(maxAbsDiff(Array.from(row, (x) => x - lse), want), `log-probabilities, step ${step}`).toBeLessThan(1e-12);
        }
        stateNames.forEach((n, j) => {
          const got = out.get(n + '_out')!.data;
          expect(maxAbsDiff(got, saved.subarray(j * per, (j + 1) * per)), `${n}, step ${step}`).toBeLessThan(1e-12);
          feeds.set(n, { shape: [B, s.H], data: got });
        });
      }
      model.close();
    });
  }
});
