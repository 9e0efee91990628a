import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { parseConfig } from '../../src/common/config';
import { FinishReason, GenerateRequest, WorkerClient, type GenerateResponse } from '../../src/common/gen/worker';
import { createClient, deadlineIn, unary } from '../../src/common/grpc/client';
import { silentLogger } from '../../src/common/log';
import { startWorker, workerOptions, type RunningWorker } from '../../src/worker/main';
import { spawnCli, waitForOutput } from '../support/cli';
import { tinyModel } from '../support/models';
import { waitFor } from '../support/stack';

type GenerateInit = Parameters<typeof GenerateRequest.fromPartial>[0];

interface Result {
  text: string;
  ids: number[];
  finish: FinishReason;
  usage?: GenerateResponse['usage'];
}

function collect(client: WorkerClient, req: GenerateInit, deadlineMs = 30_000): Promise<Result> {
  return new Promise((resolve, reject) => {
    const out: Result = { text: '', ids: [], finish: FinishReason.FINISH_REASON_UNSPECIFIED };
    const call = client.generate(GenerateRequest.fromPartial({ model: 'tiny', ...req }), { deadline: deadlineIn(deadlineMs) });
    call.on('data', (c: GenerateResponse) => {
      out.text += c.text;
      out.ids.push(...c.tokenIds);
      if (c.finishReason) out.finish = c.finishReason;
      if (c.usage) out.usage = c.usage;
    });
    call.on('error', reject);
    call.on('end', () => resolve(out));
  });
}

function failure(client: WorkerClient, req: GenerateInit, deadlineMs = 30_000): Promise<ServiceError> {
  return collect(client, req, deadlineMs).then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: ServiceError) => err,
  );
}

const long = { prompt: 'Go on forever', params: { maxTokens: 1500, ignoreEos: true, temperature: 0 } };

