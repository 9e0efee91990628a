/**
 * In-process server-streaming calls: when one process runs a worker and the gateway together (`fleetchat up`), the
 * gateway's calls to that worker can skip grpc-js — no HTTP/2 stream, no protobuf encoding, no socket — and hand the
 * request and each response across as objects, with a gRPC call's semantics:
 *   - the server side (`ServerStreamCall`) is what a grpc-js server-streaming handler uses: `request`, `write`
 *     (false while the caller's buffer is full; 'drain' when it reads again), `end`, `sendMetadata`,
 *     `emit('error', ServiceError)` to fail the call with a status, `cancelled` and the 'cancelled' / 'close' events;
 *   - the client side (`ClientStreamCall`) is what a caller of a grpc-js server-streaming method uses: 'data',
 *     'metadata', 'error' (a ServiceError: code, details, metadata), 'status' (always, once), 'end', `pause` /
 *     `resume` (back-pressure reaches the server's `write`), `cancel` (the server sees 'cancelled'; the caller an error
 *     with status CANCELLED, as grpc-js reports it), and a deadline (DEADLINE_EXCEEDED on both sides);
 *   - deliveries are asynchronous (a microtask), in order, so neither side runs inside the other's call;
 *   - messages are copied through the proto type's `fromPartial` on both ways: the two sides never share an object,
 *     and fields come out with their defaults as after decoding.
 * Only servers that opt in are reachable this way (`InProcessServers.serve`), only from the same process; security
 * interceptors are not on this path (a process trusts itself), so a component serving other processes keeps its
 * gRPC port for them.
 */
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { Metadata, status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { GenerateRequest, GenerateResponse } from '../gen/worker';

/** The server side of one in-process server-streaming call. */
export interface ServerStreamCall<Req, Res> extends EventEmitter {
  readonly request: Req;
  readonly cancelled: boolean;
  write(message: Res): boolean;
  end(): void;
  sendMetadata(metadata: Metadata): void;
}

/** The client side, as a grpc-js `ClientReadableStream` is used. */
export interface ClientStreamCall extends EventEmitter {
  pause(): this;
  resume(): this;
  cancel(): void;
}

/** A message type's copy-with-defaults (ts-proto's `fromPartial`). */
export interface MessageType<T> {
  fromPartial(value: T): T;
}

const callError = (code: status, details: string): ServiceError => Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata: new Metadata() });

class ClientSide extends Readable implements ClientStreamCall {
  onRead: () => void = () => undefined;
  onCancel: () => void = () => undefined;

  constructor() {
    super({ objectMode: true, highWaterMark: 16 });
  }

  override _read(): void {
    this.onRead();
  }

  cancel(): void {
    this.onCancel();
  }
}

