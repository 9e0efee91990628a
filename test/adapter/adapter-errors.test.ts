/**
 * The adapter's error mapping over a real HTTP server: a rate-limited upstream (429 + Retry-After) reaches the
 * client as gRPC RESOURCE_EXHAUSTED with the retry time, and through the gateway as HTTP 429 with Retry-After; a
 * 503 as UNAVAILABLE; an upstream that stalls mid-answer as DEADLINE_EXCEEDED after --upstream-timeout; sampling
 * fields the upstream cannot honour are refused by name before any upstream call.
 */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import OpenAI from 'openai';
import { FleetError, fromGrpcError } from '../../src/common/errors';
import { GenerateRequest, WorkerClient, type GenerateResponse } from '../../src/common/gen/worker';
import { createClient, deadlineIn, unary } from '../../src/common/grpc/client';
import { InferenceClient } from '../../src/common/gen/inference';
import { startStack, waitFor, type Stack } from '../support/stack';
import { ArenaClient } from '../ui/support/arena-stack';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream';

type GenerateInit = Parameters<typeof GenerateRequest.fromPartial>[0];

function run(client: WorkerClient, req: GenerateInit): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const call = client.generate(GenerateRequest.fromPartial(req), { deadline: deadlineIn(10_000) });
    call.on('data', (c: GenerateResponse) => (text += c.text));
    call.on('error', reject);
    call.on('end', () => resolve(text));
  });
}

/** Every request here takes milliseconds; a stalled one is ended after this long. */
const UPSTREAM_TIMEOUT_MS = 1500;

const chat = (content: string): GenerateInit['chat'] => ({ messages: [{ role: 'user', content, name: '', toolCallId: '', toolCallsJson: '' }], addGenerationPrompt: true, toolsJson: '', convTemplate: '' });

