/**
 * Kubernetes Events for a ModelWorker (what `kubectl describe` shows). Repeats of the same event within ten minutes
 * bump its count instead of creating a new object. Recording never fails the caller: errors are logged.
 */
import { PatchStrategy, setHeaderOptions, type CoreV1Api, type CoreV1Event } from '@kubernetes/client-node';
import type { Logger } from '../../common/log';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; uid?: string; resourceVersion?: string };
}

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  record(target: EventTarget, type: EventType, reason: string, message: string): Promise<void>;
}

const REPEAT_WINDOW_MS = 10 * 60_000;

export function eventRecorder(core: CoreV1Api, options: { component: string; instance: string; logger: Logger }): EventRecorder {
  const recent = new Map<string, { name: string; count: number; atMs: number }>();
  const prune = (now: number): void => {
    for (const [k, v] of recent) if (now - v.atMs > REPEAT_WINDOW_MS) recent.delete(k);
  };
  return {
    record: async (target, type, reason, message) => {
      const now = Date.now();
      prune(now);
      const { namespace } = target.metadata;
      const key = `${target.metadata.uid ?? target.metadata.name}/${type}/${reason}/${message}`;
      const seen = recent.get(key);
      try {
        if (seen) {
          seen.count += 1;
          seen.atMs = now;
          await core.patchNamespacedEvent({ namespace, name: seen.name, body: { count: seen.count, lastTimestamp: new Date(now).toISOString() } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
          return;
        }
        const name = `${target.metadata.name}.${now.toString(16)}${Math.floor(Math.random() * 0xfff).toString(16)}`;
        const body: CoreV1Event = {
          metadata: { name, namespace },
          involvedObject: { apiVersion: target.apiVersion, kind: target.kind, name: target.metadata.name, namespace, uid: target.metadata.uid, resourceVersion: target.metadata.resourceVersion },
          type, reason, message: message.slice(0, 1024),
          firstTimestamp: new Date(now), lastTimestamp: new Date(now), count: 1,
          source: { component: options.component }, reportingComponent: options.component, reportingInstance: options.instance,
        };
        await core.createNamespacedEvent({ namespace, body });
        recent.set(key, { name, count: 1, atMs: now });
      } catch (err) {
        options.logger.warn({ err: err instanceof Error ? err.message : String(err), reason }, 'could not record event');
      }
    },
  };
}
