/**
 * The gateway's view of the cluster: a WatchWorkers stream keeps a live list of workers (reconnecting with
 * backoff when the controller restarts). Dispatch picks a worker locally from this view by default (no extra hop
 * per request); it asks the controller (GetWorkerAddress) only when the view is not synced yet, has no worker for
 * the model, or `--dispatch controller` is set. A picked worker comes with its gRPC channel: one per worker address,
 * reused by every request (closed with the view).
 */
import { Metadata, type ClientReadableStream } from '@grpc/grpc-js';
import { ControllerClient, DispatchMethod, WorkerEventType, type WorkerEvent, type WorkerInfo } from '../../common/gen/controller';
import { WorkerClient, type GenerateRequest, type ModelKind } from '../../common/gen/worker';
import { inProcessGenerate, type ClientStreamCall } from '../../common/grpc/in-process';
import { chooseCandidate, modelTotals, PrefixIndex, routeRequest, type DispatchMethodName, type RoutedCandidate, type ModelTotals, type PrefixRoutingOptions, type RouteKeys, type RouteReason } from '../../common/dispatch';
import { createClient, unary } from '../../common/grpc/client';
import { PLAINTEXT, type ClusterSecurity } from '../../common/grpc/credentials';
import type { Logger } from '../../common/log';

export type ModelSummary = ModelTotals;

/** `controller`: ask the controller for every request; otherwise choose locally from the live view. */
export type GatewayDispatch = DispatchMethodName | 'controller';

export interface PickedWorker {
  address: string;
  workerId: string;
  /** Why this worker (prefix routing), '' when routing was off or the controller did not say. */
  route: RouteReason | '';
  /** The channel to it. */
  client: WorkerClient;
  /** How `open` reaches it: in this process (common/grpc/in-process.ts) or over gRPC. */
  transport: 'grpc' | 'in_process';
  /** Opens a Generate call on it. */
  open(request: GenerateRequest, deadline: Date): ClientStreamCall;
}

const asRoute = (s: string): RouteReason | '' => (s === 'prefix' || s === 'affinity' || s === 'load' ? s : '');

export class ControllerView {
  private readonly client: ControllerClient;
  /** One channel per worker address. */
  private readonly channels = new Map<string, WorkerClient>();
  private readonly security: ClusterSecurity;
  private readonly workers = new Map<string, WorkerInfo>();
  /** Requests this gateway has in flight per worker (local dispatch counts them as load). */
  private readonly inFlight = new Map<string, number>();
  private synced = false;
  private stream: ClientReadableStream<WorkerEvent> | undefined;
  private closed = false;
  private retryMs = 200;
  private connectedOnce: Promise<void>;
  private markConnected: () => void = () => undefined;
  /** Where this replica sent which prompt prefixes (prefix routing; per replica, see common/dispatch.ts). */
  private readonly prefixes: PrefixIndex | undefined;

  private readonly dispatch: GatewayDispatch;
  private readonly callTimeoutMs: number;
  private readonly routing: PrefixRoutingOptions | undefined;
  /** Open Generate calls in-process on workers this process serves (`fleetchat up`). */
  private readonly inProcess: boolean;

  constructor(
    address: string,
    private readonly logger: Logger,
    options: { dispatch?: GatewayDispatch; callTimeoutMs?: number; security?: ClusterSecurity; routing?: PrefixRoutingOptions; inProcess?: boolean } = {},
  ) {
    this.dispatch = options.dispatch ?? 'shortest_queue';
    this.callTimeoutMs = options.callTimeoutMs ?? 5000;
    this.routing = options.routing;
    this.inProcess = options.inProcess ?? false;
    const security = options.security ?? PLAINTEXT;
    this.security = security;
    this.prefixes = this.routing ? new PrefixIndex(this.routing.maxEntries) : undefined;
    this.client = createClient(ControllerClient, address, {}, security.client('controller'));
    this.connectedOnce = new Promise((resolve) => {
      this.markConnected = resolve;
    });
    this.watch();
  }

  /** Whether dispatch reads a request's routing keys (prefix routing on). */
  get routesByPrefix(): boolean {
    return this.routing !== undefined;
  }

