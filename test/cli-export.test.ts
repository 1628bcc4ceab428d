// `charrnn export` and `charrnn import` end to end: the round trip through the real CLI gives
// back the same weights, and the imported checkpoint samples, evaluates and describes itself;
// bad invocations and bad files are one-line errors.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { charrnn, expectUserError, makeTmp, ok, readJSON, removeTmp, shakespeare, trainTiny } from './cli-helpers';

let dir: string;
const ck = 'run/latest.json';

beforeAll(() => {
  dir = makeTmp();
  writeFileSync(join(dir, 'in.txt'), shakespeare(6000));
  writeFileSync(join(dir, 'held.txt'), shakespeare(8000).slice(6000));
  trainTiny(dir, 'in.txt', 'run', ['--iters', '10', '--eval-every', '10', '--layers', '2', '--hidden', '8', '--embed', '4']);
});
afterAll(() => removeTmp(dir));

describe('charrnn export / import', () => {
  it('round trip: the same weights, and the import samples, evaluates and describes itself', () => {
    const r = ok(['export', ck, '--format', 'safetensors', '-o', 'm.safetensors'], dir);
    expect(r.stdout).toBe(''); // the product is the file
    expect(r.stderr).toMatch(/wrote m\.safetensors: safetensors, lstm 2x8, embed 4/);
    ok(['import', 'm.safetensors', '-o', 'back.json'], dir);
    const a = readJSON(join(dir, ck));
    const b = readJSON(join(dir, 'back.json'));
    expect(b.model).toEqual(a.model);
    expect(b.vocab).toEqual(a.vocab);
    expect(b.tensors).toEqual(a.tensors);
    expect(b.optimizer).toBeNull();

    const s = ok(['sample', '--checkpoint', 'back.json', '--len', '40', '--seed', '3'], dir);
    expect(Array.from(s.stdout)).toHaveLength(40);
    expect(s.stdout).toBe(ok(['sample', '--checkpoint', ck, '--len', '40', '--seed', '3'], dir).stdout);
    const e1 = JSON.parse(ok(['eval', 'held.txt', '--checkpoint', 'back.json', '--json'], dir).stdout);
    const e0 = JSON.parse(ok(['eval', 'held.txt', '--checkpoint', ck, '--json'], dir).stdout);
    expect(e1).toEqual(e0);
    expect(ok(['info', 'back.json'], dir).stdout).toMatch(/lstm/);
  });

  it('--checkpoint instead of the argument, the format from the extension of -o, and -o - for stdout', () => {
    ok(['export', '--checkpoint', ck, '-o', 'm.onnx'], dir);
    const bytes = readFileSync(join(dir, 'm.onnx'));
    expect([...bytes.subarray(0, 2)]).toEqual([0x08, 0x08]); // ModelProto.ir_version = 8
    ok(['export', ck, '--checkpoint', ck, '-o', 'same.safetensors'], dir);
    expect(readFileSync(join(dir, 'same.safetensors'))).toEqual(readFileSync(join(dir, 'm.safetensors')));
    const piped = ok(['export', ck, '--format', 'safetensors', '-o', '-'], dir);
    expect(piped.stdoutBytes).toEqual(readFileSync(join(dir, 'm.safetensors')));
  });

  it('--vocab-from a checkpoint or a text, for a file without the vocabulary', () => {
    // strip the metadata: a state dict as PyTorch alone would save it
    const f = readFileSync(join(dir, 'm.safetensors'));
    const n = Number(f.readBigUInt64LE(0));
    const header = JSON.parse(f.toString('utf8', 8, 8 + n));
    delete header.__metadata__;
    const h = Buffer.from(JSON.stringify(header).padEnd(n, ' '));
    writeFileSync(join(dir, 'bare.safetensors'), Buffer.concat([f.subarray(0, 8), h, f.subarray(8 + n)]));
    expectUserError(charrnn(['import', 'bare.safetensors', '-o', 'x.json'], dir), /bare\.safetensors has no vocabulary in its metadata; pass --vocab-from CHECKPOINT\|TEXT/);
    const want = readJSON(join(dir, ck)).tensors;
    ok(['import', 'bare.safetensors', '-o', 'v1.json', '--vocab-from', ck], dir);
    expect(readJSON(join(dir, 'v1.json')).tensors).toEqual(want);
    ok(['import', 'bare.safetensors', '-o', 'v2.json', '--vocab-from', 'in.txt'], dir);
    expect(readJSON(join(dir, 'v2.json')).vocab).toEqual(readJSON(join(dir, ck)).vocab);
    writeFileSync(join(dir, 'small.txt'), 'abc');
    expectUserError(charrnn(['import', 'bare.safetensors', '-o', 'x.json', '--vocab-from', 'small.txt'], dir), /--vocab-from small\.txt has 3 characters but head\.weight has \d+ rows/);
  });

  it('bad invocations and bad files are one-line errors', () => {
    expectUserError(charrnn(['export', ck], dir), /export needs an output file: -o FILE/);
    expectUserError(charrnn(['export', ck, '-o', 'm.bin'], dir), /which format\? pass --format safetensors\|onnx/);
    expectUserError(charrnn(['export', ck, '--format', 'pt', '-o', 'm.pt'], dir), /--format expects one of safetensors, onnx, got "pt"/);
    expectUserError(charrnn(['export', ck, '--checkpoint', 'other.json', '-o', 'm.onnx'], dir), /two checkpoints given/);
    expectUserError(charrnn(['export', 'nope.json', '-o', 'm.onnx'], dir), /checkpoint not found: nope\.json/);
    expectUserError(charrnn(['import', 'm.safetensors'], dir), /-o CHECKPOINT\.json/);
    expectUserError(charrnn(['import', 'nope.safetensors', '-o', 'x.json'], dir), /cannot read nope\.safetensors: file not found/);
    writeFileSync(join(dir, 'short.safetensors'), 'abc');
    expectUserError(charrnn(['import', 'short.safetensors', '-o', 'x.json'], dir), /short\.safetensors is not a valid safetensors file: it is 3 bytes long/);
    expectUserError(charrnn(['import', 'in.txt', '-o', 'x.json'], dir), /in\.txt is not a valid safetensors file: the header length/);
  });
});
