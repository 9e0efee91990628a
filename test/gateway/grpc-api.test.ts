/**
 * The gateway's public gRPC API (fleetchat.v1.Inference) against a real stack: streaming, API keys, errors with
 * google.rpc details, cancellation and deadlines freeing the worker's slot (read from the worker's /metrics), a
 * full queue, health and reflection.
 */
import { Metadata, status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { FinishReason } from '../../src/common/gen/worker';
import { InferenceClient, type ChatRequest, type GenerationChunk } from '../../src/common/gen/inference';
import { HealthClient, ServingStatus } from '../../src/common/grpc/health';
import { createClient, deadlineIn, unary } from '../../src/common/grpc/client';
import { tinyModel } from '../support/models';
import { startStack, waitFor, type Stack } from '../support/stack';
import { CANCELLED, QUEUED, RUNNING, workerMetric } from '../support/worker-metrics';
import { decodeDetails } from '../support/grpc-status';

const KEY = 'sk-grpc-test';

function auth(key = KEY): Metadata {
  const m = new Metadata();
  m.set('authorization', `Bearer ${key}`);
  return m;
}

const hello = (extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: 'tiny', messages: [{ role: 'user', content: 'Hello there', name: '', toolCallId: '', toolCallsJson: '' }], params: undefined,
  n: 0, convTemplate: '', requestId: '', toolsJson: '', toolOptions: undefined, ...extra,
});

const long = (): ChatRequest => hello({ params: { maxTokens: 1500, ignoreEos: true, temperature: 0, stop: [], stopTokenIds: [], logitBias: {}, echo: false, includeStopStrInOutput: false, constraint: undefined } });

function collect(call: ClientReadableStream<GenerationChunk>): Promise<GenerationChunk[]> {
  return new Promise((resolve, reject) => {
    const chunks: GenerationChunk[] = [];
    call.on('data', (c: GenerationChunk) => chunks.push(c));
    call.on('error', reject);
    call.on('end', () => resolve(chunks));
  });
}

function failure(call: ClientReadableStream<GenerationChunk>): Promise<ServiceError> {
  return collect(call).then(() => {
    throw new Error('expected an error');
  }, (err: ServiceError) => err);
}

