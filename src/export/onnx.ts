// ONNX export: a graph that runs one step of the model (opset 17, IR version 8), written with
// the small protobuf writer of protobuf.ts. Field numbers are onnx.proto's.
//   inputs:  ids int64 (batch), h{k} float (batch, H) per layer k, and c{k} for lstm
//   outputs: logits float (batch, V), h{k}_out, and c{k}_out for lstm
// The weights are initializers named and laid out as in the charrnn checkpoint (l{k}.Wx (D,G),
// gate order i,f,o,g / r,z,n), and the graph is the computation of docs/checkpoint-format.md
// in plain operators (Gather, MatMul, Add, Split, Sigmoid, Tanh, Mul, Sub).
//
// Shape legend: B batch (symbolic), V vocab, E embedding, D layer input, H hidden, G gates.

import { version } from '../../package.json';
import type { ModelConfig } from '../config';
import { paramSpecs } from '../engine/model';
import { exportMetadata } from './metadata';
import { Message } from './protobuf';

const FLOAT = 1; // TensorProto.DataType
const INT64 = 7;
const ATTR_INT = 2; // AttributeProto.AttributeType
const OPSET = 17;
const IR_VERSION = 8; // the IR version of opset 17 (ONNX 1.12)

/** A graph under construction: nodes in topological order, fresh names for intermediates. */
class Graph {
  readonly nodes: Message[] = [];
  private n = 0;

  /** Add a node; returns its output names (`outputs` of them). */
  op(type: string, inputs: string[], outputs = 1, attrs: Record<string, number> = {}, names?: string[]): string[] {
    const outs = names ?? Array.from({ length: outputs }, () => `t${this.n++}`);
    const node = new Message();
    for (const i of inputs) node.string(1, i);
    for (const o of outs) node.string(2, o);
    node.string(3, `${type}_${this.nodes.length}`).string(4, type);
    for (const [k, v] of Object.entries(attrs)) node.message(5, new Message().string(1, k).int(3, v).int(20, ATTR_INT));
    this.nodes.push(node);
    return outs;
  }

  one(type: string, inputs: string[], name?: string): string {
    return this.op(type, inputs, 1, {}, name ? [name] : undefined)[0];
  }
}

/** ValueInfoProto of a tensor whose dims are numbers or symbolic names. */
function valueInfo(name: string, elemType: number, dims: (number | string)[]): Message {
  const shape = new Message();
  for (const d of dims) shape.message(1, typeof d === 'number' ? new Message().int(1, d) : new Message().string(2, d));
  const tensorType = new Message().int(1, elemType).message(2, shape);
  return new Message().string(1, name).message(2, new Message().message(1, tensorType));
}

/** TensorProto of float32 values, little-endian raw_data. */
function initializer(name: string, shape: number[], data: ArrayLike<number>): Message {
  const raw = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; i++) raw.writeFloatLE(data[i], i * 4);
  return new Message().packedInts(1, shape).int(2, FLOAT).string(8, name).bytes(9, raw);
}

/** One layer's step; returns the names of its new h (and c). */
function layerStep(g: Graph, config: ModelConfig, k: number, x: string | null): { h: string; c?: string } {
  const p = `l${k}.`;
  const h = `h${k}`;
  // x Wx + b; for one-hot input x Wx is row `id` of Wx
  const xw = x === null ? g.one('Gather', [p + 'Wx', 'ids']) : g.one('MatMul', [x, p + 'Wx']);
  const xg = g.one('Add', [xw, p + 'b']);
  const hw = g.one('MatMul', [h, p + 'Wh']);
  if (config.model === 'rnn') return { h: g.one('Tanh', [g.one('Add', [xg, hw])], `h${k}_out`) };
  if (config.model === 'lstm') {
    const [ai, af, ao, ag] = g.op('Split', [g.one('Add', [xg, hw])], 4, { axis: 1 });
    const [i, f, o] = [ai, af, ao].map((a) => g.one('Sigmoid', [a]));
    const c = g.one('Add', [g.one('Mul', [f, `c${k}`]), g.one('Mul', [i, g.one('Tanh', [ag])])], `c${k}_out`);
    return { h: g.one('Mul', [o, g.one('Tanh', [c])], `h${k}_out`), c };
  }
  // gru: r, z = sigmoid(x.. + h..), n = tanh(xn + r * hn), h' = (1 - z) n + z h = n + z (h - n)
  const [xr, xz, xn] = g.op('Split', [xg], 3, { axis: 1 });
  const [hr, hz, hn] = g.op('Split', [g.one('Add', [hw, p + 'bh'])], 3, { axis: 1 });
  const r = g.one('Sigmoid', [g.one('Add', [xr, hr])]);
  const z = g.one('Sigmoid', [g.one('Add', [xz, hz])]);
  const n = g.one('Tanh', [g.one('Add', [xn, g.one('Mul', [r, hn])])]);
  return { h: g.one('Add', [n, g.one('Mul', [z, g.one('Sub', [h, n])])], `h${k}_out`) };
}

/** The bytes of an ONNX model running one step of a charrnn model with tensors `t`. */
export function encodeOnnxStep(config: ModelConfig, vocab: number[], t: Record<string, ArrayLike<number>>): Uint8Array {
  const V = vocab.length;
  const { hidden: H, layers, embed: E } = config;
  const g = new Graph();
  let x: string | null = E > 0 ? g.one('Gather', ['embed', 'ids']) : null;
  for (let k = 0; k < layers; k++) x = layerStep(g, config, k, x).h;
  g.one('Add', [g.one('MatMul', [x!, 'out.W']), 'out.b'], 'logits');

  const graph = new Message();
  for (const node of g.nodes) graph.message(1, node);
  graph.string(2, `charrnn_${config.model}_step`);
  for (const s of paramSpecs(config, V)) graph.message(5, initializer(s.name, s.shape, t[s.name]));
  graph.message(11, valueInfo('ids', INT64, ['batch']));
  const lstm = config.model === 'lstm';
  for (let k = 0; k < layers; k++) {
    graph.message(11, valueInfo(`h${k}`, FLOAT, ['batch', H]));
    if (lstm) graph.message(11, valueInfo(`c${k}`, FLOAT, ['batch', H]));
  }
  graph.message(12, valueInfo('logits', FLOAT, ['batch', V]));
  for (let k = 0; k < layers; k++) {
    graph.message(12, valueInfo(`h${k}_out`, FLOAT, ['batch', H]));
    if (lstm) graph.message(12, valueInfo(`c${k}_out`, FLOAT, ['batch', H]));
  }

  const model = new Message()
    .int(1, IR_VERSION)
    .string(2, 'charrnn')
    .string(3, version)
    .message(7, graph)
    .message(8, new Message().string(1, '').int(2, OPSET));
  for (const [key, value] of Object.entries(exportMetadata(config, vocab))) model.message(14, new Message().string(1, key).string(2, value));
  return model.encode();
}
