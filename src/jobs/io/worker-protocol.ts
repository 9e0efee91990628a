/** Messages between a WorkerPool (worker-pool.ts) and its worker threads (worker-host.ts). */

/** Pool → worker: records to process, in order. */
export interface PoolItemsMessage {
  type: 'items';
  indexes: number[];
  /** All records' bytes back to back (one compact buffer, so cloning copies only these bytes). */
  data: Uint8Array;
  /** End offset of each record in `data`. */
  ends: number[];
}

/** Worker → pool. `ready` once after start-up, then one `result` per record, in order. */
export type HostMessage =
  | { type: 'ready' }
  | { type: 'init_error'; message: string }
  | { type: 'result'; result: unknown };
