/**
 * The controller's registry of workers: who serves which model, their last reported status and heartbeat,
 * expiry of silent workers, and change events for WatchWorkers subscribers.
 */
import { WorkerEventType, WorkerInfo, type WorkerEvent } from '../common/gen/controller';
import type { WorkerStatus } from '../common/gen/worker';
import { FleetError } from '../common/errors';
import { AdmissionError } from './admission';

export interface RegistryEntry {
  info: WorkerInfo;
  lastHeartbeatMs: number;
  /** Requests dispatched since the last heartbeat (FastChat adds them to the queue length). */
  dispatchedSinceBeat: number;
  /** Identity that registered the worker id ('' when callers are not identified). */
  owner: string;
}

/** Default cap on registered workers (`--max-workers`). */
export const DEFAULT_MAX_WORKERS = 4096;

export type RegistryListener = (event: WorkerEvent) => void;

export class WorkerRegistry {
  private readonly workers = new Map<string, RegistryEntry>();
  private readonly listeners = new Set<RegistryListener>();

  constructor(
    private readonly expiryMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxWorkers = DEFAULT_MAX_WORKERS,
  ) {}

  register(info: WorkerInfo, owner = ''): RegistryEntry {
    if (!info.workerId) throw new FleetError('invalid_request', 'worker.worker_id is required', { param: 'worker.worker_id' });
    if (!/^.+:\d{1,5}$/.test(info.address)) throw new FleetError('invalid_request', `worker.address must be host:port, got '${info.address}'`, { param: 'worker.address' });
    if (info.modelNames.length === 0 || info.modelNames.some((n) => n.trim() === '')) {
      throw new FleetError('invalid_request', 'worker.model_names must list at least one non-empty name', { param: 'worker.model_names' });
    }
    const existed = this.workers.has(info.workerId);
    if (!existed && this.workers.size >= this.maxWorkers) {
      throw new AdmissionError('registry_full', 'overloaded', `the controller holds its maximum of ${this.maxWorkers} workers (--max-workers)`);
    }
    const entry: RegistryEntry = { info: this.stamp(info), lastHeartbeatMs: this.now(), dispatchedSinceBeat: 0, owner };
    this.workers.set(info.workerId, entry);
    this.emit(existed ? WorkerEventType.WORKER_EVENT_TYPE_UPDATED : WorkerEventType.WORKER_EVENT_TYPE_ADDED, entry.info);
    return entry;
  }

  /** Returns false when the worker is unknown (it must register again). */
  heartbeat(workerId: string, status: WorkerStatus | undefined): boolean {
    const entry = this.workers.get(workerId);
    if (!entry) return false;
    entry.lastHeartbeatMs = this.now();
    entry.dispatchedSinceBeat = 0;
    entry.info = this.stamp({ ...entry.info, status: status ?? entry.info.status });
    this.emit(WorkerEventType.WORKER_EVENT_TYPE_UPDATED, entry.info);
    return true;
  }

  deregister(workerId: string): boolean {
    const entry = this.workers.get(workerId);
    if (!entry) return false;
    this.workers.delete(workerId);
    this.emit(WorkerEventType.WORKER_EVENT_TYPE_REMOVED, entry.info);
    return true;
  }

  /** Removes workers silent for longer than the expiry; returns their ids. */
  expire(): string[] {
    const cutoff = this.now() - this.expiryMs;
    const gone: string[] = [];
    for (const [id, entry] of this.workers) {
      if (entry.lastHeartbeatMs < cutoff) {
        this.workers.delete(id);
        this.emit(WorkerEventType.WORKER_EVENT_TYPE_REMOVED, entry.info);
        gone.push(id);
      }
    }
    return gone;
  }

  /** Live workers, optionally only those serving `model`. */
  list(model?: string): RegistryEntry[] {
    const out = [...this.workers.values()];
    return model ? out.filter((e) => e.info.modelNames.includes(model)) : out;
  }

  get(workerId: string): RegistryEntry | undefined {
    return this.workers.get(workerId);
  }

  get size(): number {
    return this.workers.size;
  }

  subscribe(listener: RegistryListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private stamp(info: WorkerInfo): WorkerInfo {
    return WorkerInfo.fromPartial({ ...info, lastHeartbeatUnixMs: this.now() });
  }

  private emit(type: WorkerEventType, info: WorkerInfo): void {
    for (const listener of this.listeners) listener({ type, worker: info });
  }
}
