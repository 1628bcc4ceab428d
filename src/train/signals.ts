// Ctrl-C and SIGTERM during training. The first signal asks the loop to stop after the current
// step and save latest.json (exit 130 / 143); a second one leaves at once without saving, with
// its own line and exit code, QUIT_NOW, so it can be told from the orderly stop. The handlers
// are removed however the run ends (remove() in a finally).

import { errorLine } from '../io/log';

/** Exit code of the immediate exit on a second signal (the checkpoints on disk are intact). */
export const QUIT_NOW = 2;

export class StopSignals {
  /** The first signal received, if any. */
  received: NodeJS.Signals | null = null;
  private readonly handler = (sig: NodeJS.Signals) => this.on(sig);

  /** `onFirst` says what happens now (a line above the progress bar); `latest` names the checkpoint kept. */
  constructor(
    private readonly onFirst: (sig: NodeJS.Signals) => void,
    private readonly latest: string,
  ) {}

  install(): void {
    process.on('SIGINT', this.handler);
    process.on('SIGTERM', this.handler);
  }

  remove(): void {
    process.off('SIGINT', this.handler);
    process.off('SIGTERM', this.handler);
  }

  /** The exit code of a run stopped by a signal (0 without one). */
  exitCode(): number {
    return this.received === 'SIGINT' ? 130 : this.received === 'SIGTERM' ? 143 : 0;
  }

  private on(sig: NodeJS.Signals): void {
    if (this.received) {
      errorLine(`a second signal (${sig}): quitting at once without saving; ${this.latest} holds the last checkpoint written`);
      process.exit(QUIT_NOW);
    }
    this.received = sig;
    this.onFirst(sig);
  }
}