class ServerSide<Req, Res> extends EventEmitter implements ServerStreamCall<Req, Res> {
  cancelled = false;
  private finished = false;
  private needDrain = false;
  /** Messages written but not yet handed to the caller's buffer (deliveries are microtasks). */
  private queued = 0;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    readonly request: Req,
    private readonly client: ClientSide,
    private readonly type: MessageType<Res>,
    deadline: Date | undefined,
    private readonly onFinish: () => void,
  ) {
    super();
    client.onRead = () => {
      if (!this.needDrain || this.finished) return;
      this.needDrain = false;
      queueMicrotask(() => this.finished || super.emit('drain'));
    };
    client.onCancel = () => this.abort(status.CANCELLED, 'Cancelled on client');
    const ms = deadline ? deadline.getTime() - Date.now() : Infinity;
    if (Number.isFinite(ms)) this.timer = setTimeout(() => this.abort(status.DEADLINE_EXCEEDED, 'Deadline exceeded'), Math.max(0, ms));
  }

  write(message: Res): boolean {
    if (this.finished) return false;
    const copy = this.type.fromPartial(message);
    this.queued += 1;
    queueMicrotask(() => {
      this.queued -= 1;
      if (!this.finished) this.client.push(copy);
    });
    // The caller's buffer with the deliveries still queued: full → wait for 'drain'.
    const full = this.client.readableLength + this.queued >= this.client.readableHighWaterMark;
    if (full) this.needDrain = true;
    return !full;
  }

  sendMetadata(metadata: Metadata): void {
    if (!this.finished) queueMicrotask(() => this.finished || this.client.emit('metadata', metadata));
  }

  end(): void {
    if (this.finished) return;
    queueMicrotask(() => {
      if (this.finish()) return;
      this.client.emit('status', okStatus());
      this.client.push(null);
    });
  }

  /** `emit('error', err)` fails the call with err's status, as on a grpc-js server call; other events as usual. */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'error') return super.emit(event, ...args);
    const err = args[0] as Partial<ServiceError> | undefined;
    if (this.finished) return true;
    queueMicrotask(() => {
      if (this.finish()) return;
      const failure = Object.assign(new Error(err?.message ?? 'unknown error'), { code: err?.code ?? status.UNKNOWN, details: err?.details ?? err?.message ?? '', metadata: err?.metadata ?? new Metadata() });
      this.client.emit('error', failure);
      this.client.emit('status', { code: failure.code, details: failure.details, metadata: failure.metadata });
      this.client.destroy();
    });
    return true;
  }

  /** Ends the call from the caller's side (cancel, deadline): the server sees 'cancelled', the caller the status. */
  private abort(code: status, details: string): void {
    if (this.finished) return;
    this.cancelled = true;
    queueMicrotask(() => super.emit('cancelled'));
    if (this.finish()) return;
    const failure = callError(code, details);
    queueMicrotask(() => {
      this.client.emit('error', failure);
      this.client.emit('status', { code, details, metadata: failure.metadata });
      this.client.destroy();
    });
  }

  /** Marks the call finished (true when it already was) and tells the server side it closed. */
  private finish(): boolean {
    if (this.finished) return true;
    this.finished = true;
    if (this.timer) clearTimeout(this.timer);
    this.onFinish();
    queueMicrotask(() => super.emit('close'));
    return false;
  }
}

const okStatus = (): StatusObject => ({ code: status.OK, details: 'OK', metadata: new Metadata() });

type Handler<Req, Res> = (call: ServerStreamCall<Req, Res>) => void;

interface Served<Req, Res> {
  handler: Handler<Req, Res>;
  calls: Set<ServerSide<Req, Res>>;
}

/**
 * The servers of one method that this process serves in-process, by address. `open` returns undefined for an address
 * not served here (the caller then uses gRPC).
 */
export class InProcessServers<Req, Res> {
  private readonly served = new Map<string, Served<Req, Res>>();

  constructor(
    private readonly requestType: MessageType<Req>,
    private readonly responseType: MessageType<Res>,
  ) {}

  /** Serves `handler` at `address` until the returned close(): no new calls, then up to graceMs for open ones to finish, then cancels them. */
  serve(address: string, handler: Handler<Req, Res>): { close(graceMs: number): Promise<void> } {
    const entry: Served<Req, Res> = { handler, calls: new Set() };
    this.served.set(address, entry);
    return {
      close: async (graceMs) => {
        if (this.served.get(address) === entry) this.served.delete(address);
        const deadline = Date.now() + graceMs;
        while (entry.calls.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        for (const call of entry.calls) call.emit('error', callError(status.UNAVAILABLE, 'the server is shutting down'));
      },
    };
  }

  /** Whether this process serves `address`. */
  serves(address: string): boolean {
    return this.served.has(address);
  }

  /** Opens a call to the server at `address`, or undefined when this process does not serve it. */
  open(address: string, request: Req, deadline?: Date): ClientStreamCall | undefined {
    const entry = this.served.get(address);
    if (!entry) return undefined;
    const client = new ClientSide();
    const server: ServerSide<Req, Res> = new ServerSide(this.requestType.fromPartial(request), client, this.responseType, deadline, () => entry.calls.delete(server));
    entry.calls.add(server);
    queueMicrotask(() => {
      try {
        entry.handler(server);
      } catch (err) {
        server.emit('error', err instanceof Error ? err : new Error(String(err)));
      }
    });
    return client;
  }
}

/** `fleetchat.v1.Worker/Generate` served in-process: the worker serves, the gateway opens (both in `fleetchat up`). */
export const inProcessGenerate = new InProcessServers<GenerateRequest, GenerateResponse>(GenerateRequest, GenerateResponse);
