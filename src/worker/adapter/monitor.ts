/**
 * Watches the upstream: health (the engine's /health, else GET {base}/models) and, where the engine exports them,
 * its queue gauges from /metrics. A failed probe, or a connection failure seen by a request, marks it down at once;
 * the next good probe marks it up. Changes are reported so the worker can tell the controller right away.
 */
import type { Logger } from '../../common/log';
import type { Dialect } from './dialects';
import { queueFromMetrics } from './prom-text';
import type { Upstream } from './upstream';

export interface MonitorOptions {
  upstream: Upstream;
  dialect: Dialect;
  intervalMs: number;
  logger: Logger;
  onChange?: (healthy: boolean) => void;
}

export class UpstreamMonitor {
  private up = false;
  private queue: { waiting: number; running: number } | undefined;
  /** Whether /metrics had known gauges (checked until the first successful answer). */
  private metrics: 'unknown' | 'yes' | 'no';
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly probeTimeoutMs: number;

  constructor(private readonly options: MonitorOptions) {
    this.metrics = options.dialect.queueMetrics.length > 0 ? 'unknown' : 'no';
    this.probeTimeoutMs = Math.min(3000, Math.max(500, options.intervalMs));
  }

  /** Probes once now, then every interval. */
  async start(): Promise<void> {
    await this.tick();
  }

  healthy(): boolean {
    return this.up;
  }

  /** The engine's own queue (waiting, running) when it exports one, else undefined. */
  engineQueue(): { waiting: number; running: number } | undefined {
    return this.metrics === 'yes' ? this.queue : undefined;
  }

  /** A request could not connect: down now (the next good probe brings it back). */
  markDown(reason: string): void {
    this.set(false, reason);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async tick(): Promise<void> {
    const ok = await this.probeHealth();
    this.set(ok, ok ? 'health probe answered' : 'health probe failed');
    if (ok && this.metrics !== 'no') await this.probeMetrics();
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.tick(), this.options.intervalMs);
      this.timer.unref();
    }
  }

  private async probeHealth(): Promise<boolean> {
    const { upstream, dialect } = this.options;
    if (dialect.healthPath) return (await upstream.probe(dialect.healthPath, this.probeTimeoutMs)).status === 200;
    try {
      await upstream.models(this.probeTimeoutMs);
      return true;
    } catch {
      return false;
    }
  }

  private async probeMetrics(): Promise<void> {
    const res = await this.options.upstream.probe('/metrics', this.probeTimeoutMs);
    if (res.status !== 200) {
      if (this.metrics === 'unknown' && res.status !== 0) this.metrics = 'no';
      return;
    }
    const queue = queueFromMetrics(res.text, this.options.dialect.queueMetrics);
    if (queue === undefined) {
      if (this.metrics === 'unknown') this.metrics = 'no';
      return;
    }
    if (this.metrics === 'unknown') this.options.logger.info('queue length comes from the engine\'s Prometheus metrics');
    this.metrics = 'yes';
    this.queue = queue;
  }

  private set(up: boolean, reason: string): void {
    if (up === this.up) return;
    this.up = up;
    if (up) this.options.logger.info({ upstream: this.options.upstream.label }, 'upstream is up');
    else this.options.logger.warn({ upstream: this.options.upstream.label, reason }, 'upstream is down: worker not ready');
    this.options.onChange?.(up);
  }
}
