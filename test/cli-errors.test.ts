// Bad input end to end: every user error is one line on stderr (`charrnn: ...`), a non-zero
// exit code, nothing on stdout, and no stack trace.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { charrnn, expectUserError, f32ToBase64, makeTmp, readJSON, removeTmp, shakespeare, TINY, trainTiny, writeJSON } from './cli-helpers';

let dir: string;
const CK = join('ck', 'latest.json');

beforeAll(() => {
  dir = makeTmp();
  writeFileSync(join(dir, 'corpus.txt'), shakespeare(8_000));
  trainTiny(dir, 'corpus.txt', 'ck', ['--iters', '5', '--eval-every', '5', '--kernels', 'js']);
});
afterAll(() => removeTmp(dir));

const train = (...args: string[]) => charrnn(['train', ...args, ...TINY, '--iters', '2', '--checkpoint-dir', 'never'], dir);

describe('corpus errors', () => {
  it('a missing corpus file', () => {
    expectUserError(train('nope.txt'), /corpus file not found: nope\.txt/);
  });

  it('a corpus that is a directory', () => {
    mkdirSync(join(dir, 'folder'), { recursive: true });
    expectUserError(train('folder'), /folder is a directory/);
  });

  it('an empty corpus', () => {
    writeFileSync(join(dir, 'empty.txt'), '');
    expectUserError(train('empty.txt'), /empty/);
  });

  it('a corpus shorter than one batch suggests a smaller --batch-size or --seq-length', () => {
    writeFileSync(join(dir, 'short.txt'), 'to be or not to be\n');
    const line = expectUserError(train('short.txt'), /shorter than one batch/);
    expect(line).toContain('--batch-size');
    expect(line).toContain('--seq-length');
  });

  it('invalid UTF-8 says where', () => {
    writeFileSync(join(dir, 'latin1.txt'), Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from(' au lait\n')]));
    const line = expectUserError(train('latin1.txt'), /not valid UTF-8/);
    expect(line).toContain('latin1.txt');
    expect(line).toMatch(/byte 3\b/); // the Latin-1 'é' (E9) is byte 3: 'c' 'a' 'f' come before it
  });

  it('invalid UTF-8: a stray byte, a cut-off character at the end, an error after multi-byte text', () => {
    writeFileSync(join(dir, 'ff.txt'), Buffer.from([0x61, 0x62, 0x63, 0xff, 0xfe, 0x64]));
    expectUserError(train('ff.txt'), /ff\.txt is not valid UTF-8 .*byte 3\b/);
    writeFileSync(join(dir, 'cut.txt'), Buffer.concat([Buffer.from('price: 5'), Buffer.from('€').subarray(0, 2)]));
    expectUserError(train('cut.txt'), /cut\.txt is not valid UTF-8 .*ends inside a character .*byte 8\b/);
    // 'ž' and '😀' are 2 and 4 bytes: the offset counts bytes, not characters
    writeFileSync(join(dir, 'mixed.txt'), Buffer.concat([Buffer.from('ž😀x'), Buffer.from([0xc3, 0x28])]));
    expectUserError(train('mixed.txt'), /mixed\.txt is not valid UTF-8 .*byte 7\b/);
  });

  it('a binary file (a NUL byte) says where', () => {
    writeFileSync(join(dir, 'bin.dat'), Buffer.from([0x61, 0x62, 0x00, 0x63]));
    expectUserError(train('bin.dat'), /NUL byte at byte 2/);
  });

  it('the failed runs wrote no checkpoint folder', () => {
    expect(() => readFileSync(join(dir, 'never', 'latest.json'))).toThrow();
  });
});

describe('flag errors name the flag and the value', () => {
  const cases: [string, string[], RegExp][] = [
    ['--hidden 0', ['train', 'corpus.txt', '--hidden', '0'], /--hidden .*"0"/],
    ['--temperature abc', ['sample', '--checkpoint', CK, '--temperature', 'abc'], /--temperature .*"abc"/],
    ['--len -5', ['sample', '--checkpoint', CK, '--len', '-5'], /--len .*"-5"/],
    ['--len 2.5', ['sample', '--checkpoint', CK, '--len', '2.5'], /--len .*"2\.5"/],
    ['--dropout 1.5', ['train', 'corpus.txt', '--dropout', '1.5'], /--dropout .*"1\.5"/],
    ['--val-frac 1', ['train', 'corpus.txt', '--val-frac', '1'], /--val-frac .*"1"/],
    ['--model foo', ['train', 'corpus.txt', '--model', 'foo'], /--model .*rnn, lstm, gru.*"foo"/],
    ['--kernels gpu', ['sample', '--checkpoint', CK, '--kernels', 'gpu'], /--kernels .*"gpu"/],
    ['--time soon', ['train', 'corpus.txt', '--time', 'soon'], /--time .*"soon"/],
    ['--lr 0', ['train', 'corpus.txt', '--lr', '0'], /--lr .*"0"/],
    ['an unknown option', ['sample', '--checkpoint', CK, '--lenght', '5'], /unknown option '--lenght'/],
    ['an unknown command', ['trian'], /unknown command 'trian'/],
  ];
  for (const [what, args, pattern] of cases) {
    it(what, () => {
      expectUserError(charrnn(args, dir), pattern);
    });
  }
});