describe('worker gRPC service', () => {
  let worker: RunningWorker;
  let client: WorkerClient;

  beforeAll(async () => {
    const dir = await tinyModel();
    worker = await startWorker(parseConfig(workerOptions, ['--model', dir, '--model-names', 'tiny', '--controller', '', '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--threads', '1', '--max-concurrency', '4', '--max-queue', '2']), silentLogger());
    client = createClient(WorkerClient, worker.address);
  }, 120_000);
  afterAll(async () => {
    client?.close();
    await worker?.stop();
  });

  const statusNow = () => unary(client.getStatus.bind(client), {}, new Metadata(), 2000);

  it('streams a completion with usage and model info', async () => {
    const res = await collect(client, { prompt: 'Hello', params: { maxTokens: 10, ignoreEos: true, temperature: 0 } });
    expect(res.ids).toHaveLength(10);
    expect(res.finish).toBe(FinishReason.FINISH_REASON_LENGTH);
    expect(res.usage).toMatchObject({ completionTokens: 10, totalTokens: (res.usage?.promptTokens ?? 0) + 10 });
    const info = await unary(client.getModelInfo.bind(client), {}, new Metadata(), 2000);
    expect(info.modelNames).toEqual(['tiny']);
    expect(info.contextLength).toBe(2048);
    const count = await unary(client.countTokens.bind(client), { model: 'tiny', prompt: 'Hello', chat: undefined }, new Metadata(), 2000);
    expect(count.tokenCount).toBe(res.usage?.promptTokens);
  });

  it('renders chat input with the model template', async () => {
    const res = await collect(client, { chat: { messages: [{ role: 'user', content: 'Hi', name: '', toolCallId: '', toolCallsJson: '' }], addGenerationPrompt: true, toolsJson: '', convTemplate: '', toolOptions: undefined }, params: { maxTokens: 4, temperature: 0 } });
    expect(res.ids.length).toBeGreaterThan(0);
    const count = await unary(client.countTokens.bind(client), { model: 'tiny', prompt: '', chat: { messages: [{ role: 'user', content: 'Hi', name: '', toolCallId: '', toolCallsJson: '' }], addGenerationPrompt: true, toolsJson: '', convTemplate: '', toolOptions: undefined } }, new Metadata(), 2000);
    expect(count.tokenCount).toBe(res.usage?.promptTokens);
  });

  it('frees the slot when the client cancels', async () => {
    const call = client.generate(GenerateRequest.fromPartial({ model: 'tiny', ...long }), { deadline: deadlineIn(30_000) });
    await new Promise<void>((resolve) => {
      let n = 0;
      call.on('data', () => {
        n += 1;
        if (n === 3) {
          call.cancel();
          resolve();
        }
      });
    });
    call.on('error', () => undefined);
    await waitFor(async () => (await statusNow()).running === 0, 2000);
  });

  it('ends on the deadline and frees the slot', async () => {
    const err = await failure(client, long, 150);
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
    await waitFor(async () => (await statusNow()).running === 0, 2000);
  });

  it('answers RESOURCE_EXHAUSTED at once when the queue is full', async () => {
    const calls = Array.from({ length: 6 }, () => client.generate(GenerateRequest.fromPartial({ model: 'tiny', ...long }), { deadline: deadlineIn(30_000) }));
    const errors: ServiceError[] = [];
    for (const c of calls) {
      c.on('data', () => undefined);
      c.on('error', (e: ServiceError) => errors.push(e));
    }
    await waitFor(async () => (await statusNow()).running === 4 && (await statusNow()).queueLength === 2, 3000);
    const started = Date.now();
    const err = await failure(client, long);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/queue is full/);
    for (const c of calls) c.cancel();
    await waitFor(async () => {
      const s = await statusNow();
      return s.running === 0 && s.queueLength === 0;
    }, 3000);
  });

  it.each([
    [{}, status.INVALID_ARGUMENT, /exactly one of prompt, chat or prompt_token_ids/],
    [{ prompt: 'x', model: 'other' }, status.NOT_FOUND, /model 'other' is not served by this worker/],
    [{ prompt: 'x', params: { temperature: -1 } }, status.INVALID_ARGUMENT, /temperature: must be between 0 and 2, got -1/],
    [{ promptTokenIds: [1, 99999999] }, status.INVALID_ARGUMENT, /outside the vocabulary/],
    [{ chat: { messages: [{ role: 'assistant', content: 'a', name: '', toolCallId: '', toolCallsJson: '' }, { role: 'assistant', content: 'b', name: '', toolCallId: '', toolCallsJson: '' }], addGenerationPrompt: true, toolsJson: '', convTemplate: 'vicuna_v1.1' } }, status.INVALID_ARGUMENT, /messages/],
  ])('rejects malformed request %j', async (req, code, message) => {
    const err = await failure(client, req);
    expect(err.code).toBe(code);
    expect(err.details).toMatch(message);
  });

  it('rejects a prompt longer than the context with both numbers', async () => {
    const err = await failure(client, { promptTokenIds: new Array(2100).fill(100) });
    expect(err.code).toBe(status.OUT_OF_RANGE);
    expect(err.details).toMatch(/2100 tokens.*2048/);
  });

  it('gives every concurrent request the output it gets alone (greedy)', async () => {
    // 6 concurrent requests on a worker with 4 slots and a queue of 2: batched, queued and admitted mid-flight.
    const prompts = ['alpha beta', 'The rain in Spain', 'x', 'Numbers: 1 2 3', 'alpha beta', 'The rain in Spain'];
    const params = { maxTokens: 24, ignoreEos: true, temperature: 0 };
    const alone: number[][] = [];
    for (const p of prompts) alone.push((await collect(client, { prompt: p, params })).ids);
    const together = await Promise.all(prompts.map((p) => collect(client, { prompt: p, params })));
    expect(together.map((r) => r.ids)).toEqual(alone);
  });

  it('exports Prometheus metrics', async () => {
    const text = await (await fetch(`${worker.ops.url}/metrics`)).text();
    expect(text).toMatch(/fleetchat_worker_generated_tokens_total \d+/);
    expect(text).toMatch(/fleetchat_worker_time_to_first_token_seconds_bucket/);
    expect(text).toMatch(/\nfleetchat_worker_queue_length 0\n/);
    expect(text).toMatch(/\nfleetchat_worker_running_sequences 0\n/);
  });
});

describe('a worker killed mid-stream', () => {
  it('leaves its client with an error status, not a hang', async () => {
    const dir = await tinyModel();
    const child = spawnCli(['worker', '--model', dir, '--model-names', 'tiny', '--controller', '', '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--threads', '1', '--log-level', 'info']);
    try {
      const m = await waitForOutput(child, /"address":"(127\.0\.0\.1:\d+)"[^\n]*"msg":"worker ready"/);
      const client = createClient(WorkerClient, m[1]);
      const call = client.generate(GenerateRequest.fromPartial({ model: 'tiny', ...long }), { deadline: deadlineIn(60_000) });
      const err = await new Promise<ServiceError>((resolve) => {
        let n = 0;
        call.on('data', () => {
          n += 1;
          if (n === 5) child.kill('SIGKILL');
        });
        call.on('error', resolve);
        call.on('end', () => resolve({ code: -1, details: 'ended without an error', metadata: new Metadata() } as unknown as ServiceError));
      });
      client.close();
      expect(err.code).toBe(status.UNAVAILABLE);
    } finally {
      child.kill('SIGKILL');
    }
  }, 90_000);
});
