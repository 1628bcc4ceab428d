// `charrnn sample`: its flags (every default from config.ts). The work is done in sample/sample.ts.

import { Command, Option } from '@commander-js/extra-typings';
import { SAMPLE_DEFAULTS } from '../config';
import { runSample } from '../sample/sample';
import { choice, floatArg, intArg, stopArg } from './args';
import { withCheckpoint, withEngine } from './common';

function sampleOptions() {
  const cmd = new Command('sample').description('generate text from a checkpoint, streamed to stdout');
  return withCheckpoint(cmd, 'checkpoint to sample from')
    .option('--len <n>', 'characters (code points) to generate', intArg('--len', 0), SAMPLE_DEFAULTS.len)
    .option('--temperature <t>', 'divides the logits: lower is more conservative (0 = argmax)', floatArg('--temperature', 0, Infinity, '>= 0'), SAMPLE_DEFAULTS.temperature)
    .option('--top-k <k>', 'sample only from the k most likely characters (default: all)', intArg('--top-k', 1))
    .option('--top-p <p>', 'nucleus: sample only from the most likely characters that together hold >= p of the probability', floatArg('--top-p', Number.MIN_VALUE, 1, 'in (0, 1]'), SAMPLE_DEFAULTS.topP)
    .option('--prime <text>', 'text to condition on, echoed before the sample (- reads stdin)', SAMPLE_DEFAULTS.prime)
    .option('--prime-file <path>', 'read the prime from a UTF-8 file (- for stdin)')
    .addOption(
      new Option('--unknown <mode>', "prime characters outside the model's vocabulary: error, or skip them with a warning")
        .default(SAMPLE_DEFAULTS.unknown)
        .argParser(choice('--unknown', ['error', 'skip'] as const)),
    )
    .option('--no-echo', 'do not print the prime text')
    .option('--argmax', 'always take the most likely character (= --top-k 1)')
    .option('--num <n>', 'independent samples, each reproducible from --seed alone (with --beam: the n best)', intArg('--num', 1), SAMPLE_DEFAULTS.num)
    .option('--separator <s>', 'text between samples (escapes: \\n \\t \\r \\\\)', SAMPLE_DEFAULTS.separator)
    .option('--stop <s>', 'end a sample once its text ends with s, printed (repeatable; escapes as --separator)', stopArg)
    .option('--beam <w>', 'beam search of width w for the most probable text of --len characters (printed when done)', intArg('--beam', 1, 1000))
    .option('--length-norm <alpha>', 'beam: rank by log-probability / ((5 + length) / 6)^alpha (matters with --stop)', floatArg('--length-norm', 0, Infinity, '>= 0'), SAMPLE_DEFAULTS.lengthNorm)
    .option('--json', 'one JSON object a line per sample: {"text", "meanLogProb", "stopped", "settings"} (beam: also "score", "logProb")')
    .option('--seed <n>', 'random seed', intArg('--seed', 0), SAMPLE_DEFAULTS.seed);
}

export function sampleCommand() {
  return withEngine(sampleOptions()).action(async (o) => {
    process.exitCode = await runSample({
      checkpoint: o.checkpoint,
      len: o.len,
      temperature: o.temperature,
      topK: o.topK ?? SAMPLE_DEFAULTS.topK,
      topP: o.topP,
      prime: o.prime,
      primeFile: o.primeFile,
      unknown: o.unknown,
      echo: o.echo,
      argmax: !!o.argmax,
      num: o.num,
      separator: o.separator,
      stop: o.stop ?? [],
      beam: o.beam ?? SAMPLE_DEFAULTS.beam,
      lengthNorm: o.lengthNorm,
      json: !!o.json,
      seed: o.seed,
      kernels: o.kernels,
      threads: o.threads,
    });
  });
}
