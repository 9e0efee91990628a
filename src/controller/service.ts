/** The `fleetchat.v1.Controller` gRPC service over the worker registry. */
import type { sendUnaryData, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { FleetError } from '../common/errors';
import {
  DispatchMethod,
  WorkerEventType,
  type ControllerServer,
  type GetWorkerAddressRequest,
  type GetWorkerAddressResponse,
  type ListModelsResponse,
  type ModelEntry,
  type WatchWorkersRequest,
  type WorkerEvent,
} from '../common/gen/controller';
import { checkRouteKeys, modelTotals, PrefixIndex, routeRequest, type PrefixRoutingOptions, type RouteReason } from '../common/dispatch';
import { toServiceError } from '../common/grpc/status';
import { peerIdentity } from '../common/grpc/credentials';
import { describeIdentity } from '../common/grpc/identity';
import { AdmissionError, checkOwner, checkRegistration, ownerOf, type Caller, type RefusalReason } from './admission';
import type { Logger } from '../common/log';
import { chooseWorker, type DispatchMethodName } from './dispatch';
import type { WorkerRegistry } from './registry';

export interface ControllerServiceOptions {
  registry: WorkerRegistry;
  logger: Logger;
  defaultMethod: DispatchMethodName;
  heartbeatIntervalMs: number;
  expiryMs: number;
  /** Prefix-aware routing for requests that carry route keys; undefined = off. */
  routing?: PrefixRoutingOptions;
  onDispatch?: (model: string, ok: boolean, route?: RouteReason) => void;
  /** A registration, heartbeat or removal refused by the admission rules (already logged). */
  onRefused?: (reason: RefusalReason) => void;
  random?: () => number;
}

function unary<Req, Res>(fn: (req: Req, caller: Caller) => Res, onError?: (err: unknown, caller: Caller) => void): (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => void {
  return (call, cb) => {
    const caller: Caller = { identity: peerIdentity(call), peer: call.getPeer() };
    try {
      cb(null, fn(call.request, caller));
    } catch (err) {
      onError?.(err, caller);
      cb(toServiceError(err));
    }
  };
}

export function listModels(registry: WorkerRegistry): ListModelsResponse {
  const models = modelTotals(registry.list().map((r) => r.info));
  return { models: models.map((m): ModelEntry => ({ name: m.name, kind: m.kind, workerCount: m.workers, contextLength: m.contextLength, queueLength: m.queueLength, running: m.running })) };
}

function methodName(method: DispatchMethod, fallback: DispatchMethodName): DispatchMethodName {
  if (method === DispatchMethod.DISPATCH_METHOD_LOTTERY) return 'lottery';
  if (method === DispatchMethod.DISPATCH_METHOD_SHORTEST_QUEUE) return 'shortest_queue';
  return fallback;
}

function getWorkerAddress(options: ControllerServiceOptions, req: GetWorkerAddressRequest, prefixes: PrefixIndex | undefined): GetWorkerAddressResponse {
  if (!req.model) throw new FleetError('invalid_request', 'model is required', { param: 'model' });
  const serving = options.registry.list(req.model);
  if (serving.length === 0) {
    const available = listModels(options.registry).models.map((m) => m.name);
    options.onDispatch?.(req.model, false);
    throw new FleetError('not_found', `model '${req.model}' is not served by any worker${available.length ? ` (available: ${available.join(', ')})` : ''}`, { param: 'model', code: 'model_not_found' });
  }
  const exclude = new Set(req.excludeWorkerIds);
  const candidates = serving.filter((e) => !exclude.has(e.info.workerId));
  const method = methodName(req.method, options.defaultMethod);
  const keys = { prefixKeys: req.prefixKeys, affinityKey: req.affinityKey };
  if (options.routing && prefixes && (keys.prefixKeys.length > 0 || keys.affinityKey !== '')) {
    checkRouteKeys(keys);
    const routed = candidates.map((entry) => ({ entry, workerId: entry.info.workerId, status: entry.info.status, pending: entry.dispatchedSinceBeat }));
    const { chosen, route } = routeRequest(routed, keys, prefixes, { method, maxImbalance: options.routing.maxImbalance, random: options.random });
    chosen.entry.dispatchedSinceBeat += 1;
    options.onDispatch?.(req.model, true, route);
    return { address: chosen.entry.info.address, workerId: chosen.workerId, route };
  }
  const chosen = chooseWorker(candidates, method, options.random);
  chosen.dispatchedSinceBeat += 1;
  options.onDispatch?.(req.model, true);
  return { address: chosen.info.address, workerId: chosen.info.workerId, route: '' };
}

type WatchCall = ServerWritableStream<WatchWorkersRequest, WorkerEvent>;

/**
 * A WatchWorkers stream that honours backpressure: while the watcher's send buffer is full, events are not queued
 * but coalesced — the latest event per worker replaces the earlier ones (watchers apply events as state, so the last
 * one is all they need) — and sent on 'drain'. A watcher that never reads therefore holds at most one pending
 * event per registered worker (the registry is capped by --max-workers), not every heartbeat.
 */
function watchWorkers(options: ControllerServiceOptions, call: WatchCall, open: Map<WatchCall, Map<string, WorkerEvent>>): void {
  const pending = new Map<string, WorkerEvent>();
  open.set(call, pending);
  let writable = true;
  const send = (event: WorkerEvent): void => {
    if (call.cancelled) return;
    if (!writable) {
      const id = event.worker?.workerId ?? '';
      pending.delete(id); // re-inserted last: pending events keep their order of last change
      pending.set(id, event);
      return;
    }
    writable = call.write(event);
  };
  const flush = (): void => {
    writable = true;
    for (const [id, event] of pending) {
      pending.delete(id);
      writable = call.write(event);
      if (!writable) return;
    }
  };
  call.on('drain', flush);
  for (const { info } of options.registry.list()) send({ type: WorkerEventType.WORKER_EVENT_TYPE_ADDED, worker: info });
  send({ type: WorkerEventType.WORKER_EVENT_TYPE_SYNCED, worker: undefined });
  const unsubscribe = options.registry.subscribe(send);
  const done = (): void => {
    unsubscribe();
    pending.clear();
    open.delete(call);
  };
  call.on('cancelled', done);
  call.on('close', done);
  call.on('error', done);
}

/** What the open WatchWorkers streams hold back (exported as metrics). */
export interface WatchBacklog {
  /** Open WatchWorkers streams. */
  streams: number;
  /** Coalesced events waiting for a watcher's buffer to drain (at most one per worker per watcher). */
  pendingEvents: number;
  /** Messages accepted by the streams but not yet flushed to their transport. */
  bufferedMessages: number;
}

export interface ControllerServiceHandle {
  implementation: ControllerServer;
  /** Ends every WatchWorkers stream (shutdown). */
  closeWatchers(): void;
  watchBacklog(): WatchBacklog;
}

export function createControllerService(options: ControllerServiceOptions): ControllerServiceHandle {
  const { registry } = options;
  const watches = new Map<WatchCall, Map<string, WorkerEvent>>();
  /** Shared by every gateway that dispatches through this controller (`--dispatch controller`). */
  const prefixes = options.routing ? new PrefixIndex(options.routing.maxEntries) : undefined;
  const refused = (err: unknown, caller: Caller): void => {
    if (!(err instanceof AdmissionError)) return;
    options.logger.warn({ reason: err.reason, peer: caller.peer, identity: describeIdentity(caller.identity), error: err.message }, 'worker registration refused');
    options.onRefused?.(err.reason);
  };
  const implementation: ControllerServer = {
    registerWorker: unary((req, caller) => {
      if (!req.worker) throw new FleetError('invalid_request', 'worker is required', { param: 'worker' });
      checkRegistration(req.worker, caller, registry.get(req.worker.workerId)?.owner);
      registry.register(req.worker, ownerOf(caller));
      options.logger.info({ workerId: req.worker.workerId, address: req.worker.address, models: req.worker.modelNames, identity: describeIdentity(caller.identity) }, 'worker registered');
      return { heartbeatIntervalMs: options.heartbeatIntervalMs, expiryMs: options.expiryMs };
    }, refused),
    heartbeat: unary((req, caller) => {
      checkOwner(req.workerId, caller, registry.get(req.workerId)?.owner);
      return { known: registry.heartbeat(req.workerId, req.status) };
    }, refused),
    deregisterWorker: unary((req, caller) => {
      checkOwner(req.workerId, caller, registry.get(req.workerId)?.owner);
      const removed = registry.deregister(req.workerId);
      if (removed) options.logger.info({ workerId: req.workerId }, 'worker deregistered');
      return { removed };
    }, refused),
    listModels: unary(() => listModels(registry)),
    listWorkers: unary((req) => ({ workers: registry.list(req.model || undefined).map((e) => e.info) })),
    getWorkerAddress: unary((req) => getWorkerAddress(options, req, prefixes)),
    watchWorkers: (call) => watchWorkers(options, call, watches),
  };
  return {
    implementation,
    closeWatchers: () => {
      for (const call of [...watches.keys()]) call.end();
      watches.clear();
    },
    watchBacklog: () => {
      let pendingEvents = 0;
      let bufferedMessages = 0;
      for (const [call, pending] of watches) {
        pendingEvents += pending.size;
        bufferedMessages += call.writableLength;
      }
      return { streams: watches.size, pendingEvents, bufferedMessages };
    },
  };
}
