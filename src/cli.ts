// The command line: parse, validate, report. The work is done in train.ts, sample.ts, eval.ts.
// Every default comes from config.ts; every user error ends as one line on stderr and a
// non-zero exit code, with no stack trace (--debug shows it).

import { Command, InvalidArgumentError, Option } from 'commander';
import {
  CELL_KINDS,
  DEFAULT_LR,
  ENGINE_DEFAULTS,
  MODEL_DEFAULTS,
  OPTIM_DEFAULTS,
  OPTIMIZER_KINDS,
  SAMPLE_DEFAULTS,
  TRAIN_DEFAULTS,
  LR_SCHEDULES,
  type CellKind,
  type EngineConfig,
  type LrScheduleKind,
  type OptimizerKind,
} from './config';
import { UserError } from './io/errors';
import { runEval } from './commands/eval';
import { runInfo } from './commands/info';
import { color, errorLine, setQuiet } from './io/log';
import { runPlot } from './viz/plot';
import { scheduleFromFlags } from './train/schedule';
import { runSample } from './sample/sample';
import { runTrain } from './train/train';

// ---- argument parsers: each names the flag, the expected and the actual value ----

function intArg(flag: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^[+-]?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${flag} expects an integer ${max < Number.MAX_SAFE_INTEGER ? `from ${min} to ${max}` : `>= ${min}`}, got "${v}".`);
    }
    return n;
  };
}

function floatArg(flag: string, lo: number, hi: number, range: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < lo || n > hi) {
      throw new InvalidArgumentError(`${flag} expects a number ${range}, got "${v}".`);
    }
    return n;
  };
}

/** 90, 90s, 10m, 1.5h, 1h30m -> seconds. */
export function parseDuration(v: string): number {
  const s = v.trim();
  const parts = [...s.matchAll(/(\d+(?:\.\d+)?)\s*(h|m|s)?/g)];
  const joined = parts.map((p) => p[0]).join('');
  if (parts.length === 0 || joined.replace(/\s/g, '') !== s.replace(/\s/g, '')) {
    throw new InvalidArgumentError(`--time expects a duration like 90s, 10m, 1h30m, got "${v}".`);
  }
  let sec = 0;
  for (const p of parts) sec += Number(p[1]) * (p[2] === 'h' ? 3600 : p[2] === 'm' ? 60 : 1);
  if (!(sec > 0)) throw new InvalidArgumentError(`--time expects a positive duration, got "${v}".`);
  return sec;
}

/**
 * Commander's own errors (a bad flag value, an unknown option, too many arguments) as one line,
 * `charrnn: <message> (run with --help for usage)`, like every other user error.
 */
export function formatParseError(str: string): string {
  const msg = str
    .trim()
    .replace(/^error: /, '')
    // our argument parsers already name the flag and the value
    .replace(/^option '[^']*' argument '[\s\S]*' is invalid\. (?=--)/, '')
    .replace(/\s*\n\s*/g, ' ');
  return `${color.red('charrnn: ')}${msg} (run with --help for usage)\n`;
}

/** --stop, repeatable: collects the non-empty values in order. */
function stopArg(v: string, prev: string[] | undefined): string[] {
  if (v === '') throw new InvalidArgumentError('--stop expects a non-empty string, got "".');
  return [...(prev ?? []), v];
}

function choice<T extends string>(flag: string, choices: readonly T[]) {
  return (v: string): T => {
    if (!choices.includes(v as T)) throw new InvalidArgumentError(`${flag} expects one of ${choices.join(', ')}, got "${v}".`);
    return v as T;
  };
}

/** Names of the options the user actually gave (not defaults). */
function explicitOptions(cmd: Command): Set<string> {
  const out = new Set<string>();
  for (const o of cmd.options) {
    const key = o.attributeName();
    if (cmd.getOptionValueSource(key) === 'cli') out.add(key);
  }
  return out;
}

function engineOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--kernels <kind>', 'math kernels: auto (native if built, else wasm), native (C++ addon), wasm (WebAssembly SIMD) or js (TypeScript reference)')
        .default(ENGINE_DEFAULTS.kernels)
        .argParser(choice('--kernels', ['auto', 'native', 'wasm', 'js'] as const)),
    )
    .option('--threads <n>', 'threads for the native and wasm kernels (0 = one per core)', intArg('--threads', 0, 64), ENGINE_DEFAULTS.threads)
    .option('--debug', 'print the stack trace of internal errors');
}

export function buildProgram(): Command {
  const program = new Command('charrnn')
    .description('Character-level RNN / LSTM / GRU language models: train on any UTF-8 text, sample, evaluate.')
    .version(process.env.CHARRNN_VERSION ?? '0.1.0')
    .configureOutput({ outputError: (str, write) => write(formatParseError(str)) })
    .configureHelp({ sortOptions: false });

  // ---- train ----
  const train = program
    .command('train')
    .description('train a model on one or more UTF-8 files (- for stdin; default: the bundled Tiny Shakespeare)')
    .argument('[corpus...]', 'UTF-8 text files, concatenated; - reads stdin')
    // model
    .addOption(new Option('--model <kind>', 'cell: rnn, lstm or gru').default(MODEL_DEFAULTS.model).argParser(choice('--model', CELL_KINDS)))
    .option('--hidden <n>', 'hidden units per layer', intArg('--hidden', 1, 65536), MODEL_DEFAULTS.hidden)
    .option('--layers <n>', 'stacked recurrent layers', intArg('--layers', 1, 64), MODEL_DEFAULTS.layers)
    .option('--embed <n>', 'embedding size (0 = one-hot input)', intArg('--embed', 0, 65536), MODEL_DEFAULTS.embed)
    .option('--dropout <p>', 'dropout between layers and before the output, 0 <= p < 1', floatArg('--dropout', 0, 0.999999, 'in [0, 1)'), MODEL_DEFAULTS.dropout)
    // data
    .option('--seq-length <n>', 'characters per stream per step (truncated BPTT length)', intArg('--seq-length', 1, 100000), TRAIN_DEFAULTS.seqLength)
    .option('--batch-size <n>', 'parallel streams over the corpus', intArg('--batch-size', 1, 100000), TRAIN_DEFAULTS.batchSize)
    .option('--val-frac <f>', 'fraction of the text, at its end, for validation, 0 <= f < 1', floatArg('--val-frac', 0, 0.999999, 'in [0, 1)'), TRAIN_DEFAULTS.valFrac)
    // optimization
    .addOption(new Option('--optimizer <kind>', 'adagrad, rmsprop, adam or sgd').default(OPTIM_DEFAULTS.optimizer).argParser(choice('--optimizer', OPTIMIZER_KINDS)))
    .option(
      '--lr <rate>',
      `learning rate (default: ${OPTIMIZER_KINDS.map((k) => `${k} ${DEFAULT_LR[k]}`).join(', ')})`,
      floatArg('--lr', Number.MIN_VALUE, Infinity, '> 0'),
    )
    .option('--lr-decay <f>', 'multiply the learning rate by f at the end of each epoch from --lr-decay-after on (1 = off)', floatArg('--lr-decay', Number.MIN_VALUE, 1, 'in (0, 1]'), TRAIN_DEFAULTS.lrDecay)
    .option('--lr-decay-after <epochs>', 'first epoch whose end decays the learning rate', intArg('--lr-decay-after', 0), TRAIN_DEFAULTS.lrDecayAfter)
    .addOption(
      new Option('--lr-schedule <kind>', 'none, step (char-rnn\'s --lr-decay) or cosine (nanoGPT\'s warmup, then decay to --min-lr); default: step if --lr-decay < 1, else none')
        .argParser(choice('--lr-schedule', LR_SCHEDULES)),
    )
    .option('--lr-decay-every <epochs>', 'step: epochs between decays', intArg('--lr-decay-every', 1), TRAIN_DEFAULTS.lrDecayEvery)
    .option('--warmup-iters <n>', 'cosine: linear warmup over the first n iterations', intArg('--warmup-iters', 0), TRAIN_DEFAULTS.warmupIters)
    .option('--min-lr <rate>', 'cosine: the final learning rate (default: --lr / 10)', floatArg('--min-lr', 0, Infinity, '>= 0'))
    .option('--lr-decay-iters <n>', "cosine: iteration at which the rate reaches --min-lr (0 = the run's last)", intArg('--lr-decay-iters', 0), TRAIN_DEFAULTS.lrDecayIters)
    .option('--clip <c>', 'clip every gradient value to [-c, c] (0 = off)', floatArg('--clip', 0, Infinity, '>= 0'), OPTIM_DEFAULTS.clip)
    .option('--clip-norm <n>', 'clip the global gradient norm to n (0 = off)', floatArg('--clip-norm', 0, Infinity, '>= 0'), OPTIM_DEFAULTS.clipNorm)
    .addOption(
      new Option('--reduction <r>', 'differentiate the mean loss per character, or the sum over the chunk (min-char-rnn)')
        .default(OPTIM_DEFAULTS.reduction)
        .argParser(choice('--reduction', ['mean', 'sum'] as const)),
    )
    // budget
    .option('--iters <n>', 'stop after n iterations (from the start of the run; 0 = no bound)', intArg('--iters', 0), TRAIN_DEFAULTS.iters)
    .option('--epochs <n>', 'stop after n epochs (0 = no bound)', floatArg('--epochs', 0, Infinity, '>= 0'), TRAIN_DEFAULTS.epochs)
    .option('--time <duration>', 'stop after this much training time, e.g. 90s, 10m, 1h30m', parseDuration)
    .option('--patience <k>', 'stop early when the validation loss has not improved for k evaluations (0 = never)', intArg('--patience', 0), TRAIN_DEFAULTS.patience)
    // reporting and checkpoints
    .option('--eval-every <n>', 'evaluate on the validation split and save checkpoints every n iterations', intArg('--eval-every', 1), TRAIN_DEFAULTS.evalEvery)
    .option('--print-every <n>', 'a progress line (or JSON line) every n iterations', intArg('--print-every', 1), TRAIN_DEFAULTS.printEvery)
    .option('--sample-every <n>', 'print a short sample on stderr every n iterations (0 = never)', intArg('--sample-every', 0), TRAIN_DEFAULTS.sampleEvery)
    .option('--sample-temperature <t>', 'temperature of those samples (0 = argmax)', floatArg('--sample-temperature', 0, Infinity, '>= 0'), TRAIN_DEFAULTS.sampleTemperature)
    .option('--sample-len <n>', 'characters in each of those samples', intArg('--sample-len', 1, 100000), TRAIN_DEFAULTS.sampleLen)
    .option('--checkpoint-dir <dir>', 'where latest.json, best.json and loss.svg are written', TRAIN_DEFAULTS.checkpointDir)
    .option('--keep <n>', 'also keep the n most recent numbered checkpoints, iter-NNNNNN-val-L.json (0 = none)', intArg('--keep', 0), TRAIN_DEFAULTS.keep)
    .option('--plot-log', 'loss.svg (and the chart at the end) with a logarithmic loss axis')
    .option('--resume [path]', 'continue a run exactly where it stopped (default: <checkpoint-dir>/latest.json)')
    .option('--init-from <path>', 'start a new run from the weights of a checkpoint')
    .option('--seed <n>', 'random seed (initialisation, dropout, sample previews)', intArg('--seed', 0), TRAIN_DEFAULTS.seed)
    .option('--recover', 'on a NaN or exploding loss, roll back to the last evaluation and halve the learning rate (up to 8 times)')
    .option('--quiet', 'no progress output, only warnings and errors')
    .option('--json', 'one JSON object a line on stdout for each report and evaluation');
  engineOptions(train).action(async (corpus: string[], o: Record<string, unknown>, cmd: Command) => {
    setQuiet(!!o.quiet);
    const explicit = explicitOptions(cmd);
    const optimizer = o.optimizer as OptimizerKind;
    if (o.resume && o.initFrom) throw new UserError('--resume and --init-from exclude each other; pick one');
    const checkpointDir = o.checkpointDir as string;
    const resume = o.resume === true ? `${checkpointDir}/latest.json` : ((o.resume as string | undefined) ?? null);
    const epochs = o.epochs as number;
    process.exitCode = await runTrain({
      corpus,
      model: {
        model: o.model as CellKind,
        hidden: o.hidden as number,
        layers: o.layers as number,
        embed: o.embed as number,
        dropout: o.dropout as number,
      },
      optim: {
        optimizer,
        lr: (o.lr as number | undefined) ?? DEFAULT_LR[optimizer],
        clip: o.clip as number,
        clipNorm: o.clipNorm as number,
        reduction: o.reduction as 'mean' | 'sum',
      },
      train: {
        seqLength: o.seqLength as number,
        batchSize: o.batchSize as number,
        valFrac: o.valFrac as number,
        iters: o.iters as number,
        // an explicit budget in iterations or time replaces the default epoch bound
        epochs: !explicit.has('epochs') && (explicit.has('iters') || explicit.has('time')) ? 0 : epochs,
        time: (o.time as number | undefined) ?? TRAIN_DEFAULTS.time,
        lrDecay: o.lrDecay as number,
        lrDecayAfter: o.lrDecayAfter as number,
        lrSchedule: scheduleFromFlags(o.lrSchedule as LrScheduleKind | undefined, o.lrDecay as number, explicit, !!resume),
        lrDecayEvery: o.lrDecayEvery as number,
        warmupIters: o.warmupIters as number,
        minLr: (o.minLr as number | undefined) ?? TRAIN_DEFAULTS.minLr,
        lrDecayIters: o.lrDecayIters as number,
        patience: o.patience as number,
        keep: o.keep as number,
        plotLog: !!o.plotLog,
        evalEvery: o.evalEvery as number,
        printEvery: o.printEvery as number,
        sampleEvery: o.sampleEvery as number,
        sampleTemperature: o.sampleTemperature as number,
        sampleLen: o.sampleLen as number,
        checkpointDir,
        seed: o.seed as number,
        recover: !!o.recover,
      },
      engine: { kernels: o.kernels as EngineConfig['kernels'], threads: o.threads as number },
      resume,
      initFrom: (o.initFrom as string | undefined) ?? null,
      explicit,
      json: !!o.json,
    });
  });

  // ---- sample ----
  const sample = program
    .command('sample')
    .description('generate text from a checkpoint, streamed to stdout')
    .option('--checkpoint <path>', 'checkpoint to sample from', SAMPLE_DEFAULTS.checkpoint)
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
  engineOptions(sample).action(async (o: Record<string, unknown>) => {
    process.exitCode = await runSample({
      checkpoint: o.checkpoint as string,
      len: o.len as number,
      temperature: o.temperature as number,
      topK: (o.topK as number | undefined) ?? SAMPLE_DEFAULTS.topK,
      topP: o.topP as number,
      prime: o.prime as string,
      primeFile: o.primeFile as string | undefined,
      unknown: o.unknown as 'error' | 'skip',
      echo: o.echo as boolean,
      argmax: !!o.argmax,
      num: o.num as number,
      separator: o.separator as string,
      stop: (o.stop as string[] | undefined) ?? [],
      beam: (o.beam as number | undefined) ?? SAMPLE_DEFAULTS.beam,
      lengthNorm: o.lengthNorm as number,
      json: !!o.json,
      seed: o.seed as number,
      kernels: o.kernels as EngineConfig['kernels'],
      threads: o.threads as number,
    });
  });

  // ---- eval ----
  const evalCmd = program
    .command('eval')
    .description("loss of a checkpoint on text: nats/char, bits/char, perplexity (default: the checkpoint's validation split)")
    .argument('[file...]', 'UTF-8 text files, concatenated; - reads stdin')
    .option('--checkpoint <path>', 'checkpoint to evaluate', SAMPLE_DEFAULTS.checkpoint)
    .option('--json', 'print {"chars","natsPerChar","bitsPerChar","perplexity"} on stdout');
  engineOptions(evalCmd).action(async (files: string[], o: Record<string, unknown>) => {
    process.exitCode = await runEval({
      files,
      checkpoint: o.checkpoint as string,
      json: !!o.json,
      kernels: o.kernels as EngineConfig['kernels'],
      threads: o.threads as number,
    });
  });

  // ---- plot ----
  program
    .command('plot')
    .description("draw a checkpoint's loss history: a text chart on stdout, or an SVG file with --out")
    .argument('[checkpoint]', 'checkpoint to draw', SAMPLE_DEFAULTS.checkpoint)
    .option('--out <path>', 'write an SVG file instead (- for stdout)')
    .option('--log', 'logarithmic loss axis')
    .option('--debug', 'print the stack trace of internal errors')
    .action(async (checkpoint: string, o: Record<string, unknown>) => {
      process.exitCode = await runPlot({ checkpoint, out: (o.out as string | undefined) ?? null, log: !!o.log });
    });

  // ---- info ----
  program
    .command('info')
    .description('what a checkpoint holds: architecture, parameters, vocabulary, training so far, configuration, format')
    .argument('[checkpoint]', 'checkpoint to describe', SAMPLE_DEFAULTS.checkpoint)
    .option('--json', 'one JSON object on stdout')
    .option('--debug', 'print the stack trace of internal errors')
    .action(async (checkpoint: string, o: Record<string, unknown>) => {
      process.exitCode = await runInfo({ checkpoint, json: !!o.json });
    });

  return program;
}

export async function main(argv: string[], program = buildProgram()): Promise<void> {
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof UserError) {
      errorLine(e.message);
      process.exitCode = e.exitCode;
    } else {
      const err = e as Error;
      errorLine(`internal error: ${err?.message ?? String(e)}${debug ? '' : ' (rerun with --debug for the stack trace)'}`);
      if (debug && err?.stack) process.stderr.write(err.stack + '\n');
      process.exitCode = 70;
    }
  }
}

/** The README's flag tables, made from the same option definitions as --help. */
export function flagTables(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return buildProgram()
    .commands.map((cmd) => {
      const rows = cmd.options.map((o) => {
        const d = o.defaultValue === undefined || o.negate ? '' : o.defaultValue === '' ? '`""`' : '`' + String(o.defaultValue) + '`';
        return `| \`${esc(o.flags)}\` | ${d} | ${esc(o.description)} |`;
      });
      return [`### \`charrnn ${cmd.name()}\``, '', esc(cmd.description()), '', '| flag | default | meaning |', '|---|---|---|', ...rows].join('\n');
    })
    .join('\n\n');
}
