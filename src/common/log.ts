/** pino logging: JSON by default, pretty on a TTY (or when LOG_FORMAT=pretty). */
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

export type LogFormat = 'json' | 'pretty' | 'auto';

export interface LogOptions {
  level?: string;
  format?: LogFormat;
  /** Destination stream (tests pass a stream instead of a transport so no worker thread stays open). */
  stream?: DestinationStream;
  name?: string;
}

export function createLogger(options: LogOptions = {}): Logger {
  const level = options.level ?? 'info';
  const base = { name: options.name ?? 'fleetchat' };
  if (options.stream) return pino({ level, base }, options.stream);
  const pretty = options.format === 'pretty' || (options.format !== 'json' && process.stderr.isTTY === true);
  if (pretty) {
    // pino-pretty as a synchronous stream (no transport thread).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const prettyFactory = require('pino-pretty') as (opts: object) => DestinationStream;
    return pino({ level, base }, prettyFactory({ colorize: true, destination: 2, sync: true, ignore: 'pid,hostname' }));
  }
  return pino({ level, base }, pino.destination({ dest: 2, sync: false }));
}

/** A logger that discards everything (library defaults, tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * Hop timings: at debug level the gateway and the adapter worker log when a request passed each boundary of its path
 * (`hops: {…}`: gateway handler → worker call → adapter → upstream → first chunk back → relayed → SSE sent), on this
 * clock, so lines from different processes on one machine line up (`BENCH_HOPS=1 npm run bench:adapter` reads them).
 * CLOCK_MONOTONIC in ms since boot (fractional), one clock for every process of a machine — not
 * `performance.timeOrigin + performance.now()`, whose origin can be off by milliseconds in a process that was
 * descheduled while reading its two clocks at startup (seen here under load: hops of −7 ms).
 */
export function hopClockMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** A hop timestamp as logged (microseconds). */
export function hopStamp(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
