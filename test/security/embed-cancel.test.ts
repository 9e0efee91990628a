/**
 * Embeddings are cancelled when the client goes away (issue 18): the gateway cancels the worker call and the worker
 * drops the job before its next batch. On old main the worker embedded every text of an abandoned request, and the
 * next request waited behind it.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createTinyEncoder } from '../../src/model/encoder/create-tiny-encoder';
import { startStack, type Stack } from '../support/stack';
import { workerMetric } from '../support/worker-metrics';

jest.setTimeout(120_000);

async function tinyEncoder(): Promise<string> {
  const dir = join(__dirname, '../../.cache/test-models/encoder-tiny');
  if (existsSync(join(dir, 'onnx', 'model.onnx'))) return dir;
  mkdirSync(join(dir, '..'), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  await createTinyEncoder({ outDir: tmp });
  if (!existsSync(join(dir, 'onnx', 'model.onnx'))) renameSync(tmp, dir);
  return dir;
}

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ workers: [{ model: await tinyEncoder(), names: ['embed'] }] });
});

afterAll(() => stack?.stop());

const post = (body: unknown, signal?: AbortSignal): Promise<Response> =>
  fetch(`${stack.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });

it('a client that disconnects cancels the worker job; the next request does not wait behind it', async () => {
  const metrics = stack.workers[0].ops.url;
  const texts = Array.from({ length: 2048 }, (_, i) => `text number ${i} `.repeat(30));
  const one = performance.now();
  expect((await post({ model: 'embed', input: texts.slice(0, 64) })).status).toBe(200);
  const perBatchMs = (performance.now() - one) / 2;
  const abort = new AbortController();
  const abandoned = post({ model: 'embed', input: texts }, abort.signal).catch((e: Error) => e);
  // Abort once the worker holds the job: on a loaded machine the gateway may take a few batches' time to parse and
  // dispatch 2048 texts, and a request cancelled before dispatch never reaches the worker (nothing to count).
  await new Promise((r) => setTimeout(r, Math.max(300, 3 * perBatchMs)));
  abort.abort();
  await abandoned;
  const started = performance.now();
  expect((await post({ model: 'embed', input: 'after' })).status).toBe(200);
  const waitedMs = performance.now() - started;
  const fullMs = perBatchMs * (texts.length / 32);
  console.log(`embeddings: the request after an abandoned 2048-text one took ${waitedMs.toFixed(0)} ms (the abandoned job alone would take ~${fullMs.toFixed(0)} ms)`);
  expect(waitedMs).toBeLessThan(fullMs / 4);
  // The worker drops the job at its next batch boundary, which can come after the next request was served: wait for it.
  let cancelled = 0;
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    cancelled = await workerMetric(metrics, 'fleetchat_worker_embeddings_cancelled_total');
    if (cancelled >= 1) break;
  }
  expect(cancelled).toBe(1);
});
