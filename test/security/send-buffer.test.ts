/**
 * A gRPC caller that never reads a huge-output Generate stream (issue 18, bounded send queues): while the stream is
 * not writable the worker merges chunks per choice, which before this cap was bounded only by n × max_tokens of text
 * and logprobs (top_logprobs = 20 is ~0.5 KB a token). With `--max-send-buffer-bytes` the worker fails the stream with
 * RESOURCE_EXHAUSTED once that much waits, cancels its sequence (the KV is freed at the next step) and drops what it
 * held; other callers proceed meanwhile. A real worker (the generated tiny model) and real grpc-js clients.
 */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { parseConfig } from '../../src/common/config';
import { FinishReason, GenerateRequest, WorkerClient, type GenerateResponse } from '../../src/common/gen/worker';
import { createClient, deadlineIn } from '../../src/common/grpc/client';
import { silentLogger } from '../../src/common/log';
import { startWorker, workerOptions, type RunningWorker } from '../../src/worker/main';
import { tinyModel } from '../support/models';
import { waitFor } from '../support/stack';
import { RUNNING, workerMetric } from '../support/worker-metrics';

jest.setTimeout(120_000);

const CAP = 64 * 1024;
const CUT_OFF = 'fleetchat_worker_streams_cut_off_total';
const HELD = 'fleetchat_worker_send_buffer_bytes';
const STREAMS = 'fleetchat_worker_generate_streams';

let worker: RunningWorker;
let client: WorkerClient;

beforeAll(async () => {
  worker = await startWorker(parseConfig(workerOptions, ['--model', await tinyModel(), '--model-names', 'tiny', '--controller', '', '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0',
    '--threads', '1', '--max-concurrency', '4', '--max-send-buffer-bytes', String(CAP)]), silentLogger());
  client = createClient(WorkerClient, worker.address);
});

afterAll(async () => {
  client?.close();
  await worker?.stop();
});

const metric = (series: string): Promise<number> => workerMetric(worker.ops.url, series);

function generate(prompt: string, maxTokens: number, topLogprobs?: number, echo = false) {
  return client.generate(GenerateRequest.fromPartial({ model: 'tiny', prompt, params: { maxTokens, ignoreEos: true, temperature: 0, topLogprobs, echo } }), new Metadata(), { deadline: deadlineIn(60_000) });
}

/**
 * Reads a stream to its end: tokens received, and the error it ended with (if any). With `paused`, the caller reads
 * nothing until `call.resume()`: grpc-js then stops taking the stream from the connection once its queue of 16
 * messages is full, and HTTP/2 flow control holds the worker back. (A grpc-js call that never starts reading at all
 * takes the whole stream into its own process instead.)
 */
function drain(call: ReturnType<typeof generate>, paused = false): Promise<{ tokens: number; finish: FinishReason; error?: ServiceError }> {
  return new Promise((resolve) => {
    let tokens = 0;
    let finish = FinishReason.FINISH_REASON_UNSPECIFIED;
    call.on('data', (c: GenerateResponse) => {
      tokens += c.tokenIds.length;
      if (c.finishReason) finish = c.finishReason;
    });
    call.on('error', (error: ServiceError) => resolve({ tokens, finish, error }));
    call.on('end', () => resolve({ tokens, finish }));
    if (paused) call.pause();
  });
}

it('cuts off a caller that never reads a huge-output stream and frees its sequence; other callers proceed', async () => {
  const MAX_TOKENS = 1500;
  // ~1500 tokens × 21 logprobs: ~0.8 MB of output, never read (cut off after ~250 tokens).
  const stalled = generate('Go on forever', MAX_TOKENS, 20);
  const stalledResult = drain(stalled, true);
  const others = await Promise.all([1, 2, 3].map((i) => drain(generate(`hello ${i}`, 64))));
  for (const o of others) expect(o).toEqual({ tokens: 64, finish: FinishReason.FINISH_REASON_LENGTH });
  await waitFor(async () => (await metric(CUT_OFF)) === 1, 30_000, 100);
  // Its sequence is cancelled (slot and KV freed) and nothing is held for it any more.
  await waitFor(async () => (await metric(RUNNING)) === 0, 5000, 50);
  expect(await metric(HELD)).toBe(0);
  // What flow control had already taken (the HTTP/2 window, grpc-js's queue) arrives, then the status.
  stalled.resume();
  const seen = await stalledResult;
  console.log(`send buffer: the stalled caller got ${seen.tokens} of ${MAX_TOKENS} tokens before RESOURCE_EXHAUSTED (cap ${CAP / 1024} KiB)`);
  expect(seen.error?.code).toBe(status.RESOURCE_EXHAUSTED);
  expect(seen.error?.details).toMatch(/max_send_buffer_bytes = 65536 \(--max-send-buffer-bytes\)/);
  expect(seen.tokens).toBeLessThan(MAX_TOKENS);
  await waitFor(async () => (await metric(STREAMS)) === 0, 5000, 50);
  // The worker still serves.
  expect(await drain(generate('after', 8))).toEqual({ tokens: 8, finish: FinishReason.FINISH_REASON_LENGTH });
});

interface Whole {
  messages: number;
  text: string;
  ids: number[];
  logprobs: number[];
  promptLogprobs: number;
}

function whole(call: ReturnType<typeof generate>, paused = false): Promise<Whole> {
  return new Promise((resolve, reject) => {
    const out: Whole = { messages: 0, text: '', ids: [], logprobs: [], promptLogprobs: 0 };
    call.on('data', (c: GenerateResponse) => {
      out.messages += 1;
      out.text += c.text;
      out.ids.push(...c.tokenIds);
      out.logprobs.push(...c.logprobs.map((l) => l.top.length));
      out.promptLogprobs += c.promptLogprobs.length;
    });
    call.on('error', reject);
    call.on('end', () => resolve(out));
    if (paused) call.pause();
  });
}

it('a caller that reads late but within the cap gets the same output, merged into fewer messages', async () => {
  // 170 tokens × 21 logprobs (~115 KB): more than HTTP/2 flow control and grpc-js's queue take (~75 KB), less than
  // that plus the cap. The caller starts reading once the whole output was generated and the rest merged.
  const live = await whole(generate('Tell a story', 170, 20, true));
  const late = generate('Tell a story', 170, 20, true);
  const result = whole(late, true);
  await waitFor(async () => (await metric(HELD)) > 0, 30_000, 50);
  await waitFor(async () => (await metric(RUNNING)) === 0, 30_000, 50);
  const held = await metric(HELD);
  late.resume();
  const got = await result;
  console.log(`send buffer: a late reader of 170 tokens got ${got.messages} messages (${live.messages} when read live); ${(held / 1024).toFixed(0)} KiB had been merged for it`);
  expect(got.messages).toBeLessThan(live.messages);
  expect({ ...got, messages: 0 }).toEqual({ ...live, messages: 0 });
  expect(got.ids).toHaveLength(170);
  expect(got.promptLogprobs).toBeGreaterThan(0);
  expect(await metric(CUT_OFF)).toBe(1);
});
