// The commands that read a checkpoint and report on it: `eval`, `plot`, `info`. The work is done
// in commands/eval.ts, viz/plot.ts and commands/info.ts.

import { Command } from '@commander-js/extra-typings';
import { runEval } from '../commands/eval';
import { runInfo } from '../commands/info';
import { runPlot } from '../viz/plot';
import { explicitOptions } from './args';
import { checkpointPath, DEBUG_FLAG, withCheckpoint, withEngine } from './common';

export function evalCommand() {
  const cmd = new Command('eval')
    .description("loss of a checkpoint on text: nats/char, bits/char, perplexity (default: the checkpoint's validation split)")
    .argument('[file...]', 'UTF-8 text files, concatenated; - reads stdin');
  return withEngine(
    withCheckpoint(cmd, 'checkpoint to evaluate').option('--json', 'print {"chars","natsPerChar","bitsPerChar","perplexity"} on stdout'),
  ).action(async (files, o) => {
    process.exitCode = await runEval({ files, checkpoint: o.checkpoint, json: !!o.json, kernels: o.kernels, threads: o.threads });
  });
}

export function plotCommand() {
  const cmd = new Command('plot')
    .description("draw a checkpoint's loss history: a text chart on stdout, or an SVG file with --out")
    .argument('[checkpoint]', 'checkpoint to draw (or --checkpoint)');
  return withCheckpoint(cmd, 'checkpoint to draw')
    .option('--out <path>', 'write an SVG file instead (- for stdout)')
    .option('--log', 'logarithmic loss axis')
    .option(...DEBUG_FLAG)
    .action(async (positional, o, self) => {
      const checkpoint = checkpointPath(positional, o.checkpoint, explicitOptions(self));
      process.exitCode = await runPlot({ checkpoint, out: o.out ?? null, log: !!o.log });
    });
}

export function infoCommand() {
  const cmd = new Command('info')
    .description('what a checkpoint holds: architecture, parameters, vocabulary, training so far, configuration, format')
    .argument('[checkpoint]', 'checkpoint to describe (or --checkpoint)');
  return withCheckpoint(cmd, 'checkpoint to describe')
    .option('--json', 'one JSON object on stdout')
    .option(...DEBUG_FLAG)
    .action(async (positional, o, self) => {
      const checkpoint = checkpointPath(positional, o.checkpoint, explicitOptions(self));
      process.exitCode = await runInfo({ checkpoint, json: !!o.json });
    });
}
