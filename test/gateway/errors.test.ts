import { checkLimit, type LimitedField } from '../../src/common/request-limits';
import { startStack, waitFor, type Stack } from '../support/stack';
import { tinyModel } from '../support/models';
import { Metadata } from '@grpc/grpc-js';
import { WorkerClient } from '../../src/common/gen/worker';
import { createClient, unary } from '../../src/common/grpc/client';

interface Raw {
  status: number;
  headers: Headers;
  body: { error?: { message: string; type: string; param: string | null; code: string | null } } & Record<string, unknown>;
}

describe('gateway errors over raw HTTP', () => {
  let stack: Stack;
  const key = 'sk-test-123';

  beforeAll(async () => {
    const dir = await tinyModel();
    stack = await startStack({
      workers: [{ model: dir, names: ['tiny'], args: ['--max-concurrency', '1', '--max-queue', '0'] }],
      gatewayArgs: ['--api-keys', `${key},other-key`, '--max-body-bytes', '4096'],
    });
  }, 120_000);
  afterAll(async () => stack?.stop());

  async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Raw> {
    const res = await fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Raw['body'] };
  }

  const chat = (extra: Record<string, unknown> = {}) => ({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, ...extra });

  it('401 without or with a wrong key, but /health is public', async () => {
    const none = await post('/v1/chat/completions', chat(), { authorization: '' });
    expect(none.status).toBe(401);
    expect(none.body.error).toMatchObject({ type: 'authentication_error', code: 'invalid_api_key' });
    expect((await post('/v1/chat/completions', chat(), { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await post('/v1/chat/completions', chat(), { authorization: 'Bearer other-key' })).status).toBe(200);
    expect((await fetch(`${stack.url}/health`)).status).toBe(200);
    expect((await fetch(`${stack.url}/v1/models`)).status).toBe(401);
  });

  it('rejects every out-of-range sampling field before dispatch, with the limit the worker itself enforces', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ top_p: 0 }, 'top_p'], [{ top_p: 1.5 }, 'top_p'], [{ temperature: -0.1 }, 'temperature'], [{ top_k: -2 }, 'top_k'],
      [{ min_p: 2 }, 'min_p'], [{ repetition_penalty: 0 }, 'repetition_penalty'], [{ presence_penalty: 3 }, 'presence_penalty'],
      [{ frequency_penalty: -3 }, 'frequency_penalty'], [{ seed: 1.5 }, 'seed'], [{ max_tokens: 0 }, 'max_tokens'], [{ n: 17 }, 'n'],
      [{ logprobs: true, top_logprobs: 21 }, 'top_logprobs'], [{ logit_bias: { '5': 101 } }, 'logit_bias'],
    ];
    for (const [fields, param] of cases) {
      const r = await post('/v1/chat/completions', chat(fields));
      expect([param, r.status, r.body.error?.param]).toEqual([param, 400, param]);
      const value = Object.values(fields).at(-1);
      if (typeof value === 'number') {
        // The same words the worker answers a gRPC caller with (one table: src/common/request-limits.ts).
        let workerMessage = '';
        try {
          checkLimit(param as LimitedField, value);
        } catch (err) {
          workerMessage = (err as Error).message;
        }
        expect(r.body.error?.message).toBe(workerMessage);
      }
    }
  });

  it('400 names the field and the reason', async () => {
    const r = await post('/v1/chat/completions', chat({ temperature: 7 }));
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ type: 'invalid_request_error', param: 'temperature' });
    expect(r.body.error?.message).toMatch(/temperature: must be between 0 and 2, got 7/);
    const unknown = await post('/v1/chat/completions', chat({ functions: [] }));
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ param: 'functions', code: 'unsupported_parameter' });
    const badRole = await post('/v1/chat/completions', { model: 'tiny', messages: [{ role: 'robot', content: 'x' }] });
    expect(badRole.body.error?.param).toBe('messages[0].role');
    const json = await post('/v1/chat/completions', '{"model": ');
    expect(json.status).toBe(400);
    expect(json.body.error?.code).toBe('invalid_json');
  });

  it('404 for an unknown model, listing the available ones', async () => {
    const r = await post('/v1/chat/completions', chat({ model: 'gpt-9' }));
    expect(r.status).toBe(404);
    expect(r.body.error).toMatchObject({ code: 'model_not_found', param: 'model' });
    expect(r.body.error?.message).toMatch(/available: tiny/);
  });

  it('413 for a body over the limit', async () => {
    const r = await post('/v1/chat/completions', chat({ messages: [{ role: 'user', content: 'x'.repeat(10_000) }] }));
    expect(r.status).toBe(413);
    expect(r.body.error?.code).toBe('body_too_large');
  });

  it('400 naming both numbers when prompt + max_tokens exceed the context', async () => {
    const r = await post('/v1/completions', { model: 'tiny', prompt: 'hello world and more', max_tokens: 2046 });
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('context_length_exceeded');
    expect(r.body.error?.message).toMatch(/prompt \(\d+ tokens\) \+ max_tokens \(2046\) = \d+ exceeds the context length 2048/);
  });

  it('429 with Retry-After when the workers are saturated, and the slot is freed when a client goes away', async () => {
    const controller = new AbortController();
    const first = fetch(`${stack.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'tiny', prompt: 'long', max_tokens: 1500, ignore_eos: true, stream: true }),
      signal: controller.signal,
    });
    const res = await first;
    const reader = res.body!.getReader();
    await reader.read();
    const r = await post('/v1/completions', { model: 'tiny', prompt: 'x', max_tokens: 2 });
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(r.body.error?.type).toBe('rate_limit_error');
    controller.abort();
    const worker = stack.workers[0];
    const client = createClient(WorkerClient, worker.address);
    await waitFor(async () => (await unary(client.getStatus.bind(client), {}, new Metadata(), 1000)).running === 0, 3000);
    client.close();
    expect((await post('/v1/completions', { model: 'tiny', prompt: 'x', max_tokens: 2 })).status).toBe(200);
  });

  it('rejects unsupported content parts and response formats clearly', async () => {
    const img = await post('/v1/chat/completions', chat({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }));
    expect(img.status).toBe(400);
    expect(img.body.error?.param).toBe('messages[0].content[0]');
    const fmt = await post('/v1/chat/completions', chat({ response_format: { type: 'grammar' } }));
    expect(fmt.status).toBe(400);
    expect(fmt.body.error?.param).toBe('response_format');
  });
});
