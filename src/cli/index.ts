// The command line: parse, validate, report. One module per subcommand defines its flags (every
// default from config.ts) and hands typed options to the code that does the work. Every user
// error ends as one line on stderr and a non-zero exit code, with no stack trace (--debug shows it).

import { Command } from '@commander-js/extra-typings';
import { version } from '../../package.json';
import { UserError } from '../io/errors';
import { color, errorLine } from '../io/log';
import { exportCommand, importCommand } from './export';
import { evalCommand, infoCommand, plotCommand } from './inspect';
import { explainCommand } from './explain';
import { sampleCommand } from './sample';
import { trainCommand } from './train';

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

/** Set from the parsed options of the command that runs, so `--prime --debug` is not --debug. */
let debug = false;

export function buildProgram() {
  const program = new Command('charrnn')
    .description('Character-level RNN / LSTM / GRU language models: train on any UTF-8 text, sample, evaluate.')
    .version(process.env.CHARRNN_VERSION ?? version)
    .configureOutput({ outputError: (str, write) => write(formatParseError(str)) })
    .configureHelp({ sortOptions: false });
  for (const cmd of [trainCommand(), sampleCommand(), evalCommand(), explainCommand(), plotCommand(), infoCommand(), exportCommand(), importCommand()]) {
    // addCommand, unlike command(), does not pass on the one-line error output and help settings
    program.addCommand(cmd.copyInheritedSettings(program));
  }
  program.hook('preAction', (_program, action) => {
    debug = action.opts().debug === true;
  });
  return program;
}

export async function main(argv: string[], program = buildProgram()): Promise<void> {
  debug = false;
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