describe('checkpoint errors', () => {
  const sample = (file: string) => charrnn(['sample', '--checkpoint', file, '--len', '5'], dir);
  const evaluate = (file: string) => charrnn(['eval', '--checkpoint', file, 'corpus.txt'], dir);

  it('a missing checkpoint', () => {
    expectUserError(sample('nope.json'), /checkpoint not found: nope\.json/);
    expectUserError(evaluate('nope.json'), /checkpoint not found/);
    expectUserError(charrnn(['train', 'corpus.txt', '--resume', 'nope.json'], dir), /checkpoint not found/);
    expectUserError(charrnn(['train', 'corpus.txt', '--init-from', 'nope.json'], dir), /checkpoint not found/);
  });

  it('a checkpoint that is a directory', () => {
    expectUserError(sample('ck'), /is a directory/);
  });

  it('a checkpoint that is not JSON (truncated)', () => {
    const text = readFileSync(join(dir, CK), 'utf8');
    writeFileSync(join(dir, 'truncated.json'), text.slice(0, text.length >> 1));
    expectUserError(sample('truncated.json'), /not valid JSON/);
    expectUserError(evaluate('truncated.json'), /not valid JSON/);
  });

  it('a JSON file of another format', () => {
    writeJSON(join(dir, 'other.json'), { format: 'keras', version: 1 });
    expectUserError(sample('other.json'), /not a charrnn checkpoint.*keras/);
    writeJSON(join(dir, 'array.json'), [1, 2, 3]);
    expectUserError(sample('array.json'), /not a charrnn checkpoint/);
    writeFileSync(join(dir, 'null.json'), 'null');
    expectUserError(sample('null.json'), /not a charrnn checkpoint/);
  });

  it('another version says which version this program reads', () => {
    const ck = readJSON(join(dir, CK));
    ck.version = 2;
    writeJSON(join(dir, 'v2.json'), ck);
    const line = expectUserError(sample('v2.json'), /version 2/);
    expect(line).toMatch(/reads version 1/);
  });

  it('a tensor of the wrong size', () => {
    const ck = readJSON(join(dir, CK));
    const n = ck.tensors['out.b'].shape[0];
    ck.tensors['out.b'].data = f32ToBase64(new Array(n - 1).fill(0));
    writeJSON(join(dir, 'size.json'), ck);
    const line = expectUserError(sample('size.json'), /out\.b/);
    expect(line).toContain(`holds ${n - 1} values`);
    expect(line).toContain(`needs ${n}`);
  });

  it('NaN weights', () => {
    const ck = readJSON(join(dir, CK));
    const w = Buffer.from(ck.tensors['out.W'].data, 'base64');
    w.writeFloatLE(NaN, 4 * 7);
    ck.tensors['out.W'].data = w.toString('base64');
    writeJSON(join(dir, 'nan.json'), ck);
    const line = expectUserError(sample('nan.json'), /out\.W.*non-finite.*index 7/);
    expect(line).toContain('NaN');
    expectUserError(evaluate('nan.json'), /non-finite/);
    expectUserError(charrnn(['train', 'corpus.txt', '--resume', 'nan.json', '--checkpoint-dir', 'r'], dir), /non-finite/);
  });

  it('an invalid model configuration', () => {
    const ck = readJSON(join(dir, CK));
    ck.model.hidden = 0;
    writeJSON(join(dir, 'h0.json'), ck);
    expectUserError(sample('h0.json'), /model\.hidden: expected an integer >= 1, got 0/);
  });

  it('an invalid vocabulary', () => {
    const ck = readJSON(join(dir, CK));
    ck.vocab = 'abc';
    writeJSON(join(dir, 'vocab.json'), ck);
    expectUserError(sample('vocab.json'), /vocab/);
  });
});
