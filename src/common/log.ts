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
