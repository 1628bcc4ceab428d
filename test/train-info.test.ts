// `charrnn info CHECKPOINT`: what a checkpoint holds, as text and as one JSON object.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { charrnn, codePoints, expectUserError, makeTmp, ok, paramCount, readJSON, removeTmp, shakespeare, tensor, TINY, writeJSON, type Checkpoint } from './cli-helpers';

let dir: string;
let ck: Checkpoint;
const text = shakespeare(20_000);
const vocab = codePoints(text);
const file = join('ck', 'latest.json');

beforeAll(() => {
  dir = makeTmp();
  writeFileSync(join(dir, 'corpus.txt'), text);
  ok(['train', 'corpus.txt', ...TINY, '--iters', '30', '--eval-every', '10', '--lr-schedule', 'cosine', '--checkpoint-dir', 'ck', '--quiet', '--kernels', 'js'], dir);
  ck = readJSON(join(dir, file));
});
afterAll(() => removeTmp(dir));

describe('charrnn info', () => {
  it('--json: one object with the architecture, parameters, vocabulary, training, history, data, configuration, format', () => {
    const r = ok(['info', file, '--json'], dir);
    expect(r.stderr).toBe('');
    expect(r.stdout.endsWith('\n')).toBe(true);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    const i = JSON.parse(r.stdout);
    const vals: number[] = ck.history.val.map((p: number[]) => p[2]);
    const best = Math.min(...vals);
    expect(i).toMatchObject({
      file,
      format: 'charrnn-checkpoint',
      version: 1,
      created: ck.created,
      model: { model: 'lstm', hidden: 32, layers: 1, embed: 0, dropout: 0 },
      parameters: paramCount('lstm', 32, vocab.length),
      vocab: { size: vocab.length, chars: String.fromCodePoint(...vocab) },
      training: { iter: 30, charsSeen: 30 * 8 * 16, seconds: ck.training.elapsed, lr: ck.training.lr, bestValLoss: best, evalsSinceBest: ck.training.evalsSinceBest },
      resumable: true,
      optimizer: { kind: 'adagrad', step: 30 },
      history: {
        trainPoints: 3,
        valPoints: 3,
        lastTrainLoss: ck.history.train[2][2],
        lastValLoss: vals[2],
        lastValIter: 30,
        bestValLoss: best,
        bestValIter: ck.history.val[vals.indexOf(best)][0],
      },
      data: ck.data,
      config: ck.config,
    });
    // 18,000 training characters at 8 x 16: 140 batches an epoch
    expect(i.training.epoch).toBeCloseTo(30 / 140, 12);
  });

  it('text: the same facts for people, on stdout', () => {
    const r = ok(['info', file], dir);
    expect(r.stderr).toBe('');
    const out = r.stdout;
    expect(out).not.toContain('\x1b');
    const vals: number[] = ck.history.val.map((p: number[]) => p[2]);
    const best = Math.min(...vals);
    expect(out).toMatch(/model\s+lstm, 1 x 32, one-hot input, dropout 0/);
    expect(out).toMatch(new RegExp(`parameters\\s+${paramCount('lstm', 32, vocab.length).toLocaleString('en-US')}\\n`));
    // the vocabulary, newline escaped, the rest as they are
    expect(out).toContain(`vocabulary  ${vocab.length} characters: "\\n ${String.fromCodePoint(...vocab.slice(2))}"`);
    expect(out).toMatch(/training\s+iteration 30, epoch 0\.21, 3,840 characters seen/);
    expect(out).toContain(`best validation ${best.toFixed(4)} nats/char`);
    expect(out).toContain(`at iteration ${ck.history.val[vals.indexOf(best)][0]}`);
    expect(out).toMatch(/resumable\s+yes \(adagrad, step 30\)/);
    expect(out).toMatch(/format\s+charrnn-checkpoint version 1, written /);
    expect(out).toMatch(/train\s+seq-length 16, batch-size 8,/);
    expect(out).toContain('lr-schedule cosine');
    expect(out).toContain('lr-decay-iters 30');
    expect(out).toMatch(/optim\s+optimizer adagrad, lr 0\.1/);
  });

  it('a weights-only checkpoint with invisible characters in its vocabulary: escaped, and no training state', () => {
    const cps = [0x1b, 10, 0x7f, 0xe9, 0x200b, 0x22];
    const V = cps.length;
    const zeros = (n: number) => Array(n).fill(0);
    writeJSON(join(dir, 'weights.json'), {
      format: 'charrnn-checkpoint',
      version: 1,
      model: { model: 'rnn', hidden: 2, layers: 1, embed: 0, dropout: 0 },
      vocab: cps,
      tensors: {
        'l0.Wx': tensor([V, 2], zeros(V * 2)),
        'l0.Wh': tensor([2, 2], zeros(4)),
        'l0.b': tensor([2], zeros(2)),
        'out.W': tensor([2, V], zeros(2 * V)),
        'out.b': tensor([V], zeros(V)),
      },
    });
    const r = ok(['info', 'weights.json'], dir);
    expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/); // no raw control character reaches the terminal
    expect(r.stdout).toContain('vocabulary  6 characters: "\\u{1b}\\n\\u{7f}é\\u{200b}\\""');
    expect(r.stdout).toContain(`parameters  ${paramCount('rnn', 2, V)}`);
    expect(r.stdout).toMatch(/training\s+no training state/);
    expect(r.stdout).toMatch(/resumable\s+no/);
    const j = JSON.parse(ok(['info', 'weights.json', '--json'], dir).stdout);
    expect(j).toMatchObject({ training: null, resumable: false, optimizer: null, data: null, history: { trainPoints: 0, bestValLoss: null } });
    expect(Array.from(j.vocab.chars as string).map((c) => c.codePointAt(0))).toEqual(cps);
  });

  it('errors are one line: missing file, not a checkpoint, another version', () => {
    expectUserError(charrnn(['info', 'nope.json'], dir), /checkpoint not found: nope\.json/);
    writeFileSync(join(dir, 'other.json'), '{"hello": 1}');
    expectUserError(charrnn(['info', 'other.json'], dir), /other\.json is not a charrnn checkpoint/);
    writeJSON(join(dir, 'v2.json'), { ...ck, version: 2 });
    expectUserError(charrnn(['info', 'v2.json', '--json'], dir), /format version 2; this charrnn reads version 1/);
  });
});

