/**
 * The gateway's HTTP server limits against slow and greedy clients: how long a client may take to send its headers
 * and its body (slowloris), how long an idle keep-alive connection stays open, how many connections are open at
 * once, and a per-client request rate (token bucket keyed by API key, or by client address when keys are off).
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { durationOption, intOption, stringOption } from '../common/config';
import type { Logger } from '../common/log';
import { parseRateLimit, RateLimiter, type RateLimit } from './rate-limit';

export const httpLimitOptions = {
  headersTimeout: durationOption({ flag: '--headers-timeout', description: 'time a client has to send a request\'s headers (from the connection or the previous request); 408 after it', default: 10_000, defaultLabel: '10s' }),
  bodyTimeout: durationOption({ flag: '--body-timeout', description: 'time a client has to send a whole request (headers and body); 408 after it. Streaming responses are not limited by it', default: 30_000, defaultLabel: '30s' }),
  keepAliveTimeout: durationOption({ flag: '--keep-alive-timeout', description: 'idle keep-alive connections are closed after this long', default: 65_000, defaultLabel: '65s' }),
  maxConnections: intOption({ flag: '--max-connections', description: 'open HTTP connections at most; further ones are closed at once (counted in fleetchat_gateway_connections_refused_total)', default: 4096, min: 1 }),
  rateLimit: stringOption({ flag: '--rate-limit', placeholder: '<rps[,burst]>', description: 'requests a second per API key (per client address when keys are off) on /v1 and /arena, with an optional burst; over it: 429 with Retry-After. Per gateway replica. Empty = off', default: '', pattern: /^$|^\d+(\.\d+)?(,\d+)?$/, patternHint: 'RPS or RPS,BURST' }),
};

export interface HttpLimits {
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  rateLimit: RateLimit;
}

export function httpLimitsOf(config: { headersTimeout: number; bodyTimeout: number; keepAliveTimeout: number; maxConnections: number; rateLimit: string }): HttpLimits {
  return {
    headersTimeoutMs: config.headersTimeout,
    bodyTimeoutMs: Math.max(config.bodyTimeout, config.headersTimeout),
    keepAliveTimeoutMs: config.keepAliveTimeout,
    maxConnections: config.maxConnections,
    rateLimit: parseRateLimit(config.rateLimit),
  };
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = httpLimitsOf({ headersTimeout: 10_000, bodyTimeout: 30_000, keepAliveTimeout: 65_000, maxConnections: 4096, rateLimit: '' });

/**
 * Options for `http.createServer` (through fastify's `http`): Node checks the header and request timeouts every
 * `connectionsCheckingInterval`, so the interval follows the shortest timeout.
 */
export function nodeServerOptions(limits: HttpLimits): { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number } {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.bodyTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

/** The connection cap: Node closes connections beyond `maxConnections` and emits 'drop' for each. */
export function capConnections(server: Server, limits: HttpLimits, onRefused: () => void, logger: Logger): void {
  server.maxConnections = limits.maxConnections;
  let lastLogMs = 0;
  server.on('drop', () => {
    onRefused();
    const now = Date.now();
    if (now - lastLogMs > 10_000) {
      lastLogMs = now;
      logger.warn({ maxConnections: limits.maxConnections }, 'connection refused: the gateway has --max-connections open');
    }
  });
  // A socket that errors (reset by a client that went away) must not become an uncaught error.
  server.on('connection', (socket: Socket) => socket.on('error', () => undefined));
}

/** The per-client limiter: keyed by the API key when keys are on, else by the client address. */
export function requestRateLimiter(limits: HttpLimits): RateLimiter {
  const { rate, burst } = limits.rateLimit;
  return new RateLimiter(limits.rateLimit, (waitS) => `rate limit exceeded: at most ${rate} requests a second (bursts of ${burst}) per client; retry in ${Math.ceil(waitS)} s`);
}
