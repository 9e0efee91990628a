/**
 * The worker-thread side of a WorkerPool: builds the record handler once from the pool's workerData, then
 * answers every record of every batch with one `result` message. The handler itself must turn bad records into
 * results; an exception escaping it crashes the worker, which the pool reports against that record.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { HostMessage, PoolItemsMessage } from './worker-protocol';

export type RecordHandler = (index: number, bytes: Uint8Array) => unknown;

export function serveRecordHandler(createHandler: (data: unknown) => Promise<RecordHandler>): void {
  const port = parentPort;
  if (!port) throw new Error('serveRecordHandler must run inside a worker thread');
  const send = (message: HostMessage): void => port.postMessage(message);
  createHandler(workerData).then((handle) => {
    port.on('message', (message: PoolItemsMessage) => {
      let start = 0;
      for (let i = 0; i < message.indexes.length; i++) {
        const end = message.ends[i];
        send({ type: 'result', result: handle(message.indexes[i], message.data.subarray(start, end)) });
        start = end;
      }
    });
    send({ type: 'ready' });
  }, (err: unknown) => {
    send({ type: 'init_error', message: err instanceof Error ? err.message : String(err) });
  });
}
