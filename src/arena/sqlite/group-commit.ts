/**
 * Group commit for a synchronous SQLite connection: writes requested in the same turn of the event loop run in one
 * `BEGIN IMMEDIATE` transaction, each inside its own savepoint (one failing write rolls back only itself), and
 * every caller's promise settles only after the shared COMMIT returned — with `synchronous=FULL` that is after the
 * fsync, so a resolved write is durable. Under load this turns many fsyncs into one.
 */
import type { Database } from 'better-sqlite3';

export type WriteOp<T> = () => T;

interface Pending {
  op: WriteOp<unknown>;
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class GroupCommit {
  private pending: Pending[] = [];
  private scheduled = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly db: Database,
    private readonly maxBatch = 512,
    private readonly mapError: (err: unknown) => unknown = (err) => err,
  ) {}

  /** Queues a write; resolves with its result once committed. */
  run<T>(op: WriteOp<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ op, resolve: (value) => resolve(value as T), reject });
      this.schedule();
    });
  }

  /** Resolves once every queued write has settled. */
  idle(): Promise<void> {
    if (this.pending.length === 0 && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending.splice(0, this.maxBatch);
    const outcomes = this.commit(batch);
    batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(this.mapError(outcome.error));
    });
    if (this.pending.length > 0) this.schedule();
    else this.notifyIdle();
  }

  /** Runs the batch in one transaction; if the transaction itself fails, every write in it fails. */
  private commit(batch: Pending[]): Outcome[] {
    const outcomes: Outcome[] = [];
    const transaction = this.db.transaction(() => {
      for (const item of batch) {
        try {
          outcomes.push({ ok: true, value: this.db.transaction(item.op)() });
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
      }
    });
    try {
      transaction.immediate();
      return outcomes;
    } catch (error) {
      return batch.map(() => ({ ok: false, error }));
    }
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