describe('--checkpoint everywhere a checkpoint is read', () => {
  it('info and plot take --checkpoint as well as the positional path, with the same output', () => {
    expect(ok(['info', '--checkpoint', file, '--json'], dir).stdout).toBe(ok(['info', file, '--json'], dir).stdout);
    expect(ok(['plot', '--checkpoint', file], dir).stdout).toBe(ok(['plot', file], dir).stdout);
  });
  it('two different checkpoints at once are one line naming both', () => {
    expectUserError(charrnn(['info', file, '--checkpoint', 'other.json'], dir), /two checkpoints given: "ck\/latest\.json" and --checkpoint "other\.json"/);
  });
  it('the not-found hint names a flag that the command accepts', () => {
    for (const cmd of ['info', 'plot', 'sample', 'eval']) {
      const msg = expectUserError(charrnn([cmd, '--checkpoint', 'nope.json'], dir), /checkpoint not found: nope\.json/);
      expect(msg).toMatch(/--checkpoint PATH/);
    }
    const resume = expectUserError(charrnn(['train', 'corpus.txt', '--resume', 'nope.json'], dir), /checkpoint not found: nope\.json/);
    expect(resume).toMatch(/pass --resume PATH/);
    const init = expectUserError(charrnn(['train', 'corpus.txt', '--init-from', 'nope.json'], dir), /checkpoint not found: nope\.json/);
    expect(init).toMatch(/pass --init-from PATH/);
  });
  it('hints name the command as the user typed it: npx charrnn under npx, else charrnn', () => {
    const viaNpx = expectUserError(charrnn(['info', 'nope.json'], dir, { env: { npm_command: 'exec' } }), /not found/);
    expect(viaNpx).toMatch(/train one with: npx charrnn train/);
    const plain = expectUserError(charrnn(['info', 'nope.json'], dir, { env: { npm_command: '' } }), /not found/);
    expect(plain).toMatch(/train one with: charrnn train/);
  });
});

describe('charrnn --version', () => {
  it("prints package.json's version", () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
    expect(ok(['--version'], dir).stdout.trim()).toBe(pkg.version);
  });
});
