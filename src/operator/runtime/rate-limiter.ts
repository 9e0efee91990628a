/** Per-key exponential backoff for retries (client-go's ItemExponentialFailureRateLimiter): base * 2^failures, capped. */
export interface RateLimiterOptions {
  baseDelayMs: number;
  maxDelayMs: number;
}

export class ExponentialRateLimiter {
  private readonly failures = new Map<string, number>();

  constructor(private readonly options: RateLimiterOptions) {}

  /** The delay before the next retry of `key`; counts one more failure. */
  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = this.options.baseDelayMs * 2 ** Math.min(n, 52);
    return Math.min(delay, this.options.maxDelayMs);
  }

  /** Failures counted for `key` since its last success. */
  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Resets `key` after a success. */
  forget(key: string): void {
    this.failures.delete(key);
  }
}
