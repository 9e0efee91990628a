/**
 * A pool of worker threads that maps batches of raw records to results, one result per record, in order.
 *
 * Each worker handles one batch at a time and answers record by record, so the pool always knows which record
 * a worker is busy with. A record that takes longer than `recordTimeoutMs`, or that crashes its worker (out of
 * memory under `maxWorkerHeapMb`, a native stack overflow…), gets a failure result made by `onFailure`; the
 * worker is replaced and the rest of the batch continues on the new one. Nothing else about a batch depends on
 * which worker ran it, so results are the same for any number of threads.
 */
import { Worker } from 'node:worker_threads';
import { extname } from 'node:path';
import { FleetError } from '../../common/errors';
import type { HostMessage, PoolItemsMessage } from './worker-protocol';

export interface PoolItem {
  index: number;
  bytes: Uint8Array;
}

export type FailureReason = 'timeout' | 'worker_out_of_memory' | 'worker_crashed';

export interface WorkerPoolOptions<R> {
  /** Absolute path of the worker entry file (a .ts file is run through @swc-node/register). */
  workerFile: string;
  /** Passed to the worker's task factory (must be structured-clonable). */
  workerData: unknown;
  threads: number;
  recordTimeoutMs: number;
  maxWorkerHeapMb: number;
  /** The result to use for a record whose worker timed out or crashed. */
  onFailure: (index: number, reason: FailureReason, detail: string) => R;
}

interface Job<R> {
  items: PoolItem[];
  results: R[];
  resolve: (results: R[]) => void;
  reject: (err: Error) => void;
}

interface Slot<R> {
  worker: Worker;
  job?: Job<R>;
  /** Items of the current job already answered. */
  done: number;
  timer?: NodeJS.Timeout;
  dead: boolean;
}

function execArgvFor(file: string): string[] {
  if (extname(file) !== '.ts') return process.execArgv;
  const hasRegister = process.execArgv.some((a) => a.includes('@swc-node/register'));
  return hasRegister ? process.execArgv : [...process.execArgv, '--require', '@swc-node/register'];
}

/** Copies the records' bytes into one compact buffer (views of larger buffers would clone those whole). */
function packItems(items: PoolItem[]): PoolItemsMessage {
  const ends: number[] = [];
  let total = 0;
  for (const item of items) {
    total += item.bytes.byteLength;
    ends.push(total);
  }
  const data = Buffer.allocUnsafeSlow(total);
  let offset = 0;
  for (const item of items) {
    data.set(item.bytes, offset);
    offset += item.bytes.byteLength;
  }
  return { type: 'items', indexes: items.map((i) => i.index), data, ends };
}

export class WorkerPool<R> {
  private readonly slots: Slot<R>[] = [];
  private readonly queue: Job<R>[] = [];
  private closed = false;
  private fatal: Error | undefined;

  private constructor(private readonly options: WorkerPoolOptions<R>) {}

  static async start<R>(options: WorkerPoolOptions<R>): Promise<WorkerPool<R>> {
    const pool = new WorkerPool(options);
    const threads = Math.max(1, options.threads);
    try {
      await Promise.all(Array.from({ length: threads }, () => pool.spawn()));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Results for the batch, one per item, in item order. */
  run(items: PoolItem[]): Promise<R[]> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ items, results: [], resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    await Promise.all(slots.map(async (s) => {
      s.dead = true;
      clearTimeout(s.timer);
      await s.worker.terminate();
    }));
  }

  private spawn(): Promise<Slot<R>> {
    const { workerFile, workerData, maxWorkerHeapMb } = this.options;
    const worker = new Worker(workerFile, {
      workerData,
      execArgv: execArgvFor(workerFile),
      resourceLimits: { maxOldGenerationSizeMb: maxWorkerHeapMb },
      stdout: false,
      stderr: false,
    });
    const slot: Slot<R> = { worker, done: 0, dead: false };
    return new Promise((resolve, reject) => {
      const onInitError = (err: Error): void => reject(new FleetError('internal', `worker failed to start: ${err.message}`, { cause: err }));
      worker.once('error', onInitError);
      worker.once('message', (message: HostMessage) => {
        worker.off('error', onInitError);
        if (message.type === 'init_error') {
          void worker.terminate();
          reject(new FleetError('invalid_request', message.message));
          return;
        }
        this.attach(slot);
        this.slots.push(slot);
        resolve(slot);
        this.dispatch();
      });
    });
  }

  private attach(slot: Slot<R>): void {
    slot.worker.on('message', (message: HostMessage) => {
      if (message.type === 'result') this.onResult(slot, message.result as R);
    });
    slot.worker.on('error', (err: Error & { code?: string }) => {
      const reason: FailureReason = err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'worker_out_of_memory' : 'worker_crashed';
      this.fail(slot, reason, err.message);
    });
    slot.worker.on('exit', (code) => {
      if (!slot.dead && !this.closed) this.fail(slot, 'worker_crashed', `worker exited with code ${code}`);
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job || slot.dead) continue;
      this.assign(slot, this.queue.shift() as Job<R>);
    }
  }

  private assign(slot: Slot<R>, job: Job<R>): void {
    slot.job = job;
    slot.done = 0;
    slot.worker.postMessage(packItems(job.items.slice(job.results.length)));
    this.arm(slot);
  }

  private arm(slot: Slot<R>): void {
    clearTimeout(slot.timer);
    slot.timer = setTimeout(() => this.fail(slot, 'timeout', `no result within ${this.options.recordTimeoutMs} ms`), this.options.recordTimeoutMs);
  }

  private onResult(slot: Slot<R>, result: R): void {
    const job = slot.job;
    if (!job || slot.dead) return;
    job.results.push(result);
    slot.done++;
    if (job.results.length < job.items.length) {
      this.arm(slot);
      return;
    }
    clearTimeout(slot.timer);
    slot.job = undefined;
    job.resolve(job.results);
    this.dispatch();
  }

  /** The worker of `slot` is stuck or gone: blame its current record, replace it, resume the batch. */
  private fail(slot: Slot<R>, reason: FailureReason, detail: string): void {
    if (slot.dead) return;
    slot.dead = true;
    clearTimeout(slot.timer);
    void slot.worker.terminate();
    this.slots.splice(this.slots.indexOf(slot), 1);
    const job = slot.job;
    slot.job = undefined;
    if (job) {
      const culprit = job.items[job.results.length];
      job.results.push(this.options.onFailure(culprit.index, reason, detail));
      if (job.results.length === job.items.length) job.resolve(job.results);
      else this.queue.unshift(job);
    }
    if (this.closed) return;
    this.spawn().catch((err: Error) => this.abortAll(err));
  }

  private abortAll(err: Error): void {
    this.fatal = err;
    for (const job of this.queue.splice(0)) job.reject(err);
  }
}
