// The product stream: text or JSON on stdout, written in small batches as it is produced.
// A closed stdout (`charrnn sample | head -c 100`) ends the program quietly with exit code 0.

let installed = false;

/** Exit quietly when the reader of stdout goes away (EPIPE), instead of a stack trace. */
export function exitQuietlyOnClosedStdout(): void {
  if (installed) return;
  installed = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') process.exit(0);
    throw e;
  });
}

/** Buffers characters and flushes them every `maxChars` or `maxMs`, whichever comes first. */
export class StreamWriter {
  private buf = '';
  private last = Date.now();
  private tail = ''; // the last character written, '' before any

  constructor(
    private readonly maxChars = 256,
    private readonly maxMs = 40,
  ) {
    exitQuietlyOnClosedStdout();
  }

  /** Returns true when it flushed (a good moment to let the event loop run). */
  write(s: string): boolean {
    if (s.length > 0) this.tail = s[s.length - 1];
    this.buf += s;
    if (this.buf.length >= this.maxChars || Date.now() - this.last >= this.maxMs) {
      this.flush();
      return true;
    }
    return false;
  }

  /**
   * On a terminal, end the last line so the shell's prompt starts on its own line. Into a pipe
   * or a file nothing is added: the output is exactly the product (e.g. --len characters).
   */
  finishLineOnTerminal(): void {
    if (process.stdout.isTTY && this.tail !== '' && this.tail !== '\n') this.write('\n');
  }

  flush(): void {
    if (this.buf) process.stdout.write(this.buf);
    this.buf = '';
    this.last = Date.now();
  }

  /** Flush and wait until stdout has taken everything. */
  async end(): Promise<void> {
    this.flush();
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  }
}

/** Let pending I/O events (a closed pipe, a signal) run. */
export function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
