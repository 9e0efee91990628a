/**
 * Opening a generation stream on some worker: the view picks the worker (locally, or by asking the controller; by
 * the request's prefix keys when prefix routing is on, see common/dispatch.ts); a worker that fails before the
 * first chunk (unreachable, crashed, queue full) is excluded and another is tried; after the first chunk,
 * errors reach the caller as they are. Cancelling the returned handle cancels the worker call.
 */
import type { Metadata } from '@grpc/grpc-js';
import { FleetError, fromGrpcError, type GrpcErrorLike } from '../../common/errors';
import type { GenerateRequest, GenerateResponse } from '../../common/gen/worker';
import { isAccepted } from '../../common/grpc/accepted';
import { deadlineIn } from '../../common/grpc/client';
import type { ClientStreamCall } from '../../common/grpc/in-process';

import { hopClockMs, hopStamp, type Logger } from '../../common/log';
import { routeKeysOf, type RouteReason } from '../../common/dispatch';
import type { ControllerView, PickedWorker } from './controller-view';

export interface GenerationSink {
  /**
   * The worker took the request: its response headers came with `fleetchat-accepted` (common/grpc/accepted.ts) before
   * any chunk. An adapter worker sends them once its engine answered; others do not (the first chunk says the same).
   */
  onAccepted?(): void;
  onChunk(chunk: GenerateResponse): void;
  onError(err: FleetError): void;
  onEnd(): void;
}

export interface GenerationHandle {
  cancel(): void;
  /** Stops reading the worker stream (HTTP/2 flow control then holds the worker back) until `resume`. */
  pause(): void;
  resume(): void;
}

export interface GenerateDeps {
  view: ControllerView;
  logger: Logger;
  timeoutMs: number;
  /** Attempts across workers before the first chunk. */
  maxAttempts: number;
  /** Called with each dispatch's reason (prefix routing), for metrics. */
  onRoute?: (route: RouteReason | '') => void;
  /** Called with each worker call's transport (grpc, or in_process under `fleetchat up`), for metrics. */
  onCall?: (transport: 'grpc' | 'in_process') => void;
}

/** Errors worth retrying on another worker when nothing was streamed yet. */
function retryable(err: FleetError): boolean {
  return err.kind === 'unavailable' || err.kind === 'overloaded' || err.kind === 'internal' || err.kind === 'cancelled';
}

export function startGeneration(deps: GenerateDeps, request: GenerateRequest, sink: GenerationSink): GenerationHandle {
  let call: ClientStreamCall | undefined;
  let cancelled = false;
  let paused = false;
  const deadline = deadlineIn(deps.timeoutMs);
  const tried: string[] = [];
  let lastError: FleetError | undefined;
  // The request's routing keys (hashes of its text) only where prefix routing uses them.
  const keys = deps.view.routesByPrefix ? routeKeysOf(request) : undefined;

  const attempt = (): void => {
    if (cancelled) return;
    if (tried.length >= deps.maxAttempts) {
      sink.onError(lastError ?? new FleetError('unavailable', 'no worker could take the request', { retryAfterS: 1 }));
      return;
    }
    // Picked from the live view synchronously when it can (no promise on the path to the first token), else by the
    // controller.
    let local: PickedWorker | undefined;
    try {
      local = deps.view.pickLocal(request.model, tried, keys);
    } catch (err) {
      pickFailed(err);
      return;
    }
    if (local) callWorker(local);
    else deps.view.pick(request.model, tried, keys).then(callWorker, pickFailed);
  };

  const pickFailed = (err: unknown): void => {
    const fe = err instanceof FleetError ? err : fromGrpcError(err as GrpcErrorLike);
    // Nothing left to try: report the worker's error if there was one (e.g. 429), else the controller's.
    sink.onError(tried.length > 0 && lastError && fe.kind === 'unavailable' ? lastError : fe);
  };

  const callWorker = (target: PickedWorker): void => {
    // Counted once the call is under way (metrics are not on the path to the first token).
    const { route, transport } = target;
    setImmediate(() => {
      deps.onRoute?.(route);
      deps.onCall?.(transport);
    });
    if (cancelled) return;
    tried.push(target.workerId);
    const release = deps.view.acquire(target.workerId);
    let streamed = false;
    const calledAt = deps.logger.isLevelEnabled('debug') ? hopClockMs() : 0;
    // Hop timestamps of the first chunk, logged when the call ends (the log line is never on the path it measures).
    let hops: Record<string, number> | undefined;
    let c: ClientStreamCall;
    try {
      c = target.open(request, deadline);
    } catch (err) {
      release();
      pickFailed(err);
      return;
    }
    call = c;
    if (paused) c.pause();
    if (sink.onAccepted) c.on('metadata', (metadata: Metadata) => {
      if (isAccepted(metadata)) sink.onAccepted?.();
    });
    c.on('data', (chunk: GenerateResponse) => {
      const first = !streamed;
      const arrivedAt = first && calledAt > 0 ? hopClockMs() : 0;
      streamed = true;
      sink.onChunk(chunk);
      if (arrivedAt > 0) hops = { workerCalled: hopStamp(calledAt), workerFirstChunk: hopStamp(arrivedAt) };
    });
    let settled = false;
    // The worker's status ends the call even when 'end' never comes: grpc-js emits 'end' only once a paused stream's
    // buffered chunks are read, and a client that disconnected while paused never reads them.
    c.on('status', () => {
      release();
      if (hops) deps.logger.debug({ requestId: request.requestId, worker: target.address, hops }, 'first chunk from worker');
      hops = undefined;
    });
    c.on('error', (err: GrpcErrorLike) => {
      release();
      if (cancelled || settled) return;
      settled = true;
      const fe = fromGrpcError(err);
      if (!streamed && retryable(fe)) {
        lastError = fe;
        deps.logger.warn({ worker: target.address, err: fe.message, kind: fe.kind }, 'worker failed before the first token; trying another');
        attempt();
        return;
      }
      sink.onError(fe);
    });
    c.on('end', () => {
      release();
      if (cancelled || settled) return;
      settled = true;
      sink.onEnd();
    });
  };

  attempt();
  return {
    cancel: () => {
      cancelled = true;
      call?.cancel();
    },
    pause: () => {
      paused = true;
      call?.pause();
    },
    resume: () => {
      paused = false;
      call?.resume();
    },
  };
}
