/**
 * A list+watch cache (client-node's informer) that restarts itself after errors with backoff, and tells when its
 * first list has been loaded.
 */
import { makeInformer, type Informer, type KubeConfig, type KubernetesListObject, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import type { Logger } from '../../common/log';

export interface Cache<T extends KubernetesObject> {
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): ReadonlyArray<T>;
  /** Resolves after the first successful list. */
  synced: Promise<void>;
  stop(): Promise<void>;
}

export interface CacheOptions<T extends KubernetesObject> {
  kc: KubeConfig;
  /** Watch path, e.g. `/apis/apps/v1/namespaces/ns/deployments`. */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  onChange(obj: T): void;
  logger: Logger;
}

export function startCache<T extends KubernetesObject>(o: CacheOptions<T>): Cache<T> {
  const informer: Informer<T> & ObjectCache<T> = makeInformer<T>(o.kc, o.path, o.list, o.labelSelector);
  let stopped = false;
  let failures = 0;
  let markSynced: () => void = () => undefined;
  const synced = new Promise<void>((resolve) => (markSynced = resolve));
  let restartTimer: NodeJS.Timeout | undefined;
  informer.on('add', (obj) => o.onChange(obj));
  informer.on('update', (obj) => o.onChange(obj));
  informer.on('delete', (obj) => o.onChange(obj));
  // ListWatch.start() resolves even when its list failed (it reports that through 'error' first).
  let failedSinceStart = false;
  let starting: Promise<void> = Promise.resolve();
  const start = (): void => {
    failedSinceStart = false;
    starting = informer.start();
    starting.then(() => {
      if (failedSinceStart) return;
      failures = 0;
      markSynced();
    }, (err: unknown) => onError(err));
  };
  const onError = (err: unknown): void => {
    failedSinceStart = true;
    if (stopped) return;
    failures += 1;
    const delayMs = Math.min(30_000, 200 * 2 ** Math.min(failures, 8));
    o.logger.warn({ path: o.path, err: err instanceof Error ? err.message : String(err), retryInMs: delayMs }, 'watch failed; restarting');
    clearTimeout(restartTimer);
    restartTimer = setTimeout(start, delayMs);
  };
  informer.on('error', onError);
  start();
  return {
    get: (name, namespace) => informer.get(name, namespace),
    list: (namespace) => informer.list(namespace),
    synced,
    stop: async () => {
      stopped = true;
      clearTimeout(restartTimer);
      await informer.stop();
      // A stop during the first list/connect cannot abort the watch that start() is still opening: wait for it
      // (briefly) and stop again, or that watch would keep the process alive until the server closes it.
      await Promise.race([starting.catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
      await informer.stop();
    },
  };
}
