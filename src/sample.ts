// `charrnn sample`: load a checkpoint, optionally condition on a prime text, and stream
// generated characters to stdout as they are produced. Nothing else goes to stdout.

import { modelFromCheckpoint, readCheckpoint } from './checkpoint';
import { describeChar, Vocab } from './data';
import { UserError } from './errors';
import { StreamWriter, yieldToEvents } from './output';
import { Rng } from './rng';
import { Sampler } from './sampler';

export interface SampleOptions {
  checkpoint: string;
  len: number;
  temperature: number;
  prime: string;
  echo: boolean;
  argmax: boolean;
  seed: number;
  kernels: 'js' | 'wasm';
  threads: number;
}

export async function runSample(o: SampleOptions): Promise<number> {
  const ck = readCheckpoint(o.checkpoint);
  const vocab = new Vocab(ck.vocab);
  const { ids: primeIds, unknown } = vocab.encode(o.prime);
  if (unknown.size > 0) {
    const list = [...unknown.keys()].map(describeChar).join(', ');
    throw new UserError(`--prime has characters outside the model's vocabulary: ${list}; remove them or choose another prime`);
  }
  // Batch 1, one step at a time: threads would only add synchronisation.
  const model = modelFromCheckpoint(ck, o.checkpoint, { shapes: [{ B: 1, T: 1 }], kernels: o.kernels, threads: 1 });
  try {
    const rng = new Rng(o.seed);
    const sampler = new Sampler(model, vocab, rng);
    const out = new StreamWriter();
    const pick = { temperature: o.temperature, argmax: o.argmax };
    sampler.reset();
    let remaining = o.len;
    if (o.echo) out.write(o.prime);
    if (primeIds.length > 0) {
      for (let i = 0; i < primeIds.length; i++) sampler.feed(primeIds[i]);
    } else {
      // No prime: start after a newline when the vocabulary has one (text starts on a fresh
      // line), else draw the first character uniformly, as char-rnn does.
      const nl = vocab.id(10);
      if (nl >= 0) sampler.feed(nl);
      else if (remaining > 0) {
        const id = Math.floor(rng.uniform() * vocab.size);
        out.write(vocab.char(id));
        sampler.feed(id);
        remaining--;
      }
    }
    for (let i = 0; i < remaining; i++) {
      const id = sampler.pick(pick);
      if (out.write(vocab.char(id))) await yieldToEvents();
      if (i + 1 < remaining) sampler.feed(id);
    }
    await out.end();
    return 0;
  } finally {
    model.close();
  }
}
