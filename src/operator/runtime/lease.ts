/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does: a candidate takes the
 * Lease when it is free or its holder has not renewed it for leaseDuration (measured on OUR clock from when we
 * last saw the record change, so clock skew between nodes does not matter); the leader renews every retryPeriod
 * and steps down when it could not renew for renewDeadline. Updates carry the resourceVersion, so two candidates
 * racing for the same Lease cannot both win: the loser gets 409 Conflict.
 */
import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../../common/log';
import { isNotFound } from './kube-errors';

export interface LeaderElectionOptions {
  api: CoordinationV1Api;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  logger: Logger;
  /** Called when this candidate becomes leader; the signal aborts when it stops leading. */
  onStartedLeading(signal: AbortSignal): void;
  onStoppedLeading(): void;
}

export interface LeaderElector {
  isLeader(): boolean;
  /** Stops campaigning; a leader releases the Lease so another candidate takes over at once. */
  stop(): Promise<void>;
}

interface Observed {
  holder: string;
  renewTime: string;
  atMs: number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

const jitter = (ms: number): number => ms * (1 + 0.2 * Math.random());

/** Lease times as client-node hands them back: a string (MicroTime is not in its type map) or a Date. */
function micro(value: Date | string | undefined): V1MicroTime | undefined {
  return value === undefined ? undefined : new V1MicroTime(new Date(value).getTime());
}

export function startLeaderElection(o: LeaderElectionOptions): LeaderElector {
  const stopping = new AbortController();
  let observed: Observed | undefined;
  let leading: AbortController | undefined;
  const log = o.logger.child({ lease: `${o.namespace}/${o.name}`, identity: o.identity });

  const leaseBody = (previous: V1Lease | undefined, nowMs: number): V1Lease => {
    const spec = previous?.spec ?? {};
    const changedHands = spec.holderIdentity !== o.identity;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: o.name, namespace: o.namespace, resourceVersion: previous?.metadata?.resourceVersion },
      spec: {
        holderIdentity: o.identity,
        leaseDurationSeconds: Math.ceil(o.leaseDurationMs / 1000),
        // MicroTime: the API server wants microseconds (a plain Date serialises milliseconds and is refused).
        acquireTime: changedHands || !spec.acquireTime ? new V1MicroTime(nowMs) : micro(spec.acquireTime),
        renewTime: new V1MicroTime(nowMs),
        leaseTransitions: previous ? (spec.leaseTransitions ?? 0) + (changedHands ? 1 : 0) : 0,
      },
    };
  };

  /** One attempt to acquire or renew; true when we hold the Lease afterwards. */
  const tryAcquireOrRenew = async (): Promise<boolean> => {
    const nowMs = Date.now();
    let current: V1Lease | undefined;
    try {
      current = await o.api.readNamespacedLease({ namespace: o.namespace, name: o.name });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await o.api.createNamespacedLease({ namespace: o.namespace, body: leaseBody(undefined, nowMs) });
      return true;
    }
    const holder = current.spec?.holderIdentity ?? '';
    const renewTime = current.spec?.renewTime ? new Date(current.spec.renewTime).toISOString() : '';
    if (!observed || observed.holder !== holder || observed.renewTime !== renewTime) observed = { holder, renewTime, atMs: nowMs };
    const durationMs = (current.spec?.leaseDurationSeconds ?? 0) * 1000;
    const heldByOther = holder !== '' && holder !== o.identity && observed.atMs + durationMs > nowMs;
    if (heldByOther) return false;
    await o.api.replaceNamespacedLease({ namespace: o.namespace, name: o.name, body: leaseBody(current, nowMs) });
    return true;
  };

  const attempt = async (): Promise<boolean> => {
    try {
      return await tryAcquireOrRenew();
    } catch (err) {
      log.debug({ err: err instanceof Error ? err.message : String(err) }, 'lease attempt failed');
      return false;
    }
  };

  const lead = async (): Promise<void> => {
    leading = new AbortController();
    log.info('became leader');
    o.onStartedLeading(leading.signal);
    let lastRenewMs = Date.now();
    while (!stopping.signal.aborted) {
      await sleep(o.retryPeriodMs, stopping.signal);
      if (stopping.signal.aborted) break;
      if (await attempt()) lastRenewMs = Date.now();
      else if (Date.now() - lastRenewMs > o.renewDeadlineMs) break;
    }
    if (!stopping.signal.aborted) log.warn('lost the lease: stopping work');
    leading.abort();
    leading = undefined;
    o.onStoppedLeading();
  };

  const campaign = async (): Promise<void> => {
    while (!stopping.signal.aborted) {
      if (await attempt()) await lead();
      else await sleep(jitter(o.retryPeriodMs), stopping.signal);
    }
  };

  const running = campaign();

  return {
    isLeader: () => leading !== undefined,
    stop: async () => {
      const wasLeader = leading !== undefined;
      stopping.abort();
      await running;
      if (wasLeader) await release();
    },
  };

  async function release(): Promise<void> {
    try {
      const current = await o.api.readNamespacedLease({ namespace: o.namespace, name: o.name });
      if (current.spec?.holderIdentity !== o.identity) return;
      const body: V1Lease = { ...current, spec: { ...current.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new V1MicroTime(), acquireTime: micro(current.spec?.acquireTime) } };
      await o.api.replaceNamespacedLease({ namespace: o.namespace, name: o.name, body });
      log.info('released the lease');
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not release the lease');
    }
  }
}
