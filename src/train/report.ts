// Training progress: a cli-progress bar on stderr when it is a terminal, plain lines when it is
// not (logs, CI), nothing with --quiet; and with --json one JSON object a line on stdout.

import cliProgress from 'cli-progress';
import { info, isQuiet, setLogSink } from '../io/log';
import { exitQuietlyOnClosedStdout } from '../io/output';

export interface Progress {
  iter: number;
  /** Iteration at which the run stops, if a bound in iterations or epochs is set. */
  totalIters: number | null;
  /** Fraction of the run done by the nearer bound (iterations, or the time of --time); null = no bound. */
  done?: number | null;
  epoch: number;
  loss: number;
  valLoss: number | null;
  lr: number;
  /** The global gradient norm before clipping, when --clip-norm computes it. */
  gradNorm?: number | null;
  charsPerSec: number;
  /** Seconds to the end of the run, if known. */
  eta: number | null;
}

export function formatDuration(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '?';
  s = Math.max(0, Math.round(s));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

/** Resolution of the bar's fill (it shows a fraction, not a count). */
const BAR_STEPS = 1000;

function fmt(x: number | null, digits = 4): string {
  return x === null || !Number.isFinite(x) ? '-' : x.toFixed(digits);
}

/** Training speed in characters per second, over windows of about a second, pauses left out. */
export class SpeedMeter {
  /** The speed of the last window (0 before the first step). */
  private speed = 0;
  private windowStart = Date.now();
  private windowChars = 0;

  /** Count `chars` more characters trained; returns the speed. */
  add(chars: number): number {
    this.windowChars += chars;
    const now = Date.now();
    if (now - this.windowStart > 1000 || this.speed === 0) {
      this.speed = (this.windowChars * 1000) / Math.max(1, now - this.windowStart);
      this.windowStart = now;
      this.windowChars = 0;
    }
    return this.speed;
  }

  /** Leave the time since `pauseStart` (a Date.now()) out of the speed: evaluation, previews. */
  pausedSince(pauseStart: number): void {
    this.windowStart += Date.now() - pauseStart;
  }
}

export class Reporter {
  private multi: cliProgress.MultiBar | null = null;
  private bar: cliProgress.SingleBar | null = null;

  constructor(
    private readonly json: boolean,
    private readonly printEvery: number,
  ) {
    // `charrnn train --json | head -1`: a reader that goes away ends the run quietly, as for sample
    // (the checkpoints on disk are those of the last evaluation: they are written atomically).
    if (json) exitQuietlyOnClosedStdout();
    if (!isQuiet() && process.stderr.isTTY) {
      this.multi = new cliProgress.MultiBar(
        {
          stream: process.stderr,
          format:
            '{bar} {percentage}% | iter {iter}{ofTotal} | epoch {epoch} | loss {loss} | val {val} | lr {lr} | {speed} char/s | ETA {etaText}',
          barsize: 20,
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 50,
          fps: 10,
          noTTYOutput: false,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar = this.multi.create(1, 0, {});
      setLogSink((line) => this.multi!.log(line));
    }
  }

  /** One JSON object on stdout (--json). */
  emit(obj: Record<string, unknown>): void {
    if (this.json) process.stdout.write(JSON.stringify(obj) + '\n');
  }

  update(p: Progress): void {
    if (this.bar) {
      // The bar fills by the nearer bound, so a --time run fills with the time spent.
      const done = p.done !== undefined ? p.done : p.totalIters ? p.iter / p.totalIters : null;
      this.bar.setTotal(BAR_STEPS);
      this.bar.update(Math.round(Math.min(1, done ?? 1) * BAR_STEPS), {
        iter: p.iter,
        ofTotal: p.totalIters ? `/${p.totalIters}` : '',
        epoch: p.epoch.toFixed(2),
        loss: fmt(p.loss),
        val: fmt(p.valLoss),
        lr: p.lr.toPrecision(3),
        speed: Math.round(p.charsPerSec).toLocaleString('en-US'),
        etaText: formatDuration(p.eta),
      });
    }
    if (p.iter % this.printEvery !== 0) return;
    if (!this.bar) {
      info(
        `iter ${p.iter}${p.totalIters ? '/' + p.totalIters : ''} (epoch ${p.epoch.toFixed(2)}): ` +
          `train loss ${fmt(p.loss)}, val ${fmt(p.valLoss)}, lr ${p.lr.toPrecision(3)}, ` +
          `${Math.round(p.charsPerSec)} char/s, ETA ${formatDuration(p.eta)}`,
      );
    }
    const norm = p.gradNorm != null ? { gradNorm: p.gradNorm } : {};
    this.emit({ type: 'train', iter: p.iter, epoch: p.epoch, loss: p.loss, lr: p.lr, ...norm, charsPerSec: p.charsPerSec });
  }

  /** A line above the bar (or a plain line). */
  note(line: string): void {
    info(line);
  }

  stop(): void {
    if (this.multi) {
      this.multi.stop();
      setLogSink(null);
      this.multi = null;
      this.bar = null;
    }
  }
}
