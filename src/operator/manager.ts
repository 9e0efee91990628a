/**
 * The ModelWorker controller loop: informers on ModelWorkers and on the Deployments the operator manages feed a
 * work queue keyed by namespace/name; `workers` loops take keys (one reconcile per key at a time), retry failures
 * with exponential backoff and re-queue every key each resync period.
 */
import type { KubeConfig, V1Deployment } from '@kubernetes/client-node';
import type { Logger } from '../common/log';
import { GROUP, KIND, PLURAL, VERSION } from './api/v1alpha1/schema';
import type { ModelWorker } from './api/v1alpha1/types';
import type { OperatorMetrics } from './metrics';
import type { ReconcileContext, ReconcileResult } from './modelworker/context';
import { MANAGED_BY } from './modelworker/labels';
import { reconcileModelWorker } from './modelworker/reconcile';
import { startCache, type Cache } from './runtime/informer';
import { isConflict, kubeMessage } from './runtime/kube-errors';
import { WorkQueue } from './runtime/workqueue';

export interface ManagerOptions {
  kc: KubeConfig;
  /** Namespace to watch; undefined = all namespaces. */
  namespace: string | undefined;
  workers: number;
  resyncPeriodMs: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  context: Omit<ReconcileContext, 'getModelWorker' | 'getDeployment'>;
  metrics: OperatorMetrics;
  logger: Logger;
  /** Replaces reconcileModelWorker (tests wrap it). */
  reconcile?: (ctx: ReconcileContext, key: string) => Promise<ReconcileResult>;
}

export interface RunningManager {
  queue: WorkQueue;
  synced: Promise<void>;
  stop(): Promise<void>;
}

function keyOf(obj: { metadata?: { namespace?: string; name?: string } }): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

function nsPath(namespace: string | undefined): string {
  return namespace ? `/namespaces/${namespace}` : '';
}

function startCaches(o: ManagerOptions, queue: WorkQueue): { mws: Cache<ModelWorker>; deployments: Cache<V1Deployment> } {
  const mws = startCache<ModelWorker>({
    kc: o.kc, logger: o.logger,
    path: `/apis/${GROUP}/${VERSION}${nsPath(o.namespace)}/${PLURAL}`,
    list: () => o.context.kube.listModelWorkers(o.namespace),
    onChange: (mw) => queue.add(keyOf(mw)),
  });
  const selector = `app.kubernetes.io/managed-by=${MANAGED_BY}`;
  const deployments = startCache<V1Deployment>({
    kc: o.kc, logger: o.logger, labelSelector: selector,
    path: `/apis/apps/v1${nsPath(o.namespace)}/deployments`,
    list: () => (o.namespace
      ? o.context.kube.apps.listNamespacedDeployment({ namespace: o.namespace, labelSelector: selector })
      : o.context.kube.apps.listDeploymentForAllNamespaces({ labelSelector: selector })),
    onChange: (d) => {
      const owner = d.metadata?.ownerReferences?.find((r) => r.kind === KIND && r.controller);
      if (owner) queue.add(`${d.metadata?.namespace ?? ''}/${owner.name}`);
    },
  });
  return { mws, deployments };
}

export function startManager(o: ManagerOptions): RunningManager {
  const queue = new WorkQueue({ baseDelayMs: o.retryBaseDelayMs, maxDelayMs: o.retryMaxDelayMs });
  const { mws, deployments } = startCaches(o, queue);
  const ctx: ReconcileContext = { ...o.context, getModelWorker: (ns, name) => mws.get(name, ns), getDeployment: (ns, name) => deployments.get(name, ns) };
  const reconcile = o.reconcile ?? reconcileModelWorker;
  const synced = Promise.all([mws.synced, deployments.synced]).then(() => undefined);

  const processOne = async (key: string): Promise<void> => {
    const end = o.metrics.reconcileSeconds.startTimer();
    try {
      const result = await reconcile(ctx, key);
      queue.forget(key);
      o.metrics.reconciles.inc({ result: 'success' });
      if (result.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
    } catch (err) {
      const conflict = isConflict(err);
      o.metrics.reconciles.inc({ result: conflict ? 'conflict' : 'error' });
      const retryInMs = queue.addRateLimited(key);
      const log = conflict ? o.logger.debug.bind(o.logger) : o.logger.warn.bind(o.logger);
      log({ key, err: kubeMessage(err), retryInMs, retries: queue.retries(key) }, conflict ? 'conflict: retrying with fresh data' : 'reconcile failed');
    } finally {
      end();
      queue.done(key);
    }
  };

  let markStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (markStopped = resolve));
  let stopping = false;
  const loop = async (): Promise<void> => {
    await Promise.race([synced, stopped]);
    while (!stopping) {
      const key = await queue.get();
      if (key === undefined) return;
      await processOne(key);
    }
  };
  const loops = Array.from({ length: o.workers }, () => loop());
  const resync = setInterval(() => {
    for (const mw of mws.list()) queue.add(keyOf(mw));
  }, o.resyncPeriodMs);
  resync.unref();

  return {
    queue,
    synced,
    stop: async () => {
      stopping = true;
      markStopped();
      clearInterval(resync);
      queue.shutdown();
      await Promise.all([mws.stop(), deployments.stop()]);
      await Promise.all(loops);
    },
  };
}
