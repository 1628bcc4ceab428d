// The sample preview of --sample-every: a few lines of text from the model as it trains, on
// stderr, escaped and wrapped so the progress bar survives them.

import type { Vocab } from '../data/corpus';
import type { Model } from '../engine/model';
import { Rng } from '../engine/rng';
import { printableText, wrapLines } from '../io/printable';
import { startId } from '../sample/prime';
import { Sampler } from '../sample/sampler';

/** The preview at iteration `iter`: `len` characters at `temperature`, ready for stderr. */
export function previewText(model: Model, vocab: Vocab, o: { seed: number; iter: number; len: number; temperature: number }): string {
  // A generator of its own, so previews never change the training numbers.
  const rng = new Rng(`${o.seed}:preview:${o.iter}`);
  const sampler = new Sampler(model, vocab, rng, 1);
  sampler.reset();
  // from where `charrnn sample` without a prime starts (a newline, else a space); without either
  // the first character is drawn uniformly, as there too
  let text = '';
  let id = startId(vocab);
  let n = 0;
  if (id < 0) {
    id = Math.floor(rng.uniform() * vocab.size);
    text += vocab.char(id);
    n++;
  }
  sampler.feed(id);
  for (; n < o.len; n++) {
    id = sampler.pick({ temperature: o.temperature, argmax: false });
    text += vocab.char(id);
    sampler.feed(id);
  }
  // Escaped and wrapped: a raw \r or escape sequence, or a line past the edge (the bar turns
  // the terminal's wrapping off), would garble the progress bar.
  const shown = wrapLines(printableText(text), process.stderr.isTTY ? (process.stderr.columns || 80) - 1 : 0);
  return `--- sample at iteration ${o.iter} (temperature ${o.temperature}) ---\n${shown}\n---`;
}
