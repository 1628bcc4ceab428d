// charrnn's tensors <-> a PyTorch state dict of Embedding / LSTM|GRU|RNN / Linear, so that
// `model.load_state_dict(safetensors.torch.load_file(f), strict=True)` works on
//   embed = nn.Embedding(V, E)            (absent for one-hot input: the RNN takes V inputs)
//   rnn   = nn.LSTM | nn.GRU | nn.RNN(nonlinearity='tanh')(D, H, L)
//   head  = nn.Linear(H, V)
// charrnn uses row vectors (x Wx, Wx is (D,G)); PyTorch stores weight_ih as (G,D): transposed.
// Gate blocks: charrnn's LSTM is i,f,o,g, nn.LSTM's i,f,g,o; GRU is r,z,n in both. charrnn's
// LSTM and RNN have one bias: exported as bias_ih with bias_hh zero, imported as their sum.
// docs/export-formats.md tabulates the mapping.
//
// Shape legend: V vocab, E embedding, D layer input, H hidden, G gate width, L layers.

import type { CellKind, ModelConfig } from '../config';
import { UserError } from '../io/errors';
import { paramSpecs } from '../engine/model';
import { gateWidth } from '../engine/cells/layer';
import type { NamedTensor } from './safetensors';

interface Spec {
  name: string;
  shape: number[];
}

/** charrnn gate block of PyTorch's gate block j. */
function gateOf(kind: CellKind): number[] {
  return kind === 'lstm' ? [0, 1, 3, 2] : kind === 'gru' ? [0, 1, 2] : [0];
}

/** The state dict's names and shapes, in PyTorch's order. */
export function torchSpecs(config: ModelConfig, V: number): Spec[] {
  const { hidden: H, layers, embed: E, model } = config;
  const G = gateWidth(model, H);
  const specs: Spec[] = [];
  if (E > 0) specs.push({ name: 'embed.weight', shape: [V, E] });
  for (let k = 0; k < layers; k++) {
    const D = k === 0 ? (E > 0 ? E : V) : H;
    specs.push(
      { name: `rnn.weight_ih_l${k}`, shape: [G, D] },
      { name: `rnn.weight_hh_l${k}`, shape: [G, H] },
      { name: `rnn.bias_ih_l${k}`, shape: [G] },
      { name: `rnn.bias_hh_l${k}`, shape: [G] },
    );
  }
  specs.push({ name: 'head.weight', shape: [V, H] }, { name: 'head.bias', shape: [V] });
  return specs;
}

/** PyTorch (G, R) <- charrnn (R, G), gate blocks reordered. */
function transposeGates(src: ArrayLike<number>, R: number, H: number, perm: number[]): Float32Array {
  const G = perm.length * H;
  const out = new Float32Array(G * R);
  for (let j = 0; j < perm.length; j++) {
    for (let u = 0; u < H; u++) {
      const col = perm[j] * H + u;
      const row = (j * H + u) * R;
      for (let r = 0; r < R; r++) out[row + r] = src[r * G + col];
    }
  }
  return out;
}

/** charrnn (R, G) <- PyTorch (G, R): the inverse of transposeGates. */
function untransposeGates(src: ArrayLike<number>, R: number, H: number, perm: number[]): Float32Array {
  const G = perm.length * H;
  const out = new Float32Array(R * G);
  for (let j = 0; j < perm.length; j++) {
    for (let u = 0; u < H; u++) {
      const col = perm[j] * H + u;
      const row = (j * H + u) * R;
      for (let r = 0; r < R; r++) out[r * G + col] = src[row + r];
    }
  }
  return out;
}

/** A (G) vector's gate blocks in the other order (the LSTM permutation is its own inverse). */
function permuteBias(src: ArrayLike<number>, H: number, perm: number[]): Float32Array {
  const out = new Float32Array(perm.length * H);
  for (let j = 0; j < perm.length; j++) for (let u = 0; u < H; u++) out[j * H + u] = src[perm[j] * H + u];
  return out;
}

/** The PyTorch state dict of a charrnn model's tensors `t` (named as in paramSpecs). */
export function toTorch(config: ModelConfig, V: number, t: Record<string, ArrayLike<number>>): NamedTensor[] {
  const { hidden: H, embed: E, model } = config;
  const perm = gateOf(model);
  const shapes = new Map(torchSpecs(config, V).map((s) => [s.name, s.shape]));
  const out: NamedTensor[] = [];
  const put = (name: string, data: Float32Array) => out.push({ name, shape: shapes.get(name)!, data });
  if (E > 0) put('embed.weight', Float32Array.from(t.embed));
  for (let k = 0; k < config.layers; k++) {
    const D = k === 0 ? (E > 0 ? E : V) : H;
    const p = `l${k}.`;
    put(`rnn.weight_ih_l${k}`, transposeGates(t[p + 'Wx'], D, H, perm));
    put(`rnn.weight_hh_l${k}`, transposeGates(t[p + 'Wh'], H, H, perm));
    put(`rnn.bias_ih_l${k}`, permuteBias(t[p + 'b'], H, perm));
    put(`rnn.bias_hh_l${k}`, model === 'gru' ? permuteBias(t[p + 'bh'], H, perm) : new Float32Array(perm.length * H));
  }
  put('head.weight', transposeGates(t['out.W'], H, V, [0]));
  put('head.bias', Float32Array.from(t['out.b']));
  return out;
}