  /** Resolves after the first snapshot arrived (or after `timeoutMs`). */
  async ready(timeoutMs = 5000): Promise<void> {
    await Promise.race([this.connectedOnce, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  models(): ModelSummary[] {
    return modelTotals(this.workers.values());
  }


  /** One worker as the view last heard of it. */
  worker(workerId: string): WorkerInfo | undefined {
    return this.workers.get(workerId);
  }

  model(name: string): ModelSummary | undefined {
    return this.models().find((m) => m.name === name);
  }

  /** The kind of a served model (its first worker's, as `model()` says) without summing every model's totals: per request. */
  modelKind(name: string): ModelKind | undefined {
    for (const w of this.workers.values()) if (w.modelNames.includes(name)) return w.kind;
    return undefined;
  }

  /**
   * A worker for `model`: chosen locally from the live view (no extra hop), or by the controller when the view
   * is not synced, has no worker for the model, or dispatch is set to `controller`.
   * With prefix routing on and `keys` given, the worker holding the request's longest known prefix is preferred
   * (src/common/dispatch.ts); the controller gets the keys too.
   * Rejects with a FleetError (not_found, unavailable, ...).
   */
  async pick(model: string, exclude: string[], keys?: RouteKeys): Promise<PickedWorker> {
    const local = this.pickLocal(model, exclude, keys);
    if (local) return local;
    const routed = this.routing && keys ? keys : undefined;
    const res = await unary(
      this.client.getWorkerAddress.bind(this.client),
      { model, method: DispatchMethod.DISPATCH_METHOD_UNSPECIFIED, excludeWorkerIds: exclude, prefixKeys: routed?.prefixKeys ?? [], affinityKey: routed?.affinityKey ?? '' },
      new Metadata(),
      this.callTimeoutMs,
    );
    return this.picked(res.address, res.workerId, asRoute(res.route));
  }

  /**
   * The local part of `pick`, synchronously (no promise on the path to the first token): the worker chosen from the
   * live view, or undefined when the controller has to choose (view not synced, no worker here, `--dispatch
   * controller`).
   */
  pickLocal(model: string, exclude: string[], keys?: RouteKeys): PickedWorker | undefined {
    if (this.dispatch === 'controller' || !this.synced) return undefined;
    const routed = this.routing && keys ? keys : undefined;
    const candidates: Array<RoutedCandidate & { worker: WorkerInfo }> = [];
    for (const w of this.workers.values()) {
      if (w.modelNames.includes(model) && !exclude.includes(w.workerId)) candidates.push({ worker: w, workerId: w.workerId, status: w.status, pending: this.inFlight.get(w.workerId) ?? 0 });
    }
    if (candidates.length === 0) return undefined;
    if (routed && this.routing && this.prefixes) {
      const { chosen, route } = routeRequest(candidates, routed, this.prefixes, { method: this.dispatch, maxImbalance: this.routing.maxImbalance });
      return this.picked(chosen.worker.address, chosen.workerId, route);
    }
    const chosen = chooseCandidate(candidates, this.dispatch);
    return this.picked(chosen.worker.address, chosen.worker.workerId, '');
  }

  private picked(address: string, workerId: string, route: RouteReason | ''): PickedWorker {
    let client = this.channels.get(address);
    if (!client) {
      client = createClient(WorkerClient, address, { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 2000 }, this.security.client('worker'));
      this.channels.set(address, client);
    }
    const worker = client;
    const grpc = { transport: 'grpc' as const, open: (request: GenerateRequest, deadline: Date) => worker.generate(request, { deadline }) };
    if (!this.inProcess) return { address, workerId, route, client, ...grpc };
    // Looked up per pick: a worker that is stopping has left the in-process table, and gRPC answers for it.
    const local = (request: GenerateRequest, deadline: Date): ClientStreamCall => inProcessGenerate.open(address, request, deadline) ?? grpc.open(request, deadline);
    return inProcessGenerate.serves(address) ? { address, workerId, route, client, transport: 'in_process', open: local } : { address, workerId, route, client, ...grpc };
  }

  /** Counts a request in flight on a worker until the returned release function is called. */
  acquire(workerId: string): () => void {
    this.inFlight.set(workerId, (this.inFlight.get(workerId) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.inFlight.get(workerId) ?? 1) - 1;
      if (n <= 0) this.inFlight.delete(workerId);
      else this.inFlight.set(workerId, n);
    };
  }

  /** Requests in flight on all workers (what acquire() counted and not yet released). */
  callsInFlight(): number {
    let n = 0;
    for (const v of this.inFlight.values()) n += v;
    return n;
  }

  close(): void {
    this.closed = true;
    this.stream?.cancel();
    this.client.close();
    for (const c of this.channels.values()) c.close();
    this.channels.clear();
  }

  private watch(): void {
    if (this.closed) return;
    const stream = this.client.watchWorkers({});
    this.stream = stream;
    const fresh = new Map<string, WorkerInfo>();
    let snapshotDone = false;
    const finishSnapshot = (): void => {
      if (snapshotDone) return;
      snapshotDone = true;
      this.workers.clear();
      for (const [k, v] of fresh) this.workers.set(k, v);
      this.synced = true;
      this.retryMs = 200;
      this.markConnected();
    };
    // The controller sends the current workers first, then SYNCED.
    stream.on('data', (event: WorkerEvent) => {
      if (event.type === WorkerEventType.WORKER_EVENT_TYPE_SYNCED) {
        finishSnapshot();
        return;
      }
      const target = snapshotDone ? this.workers : fresh;
      const w = event.worker;
      if (!w) return;
      if (event.type === WorkerEventType.WORKER_EVENT_TYPE_REMOVED) target.delete(w.workerId);
      else target.set(w.workerId, w);
    });
    const restart = (why: string): void => {
      if (this.closed || this.stream !== stream) return;
      this.stream = undefined;
      this.synced = false;
      this.logger.warn({ why, retryInMs: this.retryMs }, 'controller watch ended; reconnecting');
      const delay = this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, 5000);
      setTimeout(() => this.watch(), delay).unref();
    };
    stream.on('error', (err: Error) => restart(err.message));
    stream.on('end', () => restart('stream ended'));
  }
}
