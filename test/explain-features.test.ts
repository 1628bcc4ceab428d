// The feature finder of `charrnn explain`: the text features by hand on a short string, and
// on a synthetic text whose quote state is trivially learnable (lowercase words outside double
// quotes, uppercase inside, so predicting the next letter's case needs the state), a small LSTM
// trained here has a suggested "inside quotes" unit with |r| > 0.8. Float32, js kernels, seeded.
//
// Shape legend: B streams, T steps, H hidden, V vocab, N characters.

import { describe, expect, it } from 'vitest';
import { Batcher } from '../src/data/batcher';
import type { ModelConfig, OptimConfig } from '../src/config';
import { corpusFromText } from '../src/data/corpus';
import { Model } from '../src/engine/model';
import { Rng } from '../src/engine/rng';
import { pearson, suggestUnits, textFeatures } from '../src/explain/features';
import { explainIds } from '../src/explain/run';
import { Trainer } from '../src/train/step';

const cps = (s: string): number[] => [...s].map((c) => c.codePointAt(0)!);

describe('text features', () => {
  it('quotes, bracket depth, position in the line, after a newline, inside a word', () => {
    const f = Object.fromEntries(textFeatures(cps('a "b(c)" d\n“é”')).map((x) => [x.name, Array.from(x.values)]));
    //        a  _  "  b  (  c  )  "  _  d  \n  “  é  ”
    expect(f.inQuotes).toEqual([0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0]);
    expect(f.bracketDepth).toEqual([0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(f.linePosition).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1, 2]);
    expect(f.afterNewline).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
    expect(f.inWord).toEqual([1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0]);
  });

  it("Pearson's r: +-1 for linear relations, NaN for a constant", () => {
    const x = [0.5, -1, 2, 3.5, 0];
    expect(pearson(x, x.map((v) => 3 * v - 2), 0, 5)).toBeCloseTo(1, 12);
    expect(pearson(x, x.map((v) => -0.5 * v), 0, 5)).toBeCloseTo(-1, 12);
    expect(pearson([9, ...x], [1, 0, 1, 0, 1], 1, 5)).toBeCloseTo(pearson(x, [1, 0, 1, 0, 1], 0, 5), 12); // the offset
    expect(pearson(x, [2, 2, 2, 2, 2], 0, 5)).toBeNaN();
  });
});

/** Words of a, b, c, d, e; every few words a quoted stretch of A..E words. */
function quoteText(rng: Rng, words: number): string {
  let s = '';
  let inside = false;
  let left = 0;
  for (let w = 0; w < words; w++) {
    if (left === 0) {
      inside = !inside && rng.uniform() < 0.4;
      left = 2 + Math.floor(rng.uniform() * 5);
      if (inside) s += '"';
    }
    const n = 1 + Math.floor(rng.uniform() * 4);
    for (let i = 0; i < n; i++) s += String.fromCharCode((inside ? 65 : 97) + Math.floor(rng.uniform() * 5));
    left--;
    if (inside && left === 0) s += '"';
    s += ' ';
  }
  return s;
}

describe('the feature finder', () => {
  it('a small LSTM trained on a quote-state text has an "inside quotes" unit with |r| > 0.8', () => {
    const rng = new Rng('quotes');
    const train = corpusFromText(quoteText(rng, 6000));
    const test = quoteText(rng, 600);
    const V = train.vocab.size;
    const config: ModelConfig = { model: 'lstm', hidden: 16, layers: 1, embed: 0, dropout: 0 };
    const model = new Model(config, { config, vocabSize: V, shapes: [{ B: 16, T: 32 }, { B: 1, T: 128 }], optimizer: 'adam', dtype: 'f32', kernels: 'js' });
    model.init(rng);
    const ids = train.vocab.encode(test).ids;
    const features = textFeatures(cps(test));
    const bestOf = (r: ReturnType<typeof explainIds>) => suggestUnits(r.states, features, r.H, ids.length).filter((u) => u.feature === 'inQuotes')[0];
    const untrained = bestOf(explainIds(model.workspaces[1], ids, 3));
    const optim: OptimConfig = { optimizer: 'adam', lr: 1e-2, clip: 5, clipNorm: 0, reduction: 'mean' };
    const trainer = new Trainer(model, new Batcher(train.ids, 16, 32), optim, rng);
    let last = 0;
    for (let s = 0; s < 500; s++) last = trainer.step(optim.lr).loss;

    const run = explainIds(model.workspaces[1], ids, 3);
    model.close();
    const units = suggestUnits(run.states, features, run.H, ids.length);
    const quote = units.filter((u) => u.feature === 'inQuotes');
    const best = quote[0];
    console.log(
      `feature finder: train loss ${last.toFixed(3)}, test ${(run.totalNats / run.predicted).toFixed(3)} nats/char; ` +
        `inside quotes, untrained: r=${untrained.correlation.toFixed(3)}; trained: ${quote.map((u) => `l${u.layer} ${u.state}${u.unit} r=${u.correlation.toFixed(3)}`).join(', ')}`,
    );
    expect(quote).toHaveLength(3);
    expect(Math.abs(best.correlation)).toBeGreaterThan(0.8);
    expect(Math.abs(untrained.correlation)).toBeLessThan(0.8); // the training found it, not chance
    // strongest first, and the correlation is the one of the unit named
    expect(Math.abs(quote[1].correlation)).toBeLessThanOrEqual(Math.abs(best.correlation));
    const trace = run.states.find((s) => s.layer === best.layer && s.state === best.state)!;
    const q = features.find((f) => f.name === 'inQuotes')!.values;
    expect(pearson(trace.values, q, best.unit * ids.length, ids.length)).toBe(best.correlation);
    // no brackets, no newlines in this text: those features suggest nothing
    expect(units.filter((u) => u.feature === 'bracketDepth' || u.feature === 'afterNewline')).toEqual([]);
  });
});
