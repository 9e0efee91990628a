/**
 * Watches the upstream: health (the engine's /health, else GET {base}/models) and, where the engine exports them,
 * its queue gauges from /metrics. A failed probe, or a connection failure seen by a request, marks it down at once;
 * the next good probe marks it up. Changes are reported so the worker can tell the controller right away.
 */
import type { Logger } from '../../common/log';
import type { Dialect } from './dialects';
import { queueFromMetrics } from './prom-text';
import { isTimeout, type Upstream } from './upstream';

/**
 * How long an engine that accepts connections but answers nothing (no probe, no streamed bytes) stays "up": a busy
 * engine may answer probes slowly (llama-cpp-python answers nothing while it generates for another client); a refused
 * connection counts at once.
 */
const HUNG_AFTER_MS = 30_000;

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
  /** When the upstream last answered a probe or sent bytes of a request (performance.now()). */
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
    if (result === 'up') this.lastAliveMs = performance.now();
    if (result !== 'timeout') this.set(result === 'up', result === 'up' ? 'health probe answered' : 'health probe failed');
    else if (performance.now() - this.lastAliveMs > HUNG_AFTER_MS) this.set(false, `no answer for ${HUNG_AFTER_MS / 1000} s`);
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
