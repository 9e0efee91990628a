/** Entry point of a data-job worker thread: builds the task handler from workerData and serves records. */
import { serveRecordHandler } from '../io/worker-host';
import { createBytesHandler, type TaskSpec } from './tasks';

serveRecordHandler((data) => createBytesHandler(data as TaskSpec));
