// Everything that is not the product goes to stderr: logs, warnings, progress. Colour only
// when stderr is a terminal and NO_COLOR is not set (chalk's stderr instance checks both).

import { chalkStderr } from 'chalk';

export const color = chalkStderr;

let quiet = false;

/** With --quiet only warnings and errors are printed. */
export function setQuiet(q: boolean): void {
  quiet = q;
}

export function isQuiet(): boolean {
  return quiet;
}

/** A line for people, on stderr. An optional sink (the progress bar) prints it above the bar. */
let sink: ((line: string) => void) | null = null;
export function setLogSink(s: ((line: string) => void) | null): void {
  sink = s;
}

function write(line: string): void {
  if (sink) sink(line + '\n');
  else process.stderr.write(line + '\n');
}

export function info(msg: string): void {
  if (!quiet) write(msg);
}

export function warn(msg: string): void {
  write(color.yellow('warning: ') + msg);
}

export function errorLine(msg: string): void {
  process.stderr.write(color.red('charrnn: ') + msg + '\n');
}
