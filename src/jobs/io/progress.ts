/**
 * Progress of a streaming job: a redrawn bar on a terminal, structured pino log lines otherwise (Kubernetes
 * Jobs, CI). Both are throttled; `done()` always emits the final state.
 */
import type { Logger } from '../../common/log';

export interface ProgressState {
  bytesRead: number;
  records: number;
  kept: number;
  dropped: number;
}

export interface Progress {
  update(state: ProgressState): void;
  done(state: ProgressState): void;
}

export interface ProgressOptions {
  label: string;
  totalBytes: number;
  logger: Logger;
  /** Where the bar is drawn when it is a TTY (usually process.stderr). */
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Interval between log lines when not on a TTY. */
  logIntervalMs?: number;
  /** Clock (tests). */
  now?: () => number;
}

const BAR_INTERVAL_MS = 100;
const MB = 1024 * 1024;

export function createProgress(options: ProgressOptions): Progress {
  return options.stream.isTTY === true ? new BarProgress(options) : new LogProgress(options);
}

/** A progress reporter that does nothing (library use, tests). */
export function silentProgress(): Progress {
  return { update: () => undefined, done: () => undefined };
}

function rateMbPerS(bytes: number, elapsedMs: number): number {
  return elapsedMs > 0 ? bytes / MB / (elapsedMs / 1000) : 0;
}

class LogProgress implements Progress {
  private readonly started: number;
  private last = 0;
  private readonly now: () => number;

  constructor(private readonly options: ProgressOptions) {
    this.now = options.now ?? Date.now;
    this.started = this.now();
    this.last = this.started;
  }

  update(state: ProgressState): void {
    const t = this.now();
    if (t - this.last < (this.options.logIntervalMs ?? 10_000)) return;
    this.last = t;
    this.log(state, 'progress');
  }

  done(state: ProgressState): void {
    this.log(state, 'finished');
  }

  private log(state: ProgressState, msg: string): void {
    const elapsedMs = this.now() - this.started;
    const { totalBytes, label } = this.options;
    this.options.logger.info({
      job: label, ...state, totalBytes,
      percent: totalBytes > 0 ? Math.round((1000 * state.bytesRead) / totalBytes) / 10 : 100,
      mbPerS: Math.round(rateMbPerS(state.bytesRead, elapsedMs) * 100) / 100,
      elapsedMs,
    }, msg);
  }
}

class BarProgress implements Progress {
  private readonly started: number;
  private last = 0;
  private readonly now: () => number;

  constructor(private readonly options: ProgressOptions) {
    this.now = options.now ?? Date.now;
    this.started = this.now();
  }

  update(state: ProgressState): void {
    const t = this.now();
    if (t - this.last < BAR_INTERVAL_MS) return;
    this.last = t;
    this.draw(state);
  }

  done(state: ProgressState): void {
    this.draw(state);
    this.options.stream.write('\n');
  }

  private draw(state: ProgressState): void {
    const { totalBytes, label } = this.options;
    const fraction = totalBytes > 0 ? Math.min(1, state.bytesRead / totalBytes) : 1;
    const elapsedMs = this.now() - this.started;
    const rate = rateMbPerS(state.bytesRead, elapsedMs);
    const etaS = rate > 0 ? Math.round((totalBytes - state.bytesRead) / MB / rate) : 0;
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
    const text = `${label} [${bar}] ${(fraction * 100).toFixed(1)}% ${(state.bytesRead / MB).toFixed(1)}/${(totalBytes / MB).toFixed(1)} MB `
      + `${rate.toFixed(1)} MB/s  records ${state.records} kept ${state.kept} dropped ${state.dropped}  eta ${etaS}s`;
    const columns = this.options.stream.columns ?? 120;
    this.options.stream.write(`\r${text.slice(0, Math.max(20, columns - 1)).padEnd(Math.max(20, columns - 1))}`);
  }
}
