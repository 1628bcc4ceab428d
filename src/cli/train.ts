// `charrnn train`: its flags (every default from config.ts) and their translation into the run's
// configuration. The work is done in train/train.ts.

import { Command, Option } from '@commander-js/extra-typings';
import { AUTO_WARMUP, CELL_KINDS, DEFAULT_LR, LR_SCHEDULES, MODEL_DEFAULTS, OPTIM_DEFAULTS, OPTIMIZER_KINDS, TRAIN_DEFAULTS } from '../config';
import { UserError } from '../io/errors';
import { setQuiet } from '../io/log';
import { scheduleFromFlags } from '../train/schedule';
import { runTrain } from '../train/train';
import { choice, explicitOptions, floatArg, intArg, parseDuration } from './args';
import { withEngine } from './common';

function trainOptions() {
  return new Command('train')
    .description('train a model on one or more UTF-8 files (- for stdin; default: the bundled Tiny Shakespeare)')
    .argument('[corpus...]', 'UTF-8 text files, concatenated; - reads stdin')
    // model
    .addOption(new Option('--model <kind>', 'cell: rnn, lstm or gru').default(MODEL_DEFAULTS.model).argParser(choice('--model', CELL_KINDS)))
    .option('--hidden <n>', 'hidden units per layer (a new run fits the default to the corpus: README, Learning rates and other defaults)', intArg('--hidden', 1, 65536), MODEL_DEFAULTS.hidden)
    .option('--layers <n>', 'stacked recurrent layers (default fitted to the corpus, as --hidden)', intArg('--layers', 1, 64), MODEL_DEFAULTS.layers)
    .option('--embed <n>', 'embedding size (0 = one-hot input)', intArg('--embed', 0, 65536), MODEL_DEFAULTS.embed)
    .option('--dropout <p>', 'dropout between layers and before the output, 0 <= p < 1 (default raised for a run of many epochs, or a model large for the corpus)', floatArg('--dropout', 0, 0.999999, 'in [0, 1)'), MODEL_DEFAULTS.dropout)
    // data
    .option('--seq-length <n>', 'characters per stream per step (truncated BPTT length)', intArg('--seq-length', 1, 100000), TRAIN_DEFAULTS.seqLength)
    .option('--batch-size <n>', 'parallel streams over the corpus (default lowered so an epoch has at least 20 batches)', intArg('--batch-size', 1, 100000), TRAIN_DEFAULTS.batchSize)
    .option('--val-frac <f>', 'fraction of the text, at its end, for validation, 0 <= f < 1', floatArg('--val-frac', 0, 0.999999, 'in [0, 1)'), TRAIN_DEFAULTS.valFrac)
    // optimization
    .addOption(new Option('--optimizer <kind>', 'adagrad, rmsprop, adam or sgd').default(OPTIM_DEFAULTS.optimizer).argParser(choice('--optimizer', OPTIMIZER_KINDS)))
    .option('--lr <rate>', `learning rate (default: ${OPTIMIZER_KINDS.map((k) => `${k} ${DEFAULT_LR[k]}`).join(', ')})`, floatArg('--lr', Number.MIN_VALUE, Infinity, '> 0'))
    .option('--lr-decay <f>', 'multiply the learning rate by f at the end of each epoch from --lr-decay-after on (1 = off)', floatArg('--lr-decay', Number.MIN_VALUE, 1, 'in (0, 1]'), TRAIN_DEFAULTS.lrDecay)
    .option('--lr-decay-after <epochs>', 'first epoch whose end decays the learning rate', intArg('--lr-decay-after', 0), TRAIN_DEFAULTS.lrDecayAfter)
    .addOption(
      new Option('--lr-schedule <kind>', "none, step (char-rnn's --lr-decay) or cosine (nanoGPT's warmup, then decay to --min-lr); default: step if --lr-decay < 1, else cosine to the end of the run (none when the run has no bound)")
        .argParser(choice('--lr-schedule', LR_SCHEDULES)),
    )
    .option('--lr-decay-every <epochs>', 'step: epochs between decays', intArg('--lr-decay-every', 1), TRAIN_DEFAULTS.lrDecayEvery)
    .option('--warmup-iters <n>', `cosine: linear warmup over the first n iterations (default: ${AUTO_WARMUP.iters}, at most a tenth of the run)`, intArg('--warmup-iters', 0))
    .option('--min-lr <rate>', 'cosine: the final learning rate (default: --lr / 10)', floatArg('--min-lr', 0, Infinity, '>= 0'))
    .option('--lr-decay-iters <n>', "cosine: iteration at which the rate reaches --min-lr (0 = the run's last; with only --time, the estimated end of the budget, where the run then stops)", intArg('--lr-decay-iters', 0), TRAIN_DEFAULTS.lrDecayIters)
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
    .option('--eval-chars <n>', 'characters of the validation split each evaluation reads, the same windows every time (0 = all; the final evaluation reads all)', intArg('--eval-chars', 0), TRAIN_DEFAULTS.evalChars)
    .option('--print-every <n>', 'a progress line (or JSON line) every n iterations', intArg('--print-every', 1), TRAIN_DEFAULTS.printEvery)
    .option('--sample-every <n>', 'print a short sample on stderr every n iterations (0 = never)', intArg('--sample-every', 0), TRAIN_DEFAULTS.sampleEvery)
    .option('--sample-temperature <t>', 'temperature of those samples (0 = argmax)', floatArg('--sample-temperature', 0, Infinity, '>= 0'), TRAIN_DEFAULTS.sampleTemperature)
    .option('--sample-len <n>', 'characters in each of those samples', intArg('--sample-len', 1, 100000), TRAIN_DEFAULTS.sampleLen)
    .option('--checkpoint-dir <dir>', 'where latest.json, best.json and loss.svg are written', TRAIN_DEFAULTS.checkpointDir)
    .option('--keep <n>', 'also keep the n most recent numbered checkpoints, iter-NNNNNN-val-L.json (0 = none)', intArg('--keep', 0), TRAIN_DEFAULTS.keep)
    .option('--plot-log', 'loss.svg (and the chart at the end) with a logarithmic loss axis')
    .option('--resume [path]', 'continue a run exactly where it stopped (default: <checkpoint-dir>/latest.json)')
    .option('--init-from <path>', 'start a new run from the weights of a checkpoint')
    .option('--force', 'start a new run even if --checkpoint-dir holds one (it replaces its latest.json, best.json and numbered checkpoints)')
    .option('--seed <n>', 'random seed (initialisation, dropout, sample previews)', intArg('--seed', 0), TRAIN_DEFAULTS.seed)
    .option('--recover', 'on a NaN or exploding loss, roll back to the last evaluation and halve the learning rate (up to 8 times)')
    .option('--quiet', 'no progress output, only warnings and errors')
    .option('--json', 'one JSON object a line on stdout for each report and evaluation');
}