/**
 * charrnn's tensors (named as in paramSpecs) from a PyTorch state dict, after checking that it
 * holds exactly the expected keys with the expected shapes and finite values.
 */
export function fromTorch(config: ModelConfig, V: number, tensors: Map<string, NamedTensor>, file: string): Record<string, Float32Array> {
  checkKeys(config, V, tensors, file);
  const { hidden: H, embed: E, model } = config;
  const perm = gateOf(model);
  const get = (name: string) => tensors.get(name)!.data;
  const out: Record<string, Float32Array> = {};
  if (E > 0) out.embed = Float32Array.from(get('embed.weight'));
  for (let k = 0; k < config.layers; k++) {
    const D = k === 0 ? (E > 0 ? E : V) : H;
    const p = `l${k}.`;
    out[p + 'Wx'] = untransposeGates(get(`rnn.weight_ih_l${k}`), D, H, perm);
    out[p + 'Wh'] = untransposeGates(get(`rnn.weight_hh_l${k}`), H, H, perm);
    const bih = get(`rnn.bias_ih_l${k}`);
    const bhh = get(`rnn.bias_hh_l${k}`);
    if (model === 'gru') {
      out[p + 'b'] = permuteBias(bih, H, perm);
      out[p + 'bh'] = permuteBias(bhh, H, perm);
    } else {
      // one bias: the sum (a zero bias_hh leaves bias_ih bit for bit, -0 included)
      const sum = bih.map((v, i) => (bhh[i] === 0 ? v : Math.fround(v + bhh[i])));
      out[p + 'b'] = permuteBias(sum, H, perm);
    }
  }
  out['out.W'] = untransposeGates(get('head.weight'), H, V, [0]);
  out['out.b'] = Float32Array.from(get('head.bias'));
  // the result must be exactly charrnn's own layout
  for (const s of paramSpecs(config, V)) if (out[s.name]?.length !== s.shape.reduce((a, b) => a * b, 1)) throw new Error(`internal: ${s.name} mis-sized`);
  return out;
}

/** One-line errors naming the key: missing, misshapen, non-finite or unexpected tensors. */
function checkKeys(config: ModelConfig, V: number, tensors: Map<string, NamedTensor>, file: string): void {
  const arch = `${config.model}, ${config.layers} layer(s), hidden ${config.hidden}, ${config.embed > 0 ? `embed ${config.embed}` : 'one-hot'}, vocab ${V}`;
  const specs = torchSpecs(config, V);
  for (const s of specs) {
    const t = tensors.get(s.name);
    if (!t) throw new UserError(`${file}: tensor ${s.name} is missing (expected shape [${s.shape}] for ${arch})`);
    if (t.shape.join(',') !== s.shape.join(',')) {
      throw new UserError(`${file}: tensor ${s.name} has shape [${t.shape}], expected [${s.shape}] for ${arch}`);
    }
    const i = t.data.findIndex((v) => !Number.isFinite(v));
    if (i >= 0) throw new UserError(`${file}: tensor ${s.name} holds a non-finite value (${t.data[i]}) at index ${i}`);
  }
  const known = new Set(specs.map((s) => s.name));
  for (const name of tensors.keys()) {
    if (!known.has(name)) throw new UserError(`${file}: unexpected tensor ${name} (not part of ${arch}); remove it from the state dict`);
  }
}

/** The architecture a state dict implies, for files without charrnn's metadata. */
export function inferConfig(tensors: Map<string, NamedTensor>, file: string): { config: ModelConfig; V: number } {
  const hh = tensors.get('rnn.weight_hh_l0');
  const head = tensors.get('head.weight');
  if (!hh || hh.shape.length !== 2 || !head || head.shape.length !== 2) {
    throw new UserError(`${file} has no charrnn metadata and no rnn.weight_hh_l0 / head.weight to infer the architecture from; export it with charrnn, or save it with the metadata of an export`);
  }
  const [G, H] = hh.shape;
  const model: CellKind | undefined = G === 4 * H ? 'lstm' : G === 3 * H ? 'gru' : G === H ? 'rnn' : undefined;
  if (!model) throw new UserError(`${file}: rnn.weight_hh_l0 has shape [${hh.shape}]; expected (4H, H) lstm, (3H, H) gru or (H, H) rnn`);
  let layers = 0;
  while (tensors.has(`rnn.weight_hh_l${layers}`)) layers++;
  const embed = tensors.get('embed.weight')?.shape[1] ?? 0;
  return { config: { model, hidden: H, layers, embed, dropout: 0 }, V: head.shape[0] };
}
