/**
 * Per-request hop timings: the gateway and the adapter worker log, at debug level, when a request passed each
 * boundary of the path (gateway handler → worker call → adapter → upstream → first chunk back → relayed), as wall-clock
 * milliseconds with microsecond resolution, so lines from different processes on one machine line up
 * (`npm run bench:adapter` with BENCH_HOPS=1 reads them; docs: README "what the adapter costs").
 */

/** Now, in wall-clock ms (fractional): comparable between processes on one machine, unlike performance.now(). */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A timestamp as logged (3 decimals: microseconds). */
export function stamp(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
