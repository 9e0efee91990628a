/**
 * Request limits (issue 18): prompt bytes, messages, stop strings (count and length), n × max_tokens and logit_bias
 * entries are refused with 400 naming the limit and its flag — by the gateway, and by the worker for any other gRPC
 * caller. The 64 MiB prompt is refused by the gateway's body limit (413) and, sent straight to the worker, before it
 * is rendered or tokenized (on old main the worker tokenized it on its main thread for about 45 s).
 */
import { GenerateRequest, WorkerClient, type GenerateResponse } from '../../src/common/gen/worker';
import { createClient, deadlineIn } from '../../src/common/grpc/client';
import { startStack, type Stack } from '../support/stack';
import { tinyModel } from '../support/models';

jest.setTimeout(120_000);

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ workers: [{ model: await tinyModel(), names: ['tiny'] }], gatewayArgs: ['--max-stop-chars', '8'] });
});

afterAll(() => stack.stop());

async function post(path: string, body: unknown): Promise<{ status: number; message: string; param?: string }> {
  const res = await fetch(`${stack.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const json = (await res.json()) as { error?: { message: string; param?: string } };
  return { status: res.status, message: json.error?.message ?? '', param: json.error?.param ?? undefined };
}

const chat = (extra: Record<string, unknown>): Promise<{ status: number; message: string; param?: string }> =>
  post('/v1/chat/completions', { model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1, ...extra });

function workerCall(request: Parameters<typeof GenerateRequest.fromPartial>[0]): Promise<{ outcome: string; ms: number }> {
  const client = createClient(WorkerClient, stack.workers[0].address);
  const started = performance.now();
  return new Promise((resolve) => {
    const call = client.generate(GenerateRequest.fromPartial({ model: 'tiny', ...request }), { deadline: deadlineIn(60_000) });
    const done = (outcome: string): void => {
      client.close();
      resolve({ outcome, ms: performance.now() - started });
    };
    call.on('data', (_c: GenerateResponse) => undefined);
    call.on('error', (e: Error) => done(e.message));
    call.on('end', () => done('ok'));
  });
}

it('the 64 MiB prompt: 413 at the gateway, refused by the worker before rendering or tokenizing', async () => {
  const huge = 'a'.repeat(64 * 1024 * 1024);
  const viaGateway = await post('/v1/completions', `{"model":"tiny","prompt":"${huge}"}`);
  expect(viaGateway.status).toBe(413);
  const direct = await workerCall({ prompt: huge.slice(0, 60 * 1024 * 1024), params: { maxTokens: 1 } });
  console.log(`60 MiB prompt straight to the worker: refused in ${direct.ms.toFixed(0)} ms`);
  expect(direct.outcome).toMatch(/prompt: 62914560 bytes is over the limit max_prompt_bytes = 1048576 \(--max-prompt-bytes\)/);
  expect(direct.ms).toBeLessThan(5000);
  const chatDirect = await workerCall({ chat: { messages: [{ role: 'user', content: huge.slice(0, 8 << 20), name: '', toolCallId: '', toolCallsJson: '' }], addGenerationPrompt: true, convTemplate: '', toolsJson: '' }, params: { maxTokens: 1 } });
  expect(chatDirect.outcome).toMatch(/max_prompt_bytes/);
});

it('prompt bytes under the body limit but over max_prompt_bytes: 400 naming the limit', async () => {
  const r = await post('/v1/completions', { model: 'tiny', prompt: 'b'.repeat(2 << 20), max_tokens: 1 });
  expect(r).toMatchObject({ status: 400, param: 'prompt' });
  expect(r.message).toMatch(/max_prompt_bytes = 1048576 \(--max-prompt-bytes\)/);
  const c = await chat({ messages: [{ role: 'user', content: 'é'.repeat(600_000) }] });
  expect(c).toMatchObject({ status: 400, param: 'messages' });
  expect(c.message).toMatch(/1200000 bytes of content is over the limit max_prompt_bytes/);
});

it('messages, stop strings, n × max_tokens and logit_bias: 400 naming the limit', async () => {
  const many = await chat({ messages: Array.from({ length: 2049 }, () => ({ role: 'user', content: 'x' })) });
  expect(many).toMatchObject({ status: 400, param: 'messages' });
  expect(many.message).toMatch(/2049 messages is over the limit max_messages = 2048 \(--max-messages\)/);
  const stops = await chat({ stop: Array.from({ length: 17 }, (_, i) => `s${i}`) });
  expect(stops).toMatchObject({ status: 400, param: 'stop' });
  expect(stops.message).toMatch(/max_stop_strings = 16 \(--max-stop-strings\)/);
  const long = await chat({ stop: ['ok', 'x'.repeat(9)] });
  expect(long).toMatchObject({ status: 400, param: 'stop[1]' });
  expect(long.message).toMatch(/9 characters is over the limit max_stop_chars = 8 \(--max-stop-chars\)/);
  expect((await chat({ stop: ['x'.repeat(8)] })).status).toBe(200);
  const nTokens = await chat({ n: 16, max_tokens: 16385 });
  expect(nTokens).toMatchObject({ status: 400, param: 'max_tokens' });
  expect(nTokens.message).toMatch(/n × max_tokens = 16 × 16385.*max_choice_tokens = 262144 \(--max-choice-tokens\)/);
  const bias = await chat({ logit_bias: Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [String(i), 1])) });
  expect(bias).toMatchObject({ status: 400, param: 'logit_bias' });
  expect(bias.message).toMatch(/max_logit_bias = 1024 \(--max-logit-bias\)/);
});

it('the worker applies the same table to any gRPC caller', async () => {
  const longStop = await workerCall({ prompt: 'hi', params: { maxTokens: 1, stop: ['y'.repeat(257)] } });
  expect(longStop.outcome).toMatch(/stop\[0\]: 257 characters is over the limit max_stop_chars = 256/);
  const messages = Array.from({ length: 2049 }, () => ({ role: 'user', content: 'x', name: '', toolCallId: '', toolCallsJson: '' }));
  const many = await workerCall({ chat: { messages, addGenerationPrompt: true, convTemplate: '', toolsJson: '' }, params: { maxTokens: 1 } });
  expect(many.outcome).toMatch(/max_messages = 2048/);
  expect((await workerCall({ prompt: 'hi', params: { maxTokens: 1 } })).outcome).toBe('ok');
});
