/**
 * Token buckets per key (a session, a judge): each key may make `perMinute` arena writes a minute, in bursts of up
 * to `perMinute`. Over the limit: `overloaded` (HTTP 429) with the seconds until the next token. Limits are per
 * gateway process; with N replicas behind a load balancer a client gets at most N times the rate. Idle full
 * buckets are dropped so the table stays bounded.
 */
import { FleetError } from '../../common/errors';

interface Bucket {
  tokens: number;
  atMs: number;
}

const SWEEP_ABOVE = 10_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly perMinute: number,
    private readonly what: string,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Takes one token for `key`; throws `overloaded` when none is left. A limit of 0 disables the check. */
  take(key: string): void {
    if (this.perMinute <= 0) return;
    const now = this.nowMs();
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, atMs: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + ((now - bucket.atMs) * this.perMinute) / 60_000);
    bucket.atMs = now;
    if (bucket.tokens < 1) {
      this.buckets.set(key, bucket);
      const waitS = ((1 - bucket.tokens) * 60) / this.perMinute;
      throw new FleetError('overloaded', `too many arena requests from this ${this.what} (limit ${this.perMinute} a minute): retry in ${Math.ceil(waitS)} s`, {
        retryAfterS: waitS, code: 'rate_limited',
      });
    }
    bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    if (this.buckets.size > SWEEP_ABOVE) this.sweep(now);
  }

  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.atMs) * this.perMinute) / 60_000 >= this.perMinute) this.buckets.delete(key);
    }
  }
}
