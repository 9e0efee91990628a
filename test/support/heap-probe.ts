/**
 * Preloaded (`-r`) into a `fleetchat` child started with an IPC channel (see heap-probe-client.ts):
 * on `{ type: 'heap' }` it runs full garbage collections and answers what the V8 heap still holds; on
 * `{ type: 'snapshot', path }` it writes a heap snapshot there. Test instrumentation only: nothing in src/ loads it.
 */
import { getHeapStatistics, setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';

interface ProbeRequest {
  type: 'heap' | 'snapshot';
  id: number;
  path?: string;
}

// `--expose-gc` on the command line would be passed on to the worker's threads, which refuse it: expose gc() here.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

function heapAfterGc(): Record<string, number> {
  // Several passes: weak references and finalizers released by one pass are collected by the next.
  for (let i = 0; i < 4; i++) collect();
  const mem = process.memoryUsage();
  const heap = getHeapStatistics();
  return { heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external, arrayBuffers: mem.arrayBuffers, rss: mem.rss, mallocedMemory: heap.malloced_memory, nativeContexts: heap.number_of_native_contexts };
}

process.on('message', (raw: unknown) => {
  const req = raw as ProbeRequest;
  if (typeof req !== 'object' || req === null || typeof req.id !== 'number') return;
  try {
    if (req.type === 'heap') process.send?.({ id: req.id, heap: heapAfterGc() });
    else if (req.type === 'snapshot' && req.path) process.send?.({ id: req.id, path: writeHeapSnapshot(req.path) });
  } catch (err) {
    process.send?.({ id: req.id, error: (err as Error).message });
  }
});
// The channel must not keep the process alive.
process.channel?.unref();
