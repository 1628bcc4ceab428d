// `charrnn explain`: its flags. The work is done in explain/command.ts.

import { Command } from '@commander-js/extra-typings';
import { EXPLAIN_DEFAULTS } from '../config';
import { explainOptions, runExplain } from '../explain/command';
import { explicitOptions, intArg } from './args';
import { withEngine } from './common';

export function explainCommand() {
  const cmd = new Command('explain')
    .description('write one self-contained HTML page of what a checkpoint sees in a text: surprise and guesses per character, neurons, summary')
    .argument('<file>', 'UTF-8 text file; - reads stdin')
    .option('--checkpoint <path>', 'checkpoint to explain', EXPLAIN_DEFAULTS.checkpoint)
    .option('-o, --out <path>', 'the page to write', EXPLAIN_DEFAULTS.out)
    .option('--chars <n>', 'explain at most the first n characters (bounds the page size)', intArg('--chars', 2), EXPLAIN_DEFAULTS.chars)
    .option('--top <k>', "the model's guesses kept per character", intArg('--top', 1, 100), EXPLAIN_DEFAULTS.top)
    .option('--json', 'write the data as JSON on stdout instead of the page (with -o, both)');
  return withEngine(cmd).action(async (file, o, self) => {
    process.exitCode = await runExplain(explainOptions(file, o, explicitOptions(self)));
  });
}