export function trainCommand() {
  return withEngine(trainOptions()).action(async (corpus, o, cmd) => {
    setQuiet(!!o.quiet);
    const explicit = explicitOptions(cmd);
    if (o.resume && o.initFrom) throw new UserError('--resume and --init-from exclude each other; pick one');
    const resume = o.resume === true ? `${o.checkpointDir}/latest.json` : (o.resume ?? null);
    // an explicit budget in iterations or time replaces the default epoch bound
    const epochs = !explicit.has('epochs') && (explicit.has('iters') || explicit.has('time')) ? 0 : o.epochs;
    const time = o.time ?? TRAIN_DEFAULTS.time;
    const bounded = o.iters > 0 || epochs > 0 || time > 0 || o.lrDecayIters > 0; // a cosine schedule has an end
    process.exitCode = await runTrain({
      corpus,
      model: { model: o.model, hidden: o.hidden, layers: o.layers, embed: o.embed, dropout: o.dropout },
      optim: {
        optimizer: o.optimizer,
        lr: o.lr ?? DEFAULT_LR[o.optimizer],
        clip: o.clip,
        clipNorm: o.clipNorm,
        reduction: o.reduction,
      },
      train: {
        seqLength: o.seqLength,
        batchSize: o.batchSize,
        valFrac: o.valFrac,
        iters: o.iters,
        epochs,
        time,
        lrDecay: o.lrDecay,
        lrDecayAfter: o.lrDecayAfter,
        lrSchedule: scheduleFromFlags(o.lrSchedule, o.lrDecay, explicit, bounded, !!resume),
        lrDecayEvery: o.lrDecayEvery,
        warmupIters: o.warmupIters ?? TRAIN_DEFAULTS.warmupIters,
        minLr: o.minLr ?? TRAIN_DEFAULTS.minLr,
        lrDecayIters: o.lrDecayIters,
        patience: o.patience,
        keep: o.keep,
        plotLog: !!o.plotLog,
        evalEvery: o.evalEvery,
        evalChars: o.evalChars,
        printEvery: o.printEvery,
        sampleEvery: o.sampleEvery,
        sampleTemperature: o.sampleTemperature,
        sampleLen: o.sampleLen,
        checkpointDir: o.checkpointDir,
        seed: o.seed,
        recover: !!o.recover,
      },
      engine: { kernels: o.kernels, threads: o.threads },
      resume,
      initFrom: o.initFrom ?? null,
      force: !!o.force,
      explicit,
      json: !!o.json,
    });
  });
}
