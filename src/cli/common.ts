// Options shared by several subcommands: the engine (kernels, threads), the checkpoint to read
// (--checkpoint everywhere one is read, plus the positional form where it existed), --debug.

import { Option, type Command, type OptionValues } from '@commander-js/extra-typings';
import { ENGINE_DEFAULTS, SAMPLE_DEFAULTS } from '../config';
import { UserError } from '../io/errors';
import { choice, intArg } from './args';

export const DEBUG_FLAG = ['--debug', 'print the stack trace of internal errors'] as const;

export function withEngine<A extends unknown[], O extends OptionValues, G extends OptionValues>(cmd: Command<A, O, G>) {
  return cmd
    .addOption(
      new Option('--kernels <kind>', 'math kernels: auto (native if built, else wasm), native (C++ addon), wasm (WebAssembly SIMD) or js (TypeScript reference)')
        .default(ENGINE_DEFAULTS.kernels)
        .argParser(choice('--kernels', ['auto', 'native', 'wasm', 'js'] as const)),
    )
    .option('--threads <n>', 'threads for the native and wasm kernels (0 = one per core)', intArg('--threads', 0, 64), ENGINE_DEFAULTS.threads)
    .option(...DEBUG_FLAG);
}

/** --checkpoint PATH, for every command that reads a checkpoint. */
export function withCheckpoint<A extends unknown[], O extends OptionValues, G extends OptionValues>(cmd: Command<A, O, G>, what: string) {
  return cmd.option('--checkpoint <path>', what, SAMPLE_DEFAULTS.checkpoint);
}

/**
 * plot and info take the checkpoint as a positional argument or as --checkpoint (as sample and
 * eval do); both at once must agree.
 */
export function checkpointPath(positional: string | undefined, flag: string, explicit: Set<string>): string {
  if (positional !== undefined && explicit.has('checkpoint') && positional !== flag) {
    throw new UserError(`two checkpoints given: "${positional}" and --checkpoint "${flag}"; pass one`);
  }
  return positional ?? flag;
}
