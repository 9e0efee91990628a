/**
 * Token buckets per key (an API key, a client address, an arena session, a judge): each key gets `rate` tokens a
 * second up to `burst`; a request takes one. Over the limit: `overloaded` (HTTP 429, gRPC RESOURCE_EXHAUSTED) with
 * the seconds until the next token (`Retry-After`). Limits are per gateway process: with N replicas behind a load
 * balancer a client gets at most N times the rate. Idle full buckets are dropped so the table stays bounded.
 * Both front doors take from one limiter (--rate-limit), keyed by `rateKeyOf`.
 */
import { FleetError } from '../common/errors';

interface Bucket {
  tokens: number;
  atMs: number;
}

const SWEEP_ABOVE = 10_000;

export interface RateLimit {
  /** Tokens per second (0 = no limit). */
  rate: number;
  /** Largest burst (tokens a full bucket holds). */
  burst: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  /** False for a rate of 0: `take` never refuses (callers may skip it). */
  readonly enabled: boolean;

  /**
   * `describe` words the refusal: it gets the limit and the seconds to wait. `RateLimiter.perMinute` builds the
   * arena's limiters (n a minute, bursts of n).
   */
  constructor(
    private readonly limit: RateLimit,
    private readonly describe: (waitS: number) => string,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.enabled = limit.rate > 0;
  }

  static perMinute(perMinute: number, what: string, nowMs: () => number = Date.now): RateLimiter {
    return new RateLimiter({ rate: perMinute / 60, burst: perMinute }, (waitS) => `too many arena requests from this ${what} (limit ${perMinute} a minute): retry in ${Math.ceil(waitS)} s`, nowMs);
  }

  /** Takes one token for `key`; throws `overloaded` when none is left. A rate of 0 disables the check. */
  take(key: string): void {
    const { rate, burst } = this.limit;
    if (rate <= 0) return;
    const now = this.nowMs();
    const bucket = this.buckets.get(key) ?? { tokens: burst, atMs: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.atMs) * rate) / 1000);
    bucket.atMs = now;
    if (bucket.tokens < 1) {
      this.buckets.set(key, bucket);
      const waitS = (1 - bucket.tokens) / rate;
      throw new FleetError('overloaded', this.describe(waitS), { retryAfterS: waitS, code: 'rate_limited' });
    }
    bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    if (this.buckets.size > SWEEP_ABOVE) this.sweep(now);
  }

  /** Keys with a bucket (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    const { rate, burst } = this.limit;
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.atMs) * rate) / 1000 >= burst) this.buckets.delete(key);
    }
  }
}

/** `RPS[,BURST]` (e.g. `10` or `10,40`; BURST defaults to RPS rounded up, at least 1); '' or `0` = off. */
export function parseRateLimit(raw: string): RateLimit {
  const text = raw.trim();
  if (text === '' || text === '0') return { rate: 0, burst: 0 };
  const m = /^(\d+(?:\.\d+)?)(?:,(\d+))?$/.exec(text);
  if (!m) throw new FleetError('invalid_request', `--rate-limit: expected RPS[,BURST] (e.g. 10 or 10,40), got '${raw}'`, { param: 'rate-limit' });
  const rate = Number(m[1]);
  const burst = m[2] !== undefined ? Number(m[2]) : Math.max(1, Math.ceil(rate));
  if (burst < 1) throw new FleetError('invalid_request', '--rate-limit: BURST must be at least 1', { param: 'rate-limit' });
  return { rate, burst };
}

/** Paths counted by the rate limit: the APIs (not health, metrics or the web UI's files). */
export function isRateLimited(path: string): boolean {
  return path.startsWith('/v1/') || path.startsWith('/arena/');
}

/** The bucket key of a request: `key:<api key>` when keys are on, else `ip:<client address>`. */
export function rateKeyOf(authorization: string | undefined, ip: string, keysOn: boolean): string {
  if (keysOn) {
    const m = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
    if (m) return `key:${m[1].trim()}`;
  }
  return `ip:${ip}`;
}