describe('public gRPC API (fleetchat.v1.Inference)', () => {
  let stack: Stack;
  let client: InferenceClient;
  const running = (): Promise<number> => workerMetric(stack.workers[0].ops.url, RUNNING);
  const waiting = (): Promise<number> => workerMetric(stack.workers[0].ops.url, QUEUED);
  const cancelled = (): Promise<number> => workerMetric(stack.workers[0].ops.url, CANCELLED);

  beforeAll(async () => {
    stack = await startStack({
      workers: [{ model: await tinyModel(), names: ['tiny'], args: ['--max-concurrency', '1', '--max-queue', '1'] }],
      gatewayArgs: ['--grpc-listen', '127.0.0.1:0', '--api-keys', KEY],
    });
    client = createClient(InferenceClient, stack.gateway.grpcAddress ?? '');
  }, 120_000);
  afterAll(async () => {
    client?.close();
    await stack?.stop();
  });

  it('lists the served models', async () => {
    const res = await unary(client.listModels.bind(client), {}, auth(), 5000);
    expect(res.models.map((m) => m.name)).toEqual(['tiny']);
    expect(res.models[0].contextLength).toBeGreaterThan(0);
  });

  it('streams a chat completion that ends with a finish reason and usage', async () => {
    const chunks = await collect(client.chat(hello({ params: { maxTokens: 8, ignoreEos: true, stop: [], stopTokenIds: [], logitBias: {}, echo: false, includeStopStrInOutput: false, constraint: undefined } }), auth(), { deadline: deadlineIn(30_000) }));
    const last = chunks[chunks.length - 1];
    expect(last.finishReason).toBe(FinishReason.FINISH_REASON_LENGTH);
    expect(last.usage?.completionTokens).toBe(8);
    expect(chunks.map((c) => c.tokenIds.length).reduce((a, b) => a + b, 0)).toBe(8);
    expect(chunks.every((c) => c.index === 0)).toBe(true);
  });

  it('streams n choices of a completion, each with its index', async () => {
    const params = { maxTokens: 4, ignoreEos: true, seed: 1, temperature: 1, stop: [], stopTokenIds: [], logitBias: {}, echo: false, includeStopStrInOutput: false, constraint: undefined };
    const chunks = await collect(client.complete({ model: 'tiny', prompt: 'Once upon', params, n: 2, requestId: 'cmpl-test' }, auth(), { deadline: deadlineIn(30_000) }));
    const finished = chunks.filter((c) => c.finishReason !== FinishReason.FINISH_REASON_UNSPECIFIED).map((c) => c.index).sort();
    expect(finished).toEqual([0, 1]);
  });

  it('refuses a missing or wrong key with UNAUTHENTICATED', async () => {
    const wrong = await failure(client.chat(hello(), auth('sk-wrong')));
    expect(wrong.code).toBe(status.UNAUTHENTICATED);
    expect(decodeDetails(wrong).errorInfo?.reason).toBe('INVALID_API_KEY');
    const missing = await failure(client.chat(hello(), new Metadata()));
    expect(missing.code).toBe(status.UNAUTHENTICATED);
    expect(missing.details).toMatch(/authorization: Bearer/);
    await expect(unary(client.listModels.bind(client), {}, new Metadata(), 5000)).rejects.toMatchObject({ kind: 'unauthenticated' });
  });

  it('answers NOT_FOUND listing the served models for an unknown model', async () => {
    const err = await failure(client.chat(hello({ model: 'no-such-model' }), auth()));
    expect(err.code).toBe(status.NOT_FOUND);
    expect(err.details).toMatch(/no-such-model.*available: tiny/);
    const details = decodeDetails(err);
    expect(details.errorInfo).toMatchObject({ reason: 'MODEL_NOT_FOUND', domain: 'fleetchat' });
    expect(details.errorInfo?.metadata.available_models).toBe('tiny');
    expect(details.resourceInfo).toMatchObject({ resourceType: 'model', resourceName: 'no-such-model' });
  });

  it('answers INVALID_ARGUMENT naming the field, with the HTTP API\'s limits', async () => {
    const err = await failure(client.chat(hello({ params: { temperature: 3, ignoreEos: false, stop: [], stopTokenIds: [], logitBias: {}, echo: false, includeStopStrInOutput: false, constraint: undefined } }), auth()));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toBe('params.temperature: must be between 0 and 2, got 3');
    expect(decodeDetails(err).badRequest?.fieldViolations[0].field).toBe('params.temperature');
    const role = await failure(client.chat(hello({ messages: [{ role: 'robot', content: 'x', name: '', toolCallId: '', toolCallsJson: '' }] }), auth()));
    expect(role.code).toBe(status.INVALID_ARGUMENT);
    expect(decodeDetails(role).badRequest?.fieldViolations[0].field).toBe('messages[0].role');
  });

  it('calls a named tool: tool_calls deltas (id and name first, then arguments) and FINISH_REASON_TOOL_CALLS', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string', pattern: '^[A-Za-z]{1,12}$' }, days: { type: 'integer', minimum: 1, maximum: 7 } }, required: ['city', 'days'], additionalProperties: false };
    const tools = [{ type: 'function', function: { name: 'get_forecast', description: 'Weather forecast', parameters: schema } }];
    const params = { maxTokens: 300, ignoreEos: false, temperature: 0, stop: [], stopTokenIds: [], logitBias: {}, echo: false, includeStopStrInOutput: false, constraint: undefined };
    const chunks = await collect(client.chat(hello({ params, toolsJson: JSON.stringify(tools), toolOptions: { toolChoice: 'function', functionName: 'get_forecast', parallelToolCalls: false } }), auth(), { deadline: deadlineIn(60_000) }));
    const deltas = chunks.flatMap((c) => c.toolCalls);
    expect(deltas[0]).toMatchObject({ index: 0, name: 'get_forecast' });
    expect(deltas[0].id).not.toBe('');
    expect(deltas.slice(1).every((d) => d.index === 0 && d.id === '' && d.name === '')).toBe(true);
    const args = JSON.parse(deltas.map((d) => d.arguments).join('')) as { city: unknown; days: unknown };
    expect(typeof args.city).toBe('string');
    expect(Number.isInteger(args.days)).toBe(true);
    expect(chunks[chunks.length - 1].finishReason).toBe(FinishReason.FINISH_REASON_TOOL_CALLS);
  });

  it('enforces params.constraint (json_object) and names bad tool fields', async () => {
    const params = { maxTokens: 48, ignoreEos: false, temperature: 0, stop: [], stopTokenIds: [], logitBias: {}, echo: false, includeStopStrInOutput: false, constraint: { kind: { $case: 'jsonSchema' as const, value: JSON.stringify({ type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] }) } } };
    const chunks = await collect(client.chat(hello({ params }), auth(), { deadline: deadlineIn(60_000) }));
    expect(typeof (JSON.parse(chunks.map((c) => c.text).join('')) as { ok: unknown }).ok).toBe('boolean');
    const bad = await failure(client.chat(hello({ toolsJson: '[{"type": "function"', toolOptions: undefined }), auth()));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.details).toMatch(/^tools_json: not valid JSON/);
    const unknown = await failure(client.chat(hello({ toolsJson: '[{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]', toolOptions: { toolChoice: 'function', functionName: 'g', parallelToolCalls: undefined } }), auth()));
    expect(unknown.code).toBe(status.INVALID_ARGUMENT);
    expect(unknown.details).toBe("tool_options.function_name: 'g' is not one of the tools");
  });

  it('stops generation on the worker when the client cancels mid-stream (slot freed)', async () => {
    const before = await cancelled();
    const call = client.chat(long(), auth(), { deadline: deadlineIn(60_000) });
    call.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      let n = 0;
      call.on('data', () => {
        n += 1;
        if (n === 3) resolve();
      });
    });
    expect(await running()).toBe(1);
    call.cancel();
    await waitFor(async () => (await running()) === 0 && (await cancelled()) === before + 1, 3000);
  });

  it('ends the call at its deadline and frees the slot', async () => {
    const before = await cancelled();
    const err = await failure(client.chat(long(), auth(), { deadline: deadlineIn(400) }));
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
    await waitFor(async () => (await running()) === 0 && (await cancelled()) === before + 1, 3000);
  });

  it('answers RESOURCE_EXHAUSTED with retry info when the worker queue is full', async () => {
    const busy = [client.chat(long(), auth(), { deadline: deadlineIn(60_000) }), client.chat(long(), auth(), { deadline: deadlineIn(60_000) })];
    for (const c of busy) {
      c.on('data', () => undefined);
      c.on('error', () => undefined);
    }
    await waitFor(async () => (await running()) === 1 && (await waiting()) === 1, 5000);
    const err = await failure(client.chat(long(), auth()));
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/queue is full/);
    const retry = decodeDetails(err).retryInfo?.retryDelay;
    expect((retry?.seconds ?? 0) + (retry?.nanos ?? 0) / 1e9).toBeGreaterThan(0);
    for (const c of busy) c.cancel();
    await waitFor(async () => (await running()) === 0 && (await waiting()) === 0, 3000);
  });

  it('serves the standard health service', async () => {
    const health = createClient(HealthClient, stack.gateway.grpcAddress ?? '');
    const res = await unary(health.check.bind(health), { service: 'fleetchat.v1.Inference' }, new Metadata(), 5000);
    health.close();
    expect(res.status).toBe(ServingStatus.SERVING);
  });
});
