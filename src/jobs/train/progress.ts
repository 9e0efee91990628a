/**
 * Training progress for people and machines: on a terminal one redrawn line (step, bar, loss, tokens/s, ETA) on
 * stderr; otherwise each trainer event as a pino JSON log line (Kubernetes, CI).
 */
import type { Logger } from '../../common/log';
import type { StepEvent, TrainerEvent } from './events';

export interface TrainProgress {
  event(e: TrainerEvent): void;
  close(): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

export function stepLine(e: StepEvent, width: number): string {
  const barWidth = Math.max(10, Math.min(30, width - 70));
  const filled = Math.round((e.step / Math.max(1, e.max_steps)) * barWidth);
  const bar = `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(barWidth - filled)}`;
  const rate = Math.round(e.tokens_per_s).toLocaleString('en-US');
  return `step ${e.step}/${e.max_steps} [${bar}] loss ${e.loss.toFixed(4)} · ${rate} tok/s · lr ${e.lr.toExponential(2)} · ETA ${formatDuration(e.eta_s)}`;
}

class BarProgress implements TrainProgress {
  private drawn = false;
  constructor(private readonly stream: NodeJS.WritableStream & { columns?: number }) {}

  event(e: TrainerEvent): void {
    if (e.event === 'step') {
      this.stream.write(`\r\x1b[2K${stepLine(e, this.stream.columns ?? 100)}`);
      this.drawn = true;
      return;
    }
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
    if (e.event === 'start') {
      const from = e.resumed_from ? `, resuming from ${e.resumed_from}` : '';
      this.stream.write(`training ${String(e.model)} on ${String(e.records)} records (${String(e.tokens)} tokens, rows ${Math.round(Number(e.row_fill) * 100)}% full), ` +
        `${e.max_steps} steps on ${String(e.world_size)} × ${String(e.device)}, attention ${String(e.attention)}${from}\n`);
    } else if (e.event === 'checkpoint') this.stream.write(`checkpoint ${e.path}\n`);
  }

  close(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}

class LogProgress implements TrainProgress {
  constructor(private readonly logger: Logger) {}
  event(e: TrainerEvent): void {
    if (e.event === 'error') this.logger.error(e, e.message);
    else this.logger.info(e, `train ${e.event}`);
  }
  close(): void {}
}

export function createTrainProgress(stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }, logger: Logger, forceJson: boolean): TrainProgress {
  return stream.isTTY === true && !forceJson ? new BarProgress(stream) : new LogProgress(logger);
}