// Each case runs with the gateway calling the adapter over gRPC (separate processes) and in-process (`fleetchat up`).
describe.each([false, true])('adapter error mapping (fake upstream; gateway calls in-process: %s)', (inProcess) => {
  let upstream: FakeUpstream;
  let stack: Stack;
  let client: WorkerClient;

  beforeAll(async () => {
    upstream = await startFakeUpstream('fake-model');
    stack = await startStack({
      workers: [{ model: '', names: ['hosted'], args: ['--engine', 'openai', '--upstream', upstream.url, '--upstream-model', 'fake-model', '--upstream-api', 'openai', '--upstream-timeout', `${UPSTREAM_TIMEOUT_MS}ms`] }],
      gatewayArgs: ['--grpc-listen', '127.0.0.1:0'],
      inProcess,
    });
    client = createClient(WorkerClient, stack.workers[0].address);
  }, 30_000);
  afterAll(async () => {
    client?.close();
    await stack?.stop();
    await upstream?.close();
  });

  it('relays a stream and the sampling fields the upstream honours', async () => {
    upstream.mode = { kind: 'stream', words: ['Hello', ' there'] };
    const text = await run(client, { model: 'hosted', chat: chat('Hi'), params: { temperature: 0.5, topP: 0.9, maxTokens: 7, seed: 3, stop: ['\n\n'] } });
    expect(text).toBe('Hello there');
    expect(upstream.bodies.at(-1)).toMatchObject({ model: 'fake-model', stream: true, temperature: 0.5, top_p: 0.9, max_tokens: 7, seed: 3, stop: ['\n\n'], messages: [{ role: 'user', content: 'Hi' }] });
  });

  it('keeps one upstream connection alive across requests, and resends on a new one if the server closed it idle', async () => {
    upstream.mode = { kind: 'stream', words: ['Hello', ' there'] };
    upstream.generationSockets.clear();
    for (let i = 0; i < 3; i++) expect(await run(client, { model: 'hosted', chat: chat(`Hi ${i}`) })).toBe('Hello there');
    expect(upstream.generationSockets.size).toBe(1);
    upstream.dropNextReused = true;
    expect(await run(client, { model: 'hosted', chat: chat('Hi again') })).toBe('Hello there');
    expect(upstream.dropped).toBe(1);
    expect(upstream.generationSockets.size).toBe(2);
    expect(await run(client, { model: 'hosted', chat: chat('And again') })).toBe('Hello there');
    expect(upstream.generationSockets.size).toBe(2);
  });

  it('keeps the connection when the upstream ends its response after [DONE] (llama-cpp-python), after the call closed', async () => {
    // grpc-js reports every closed call as cancelled; a cancel after the answer must not abort the upstream request
    // whose terminator is still on its way (that closed the connection: a new TCP connection per request).
    upstream.mode = { kind: 'stream', words: ['Hello', ' there'], endAfterMs: 150 };
    upstream.generationSockets.clear();
    for (let i = 0; i < 3; i++) {
      expect(await run(client, { model: 'hosted', chat: chat(`Late ${i}`) })).toBe('Hello there');
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(upstream.generationSockets.size).toBe(1);
  });

  it('passes tools to the upstream and relays its tool calls to the openai client, streamed and not', async () => {
    upstream.mode = { kind: 'tools', calls: [{ name: 'get_weather', arguments: '{"city": "Paris"}' }, { name: 'get_time', arguments: '{}' }], pieceChars: 4 };
    const openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'none', maxRetries: 0 });
    const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }, { type: 'function', function: { name: 'get_time' } }];
    const res = await openai.chat.completions.create({ model: 'hosted', messages: [{ role: 'user', content: 'Weather?' }], tools, tool_choice: 'required', parallel_tool_calls: true });
    expect(upstream.bodies.at(-1)).toMatchObject({ tools, tool_choice: 'required', parallel_tool_calls: true });
    expect(res.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: { content: null, tool_calls: [{ id: 'call_up0', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }, { id: 'call_up1', function: { name: 'get_time', arguments: '{}' } }] },
    });
    const stream = await openai.chat.completions.create({ model: 'hosted', messages: [{ role: 'user', content: 'Weather?' }], tools, tool_choice: { type: 'function', function: { name: 'get_weather' } }, stream: true });
    const args = ['', ''];
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const d of chunk.choices[0]?.delta.tool_calls ?? []) args[d.index] += d.function?.arguments ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(upstream.bodies.at(-1)).toMatchObject({ tool_choice: { type: 'function', function: { name: 'get_weather' } } });
    expect({ args, finish }).toEqual({ args: ['{"city": "Paris"}', '{}'], finish: 'tool_calls' });
  });

  it('ends a request whose upstream stalls after --upstream-timeout (DEADLINE_EXCEEDED); a finished request\'s timeout never fires', async () => {
    upstream.mode = { kind: 'stream', words: ['Hello'] };
    upstream.generationSockets.clear();
    expect(await run(client, { model: 'hosted', chat: chat('Before') })).toBe('Hello');
    // Past the finished request's timeout: had its timer still fired, the kept-alive connection would be gone.
    await new Promise((r) => setTimeout(r, UPSTREAM_TIMEOUT_MS + 300));
    expect(await run(client, { model: 'hosted', chat: chat('After') })).toBe('Hello');
    expect(upstream.generationSockets.size).toBe(1);
    upstream.mode = { kind: 'stall', words: ['Hel'] };
    const started = performance.now();
    const err = await run(client, { model: 'hosted', chat: chat('Stalled') }).then(() => undefined, (e: ServiceError) => e);
    expect(err?.code).toBe(status.DEADLINE_EXCEEDED);
    expect(performance.now() - started).toBeGreaterThanOrEqual(UPSTREAM_TIMEOUT_MS - 50);
    // The upstream is not marked down by its own timeout: the next request is served.
    upstream.mode = { kind: 'stream', words: ['Hello'] };
    expect(await run(client, { model: 'hosted', chat: chat('Again') })).toBe('Hello');
  });

  it('turns an upstream 429 into RESOURCE_EXHAUSTED with its Retry-After, and HTTP 429 at the gateway', async () => {
    upstream.mode = { kind: 'error', status: 429, retryAfter: '7', message: 'Rate limit reached for requests' };
    const err = await run(client, { model: 'hosted', chat: chat('Hi') }).then(() => undefined, (e: ServiceError) => e);
    expect(err?.code).toBe(status.RESOURCE_EXHAUSTED);
    const fe = fromGrpcError(err as ServiceError);
    expect(fe.retryAfterS).toBe(7);
    expect(fe.message).toContain('Rate limit reached');

    const openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'none', maxRetries: 0 });
    const httpErr = await openai.chat.completions.create({ model: 'hosted', messages: [{ role: 'user', content: 'Hi' }] }).then(() => undefined, (e: unknown) => e);
    expect(httpErr).toBeInstanceOf(OpenAI.APIError);
    expect((httpErr as InstanceType<typeof OpenAI.APIError>).status).toBe(429);
    expect((httpErr as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBe('7');
  });

  it('turns an upstream 503 into UNAVAILABLE and a 500 into INTERNAL', async () => {
    upstream.mode = { kind: 'error', status: 503, message: 'overloaded' };
    const unavailable = await run(client, { model: 'hosted', chat: chat('Hi') }).then(() => undefined, (e: ServiceError) => e);
    expect(unavailable?.code).toBe(status.UNAVAILABLE);
    upstream.mode = { kind: 'error', status: 500, message: 'boom' };
    const internal = await run(client, { model: 'hosted', chat: chat('Hi') }).then(() => undefined, (e: ServiceError) => e);
    expect(internal?.code).toBe(status.INTERNAL);
  });

  it('fails a request whose upstream sends an event that is not JSON, or cuts the connection mid-answer; the worker serves on', async () => {
    upstream.mode = { kind: 'broken', words: ['Hello'], then: 'garbage' };
    const garbage = await run(client, { model: 'hosted', chat: chat('Hi') }).then(() => undefined, (e: ServiceError) => e);
    expect(garbage?.code).toBe(status.INTERNAL);
    expect(garbage?.details).toMatch(/not JSON/);
    // Through the gateway the error after the first token ends the stream in-band.
    const res = await fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'hosted', messages: [{ role: 'user', content: 'Hi' }], stream: true }) });
    const body = await res.text();
    expect(body).toContain('"content":"Hello"');
    expect(body).toMatch(/"error":\{[^\n]*not JSON/);
    upstream.mode = { kind: 'broken', words: ['Hello'], then: 'cut' };
    // A cut connection marks the upstream down until its next good probe.
    const cut = await run(client, { model: 'hosted', chat: chat('Hi') }).then(() => undefined, (e: ServiceError) => e);
    expect(cut?.code).toBe(status.UNAVAILABLE);
    expect(cut?.details).toMatch(/connection lost mid-answer/);
    upstream.mode = { kind: 'stream', words: ['Back', ' again'] };
    await waitFor(async () => (await run(client, { model: 'hosted', chat: chat('Hi') }).catch(() => '')) === 'Back again', 10_000);
  });

  it('streams the response headers and the role event once the engine took the request, before its first token; a refusal keeps its HTTP status', async () => {
    // An engine that answered its headers and is still working on the first token.
    upstream.mode = { kind: 'stall', words: [] };
    const post = (path: string, body: object, signal?: AbortSignal): Promise<Response> => fetch(`${stack.url}${path}`, { method: 'POST', signal, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const ac = new AbortController();
    const res = await post('/v1/chat/completions', { model: 'hosted', messages: [{ role: 'user', content: 'Hi' }], stream: true, n: 2 }, ac.signal);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while ((text.match(/\n\n/g) ?? []).length < 2) text += new TextDecoder().decode((await reader.read()).value);
    const events = text.trim().split('\n\n').map((e) => JSON.parse(e.replace(/^data: /, '')) as { choices: Array<{ index: number; delta: object }> });
    expect(events.map((e) => e.choices)).toEqual([[expect.objectContaining({ index: 0, delta: { role: 'assistant', content: '' } })], [expect.objectContaining({ index: 1, delta: { role: 'assistant', content: '' } })]]);
    ac.abort();
    const completion = new AbortController();
    const plain = await post('/v1/completions', { model: 'hosted', prompt: 'Hi', stream: true }, completion.signal);
    expect(plain.status).toBe(200);
    completion.abort();
    // The same in an arena conversation (the web UI's stream) and on the public gRPC API (its response headers).
    const arena = new ArenaClient(stack.url);
    const conversation = await arena.call<{ id: string }>('/arena/conversations', 'POST', { model: 'hosted' });
    expect(conversation.status).toBe(201);
    const answer = new AbortController();
    const answering = await fetch(`${stack.url}/arena/conversations/${conversation.body.id}/chat/completions`, { method: 'POST', signal: answer.signal, headers: { 'content-type': 'application/json', cookie: arena.cookie ?? '' }, body: JSON.stringify({ message: 'Hi' }) });
    expect(answering.status).toBe(200);
    const opened = new TextDecoder().decode((await (answering.body as ReadableStream<Uint8Array>).getReader().read()).value);
    expect(opened).toContain('"delta":{"role":"assistant","content":""}');
    answer.abort();
    const inference = createClient(InferenceClient, stack.gateway.grpcAddress ?? '');
    const call = inference.chat({ model: 'hosted', messages: [{ role: 'user', content: 'Hi', name: '', toolCallId: '', toolCallsJson: '' }], params: undefined, n: 0, convTemplate: '', requestId: '', toolsJson: '', toolOptions: undefined }, { deadline: deadlineIn(10_000) });
    // The headers come while the engine works; without them the call would end at --upstream-timeout with no data.
    const seen: string[] = [];
    for (const event of ['metadata', 'data', 'error'] as const) call.on(event, () => seen.push(event));
    await waitFor(() => seen.length > 0, 10_000);
    expect(seen).toEqual(['metadata']);
    call.cancel();
    inference.close();
    // The worker's own call: its response headers say the engine took the request (`fleetchat-accepted`).
    const direct = client.generate(GenerateRequest.fromPartial({ model: 'hosted', chat: chat('Hi') }), { deadline: deadlineIn(10_000) });
    direct.on('error', () => undefined);
    const headers = await new Promise<Metadata>((resolve) => direct.once('metadata', resolve));
    expect(headers.get('fleetchat-accepted')).toEqual(['1']);
    direct.cancel();
    // An engine that refuses the request answers before taking it: the client gets its status, not a stream.
    upstream.mode = { kind: 'error', status: 429, retryAfter: '3', message: 'Rate limit reached for requests' };
    const refused = await post('/v1/chat/completions', { model: 'hosted', messages: [{ role: 'user', content: 'Hi' }], stream: true });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('3');
    expect(await refused.json()).toMatchObject({ error: { message: expect.stringMatching(/Rate limit reached/) } });
    upstream.mode = { kind: 'stream', words: ['Back'] };
    expect(await run(client, { model: 'hosted', chat: chat('Hi') })).toBe('Back');
  });

  it('refuses sampling fields the strict OpenAI API cannot honour, by name, without calling upstream', async () => {
    const before = upstream.bodies.length;
    for (const [params, param] of [[{ topK: 5 }, 'top_k'], [{ minP: 0.1 }, 'min_p'], [{ repetitionPenalty: 1.2 }, 'repetition_penalty'], [{ ignoreEos: true }, 'ignore_eos'], [{ topLogprobs: 2 }, 'top_logprobs']] as const) {
      const err = await run(client, { model: 'hosted', chat: chat('Hi'), params }).then(() => undefined, (e: ServiceError) => e);
      expect(err?.code).toBe(status.INVALID_ARGUMENT);
      expect(fromGrpcError(err as ServiceError).param).toBe(param);
    }
    expect(upstream.bodies.length).toBe(before);
  });

  it('says token counts are unknown for a strict OpenAI upstream', async () => {
    const err = await unary(client.countTokens.bind(client), { model: 'hosted', prompt: 'Hi', chat: undefined }, new Metadata(), 2000).then(() => undefined, (e: FleetError) => e);
    expect(err?.kind).toBe('unimplemented');
    const info = await unary(client.getModelInfo.bind(client), {}, new Metadata(), 2000);
    expect(info).toMatchObject({ modelNames: ['hosted'], contextLength: 0, executionProvider: 'external:openai' });
  });
});
