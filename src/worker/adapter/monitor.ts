/**
 * Watches the upstream: health (the engine's /health, else GET {base}/models) and, where the engine exports them,
 * its queue gauges from /metrics. A failed probe, or a connection failure seen by a request, marks it down at once;
 * the next good probe marks it up. Changes are reported so the worker can tell the controller right away.
 */
import type { Logger } from '../../common/log';
import type { Dialect } from './dialects';
import { queueFromMetrics } from './prom-text';
import { isTimeout, type Upstream } from './upstream';

/** Probes that time out in a row before a busy-but-alive engine counts as down (a refused connection counts at once). */
const TIMEOUTS_TO_DOWN = 3;

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
  private timeouts = 0;
  /** When the upstream last sent bytes of a request (performance.now()). */
  private lastAliveMs = -Infinity;
  private stopped = false;
  private readonly probeTimeoutMs: number;

  constructor(private readonly options: MonitorOptions) {
    this.metrics = options.dialect.queueMetrics.length > 0 ? 'unknown' : 'no';
    this.probeTimeoutMs = Math.min(5000, Math.max(2000, options.intervalMs));
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

  /** The upstream just sent part of an answer: it is alive, whatever a slow probe says (called per chunk: cheap). */
  noteAlive(): void {
    this.lastAliveMs = performance.now();
    if (!this.up) this.set(true, 'request answered');
  }

  private async tick(): Promise<void> {
    const result = await this.probeHealth();
    // A busy engine (llama-cpp-python serves nothing else while it generates) may not answer a probe in time; it
    // counts only when no request got bytes from it meanwhile either.
    const streaming = performance.now() - this.lastAliveMs < this.probeTimeoutMs + this.options.intervalMs;
    if (result === 'timeout' && streaming) {
      this.timeouts = 0;
    } else if (result === 'timeout') {
      this.timeouts += 1;
      if (this.timeouts >= TIMEOUTS_TO_DOWN) this.set(false, `${this.timeouts} health probes timed out`);
    } else {
      this.timeouts = 0;
      this.set(result === 'up', result === 'up' ? 'health probe answered' : 'health probe failed');
    }
    const ok = this.up;
    if (ok && this.metrics !== 'no') await this.probeMetrics();
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.tick(), this.options.intervalMs);
      this.timer.unref();
    }
  }

  private async probeHealth(): Promise<'up' | 'down' | 'timeout'> {
    const { upstream, dialect } = this.options;
    if (dialect.healthPath) {
      const status = (await upstream.probe(dialect.healthPath, this.probeTimeoutMs)).status;
      return status === 200 ? 'up' : status === -1 ? 'timeout' : 'down';
    }
    try {
      await upstream.models(this.probeTimeoutMs);
      return 'up';
    } catch (err) {
      return isTimeout(err) ? 'timeout' : 'down';
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
