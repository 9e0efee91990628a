/**
 * Runs tasks with at most `parallel` in flight. A failing task is reported through `onError` and the
 * pool moves on; an aborted signal stops starting new tasks (those in flight finish or see the signal).
 */
import { setMaxListeners } from 'node:events';

export interface PoolOptions<T> {
  parallel: number;
  signal?: AbortSignal;
  onError: (item: T, err: unknown) => void;
}

export interface PoolResult {
  done: number;
  failed: number;
  /** Tasks never started because the signal was aborted. */
  notStarted: number;
}

export async function runPool<T>(items: readonly T[], run: (item: T) => Promise<void>, options: PoolOptions<T>): Promise<PoolResult> {
  const result: PoolResult = { done: 0, failed: 0, notStarted: 0 };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !options.signal?.aborted) {
      const item = items[next];
      next += 1;
      try {
        await run(item);
        result.done += 1;
      } catch (err) {
        result.failed += 1;
        options.onError(item, err);
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(options.parallel, items.length)) }, () => worker());
  await Promise.all(workers);
  result.notStarted = items.length - next;
  return result;
}

/**
 * A signal of our own that follows `outer` (one listener on it) and may carry one listener per request
 * in flight without Node's max-listeners warning.
 */
export function followSignal(outer?: AbortSignal): { signal: AbortSignal; release: () => void } {
  const inner = new AbortController();
  setMaxListeners(0, inner.signal);
  const onAbort = (): void => inner.abort(outer?.reason);
  if (outer?.aborted) inner.abort(outer.reason);
  else outer?.addEventListener('abort', onAbort, { once: true });
  return { signal: inner.signal, release: () => outer?.removeEventListener('abort', onAbort) };
}
