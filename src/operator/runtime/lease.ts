/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does: a candidate takes the
 * Lease when it is free or its holder has not renewed it for leaseDuration (measured on OUR clock from when we
 * last saw the record change, so clock skew between nodes does not matter); the leader renews every retryPeriod
 * and steps down when it could not renew for renewDeadline. Updates carry the resourceVersion, so two candidates
 * racing for the same Lease cannot both win: the loser gets 409 Conflict.
 *
 * Every Lease API call is bounded (an AbortSignal on the request, and a timer in case the request ignores it): a
 * leader's renewal by what is left of its renew deadline, counted from the START of its last successful renewal (the
 * renewTime it wrote), so a hung call cannot keep a replica leading after another one may take the Lease; a
 * candidate's calls by the renew deadline.
 */
import { Observable, V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { FleetError } from '../../common/errors';
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

type CallOptions = Parameters<CoordinationV1Api['readNamespacedLease']>[1];

/**
 * Runs one API call with `signal` on its HTTP request, and gives up when the signal fires even if the request does
 * not (a stalled TLS connection, a proxy that holds the body).
 */
export async function boundedCall<T>(signal: AbortSignal, call: (options: CallOptions) => Promise<T>): Promise<T> {
  const options: CallOptions = {
    middleware: [{
      pre: (ctx) => {
        ctx.setSignal(signal);
        return new Observable(Promise.resolve(ctx));
      },
      post: (res) => new Observable(Promise.resolve(res)),
    }],
    middlewareMergeStrategy: 'append',
  };
  signal.throwIfAborted();
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(new FleetError('deadline_exceeded', `Lease call abandoned: ${signal.reason instanceof Error ? signal.reason.message : 'aborted'}`));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([call(options), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

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

  /** One attempt to acquire or renew, all of its calls aborted by `signal`; true when we hold the Lease afterwards. */
  const tryAcquireOrRenew = async (nowMs: number, signal: AbortSignal): Promise<boolean> => {
    let current: V1Lease | undefined;
    try {
      current = await boundedCall(signal, (opts) => o.api.readNamespacedLease({ namespace: o.namespace, name: o.name }, opts));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await boundedCall(signal, (opts) => o.api.createNamespacedLease({ namespace: o.namespace, body: leaseBody(undefined, nowMs) }, opts));
      return true;
    }
    const holder = current.spec?.holderIdentity ?? '';
    const renewTime = current.spec?.renewTime ? new Date(current.spec.renewTime).toISOString() : '';
    if (!observed || observed.holder !== holder || observed.renewTime !== renewTime) observed = { holder, renewTime, atMs: nowMs };
    const durationMs = (current.spec?.leaseDurationSeconds ?? 0) * 1000;
    const heldByOther = holder !== '' && holder !== o.identity && observed.atMs + durationMs > nowMs;
    if (heldByOther) return false;
    await boundedCall(signal, (opts) => o.api.replaceNamespacedLease({ namespace: o.namespace, name: o.name, body: leaseBody(current, nowMs) }, opts));
    return true;
  };

  /** One attempt that gives up after `budgetMs` (or when stopping). */
  const attempt = async (nowMs: number, budgetMs: number): Promise<boolean> => {
    if (budgetMs <= 0) return false;
    const signal = AbortSignal.any([stopping.signal, AbortSignal.timeout(budgetMs)]);
    try {
      return await tryAcquireOrRenew(nowMs, signal);
    } catch (err) {
      log.debug({ err: err instanceof Error ? err.message : String(err) }, 'lease attempt failed');
      return false;
    }
  };

  const lead = async (acquiredAtMs: number): Promise<void> => {
    leading = new AbortController();
    log.info('became leader');
    o.onStartedLeading(leading.signal);
    let lastRenewMs = acquiredAtMs;
    while (!stopping.signal.aborted) {
      await sleep(Math.min(o.retryPeriodMs, lastRenewMs + o.renewDeadlineMs - Date.now()), stopping.signal);
      if (stopping.signal.aborted) break;
      // The renewTime we write is taken before the call, so the deadline counts from what others see.
      const startMs = Date.now();
      if (await attempt(startMs, lastRenewMs + o.renewDeadlineMs - startMs)) lastRenewMs = startMs;
      else if (Date.now() - lastRenewMs >= o.renewDeadlineMs) break;
    }
    if (!stopping.signal.aborted) log.warn('lost the lease: stopping work');
    leading.abort();
    leading = undefined;
    o.onStoppedLeading();
  };

  const campaign = async (): Promise<void> => {
    while (!stopping.signal.aborted) {
      const startMs = Date.now();
      if (await attempt(startMs, o.renewDeadlineMs)) await lead(startMs);
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
    const signal = AbortSignal.timeout(o.renewDeadlineMs);
    try {
      const current = await boundedCall(signal, (opts) => o.api.readNamespacedLease({ namespace: o.namespace, name: o.name }, opts));
      if (current.spec?.holderIdentity !== o.identity) return;
      const body: V1Lease = { ...current, spec: { ...current.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new V1MicroTime(), acquireTime: micro(current.spec?.acquireTime) } };
      await boundedCall(signal, (opts) => o.api.replaceNamespacedLease({ namespace: o.namespace, name: o.name, body }, opts));
      log.info('released the lease');
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not release the lease');
    }
  }
}
