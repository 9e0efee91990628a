/**
 * `conv_template` is a name from a short list (issue 18): on old main the worker cached a template selection per raw
 * string, so a loop of distinct whitespace-padded names grew its memory without bound. Now the gateway accepts only
 * known names and the worker keys its cache by the checked name, refusing anything longer than the limit.
 */
import { GenerateRequest, WorkerClient, type GenerateResponse } from '../../src/common/gen/worker';
import { createClient, deadlineIn } from '../../src/common/grpc/client';
import { LIST_LIMITS } from '../../src/common/request-limits';
import { startStack, type Stack } from '../support/stack';
import { tinyModel } from '../support/models';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ workers: [{ model: await tinyModel(), names: ['tiny'] }] });
});

afterAll(() => stack.stop());

async function chat(convTemplate: string): Promise<{ status: number; param?: string }> {
  const res = await fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1, conv_template: convTemplate }),
  });
  const body = (await res.json()) as { error?: { param?: string } };
  return { status: res.status, param: body.error?.param };
}

function workerCall(client: WorkerClient, convTemplate: string): Promise<string> {
  return new Promise((resolve) => {
    const call = client.generate(GenerateRequest.fromPartial({ model: 'tiny', chat: { messages: [{ role: 'user', content: 'hi' }], addGenerationPrompt: true, convTemplate }, params: { maxTokens: 1 } }), { deadline: deadlineIn(10_000) });
    call.on('data', (_c: GenerateResponse) => undefined);
    call.on('error', (e: Error) => resolve(e.message));
    call.on('end', () => resolve('ok'));
  });
}

it('the gateway accepts known template names only', async () => {
  expect(await chat(' vicuna_v1.1 ')).toEqual({ status: 200, param: undefined });
  expect(await chat('no-such-template')).toEqual({ status: 400, param: 'conv_template' });
  expect(await chat(`${' '.repeat(1 << 20)}vicuna_v1.1`)).toEqual({ status: 400, param: 'conv_template' });
});

it('the worker refuses a padded name from any gRPC caller, so distinct strings cannot grow its cache', async () => {
  const client = createClient(WorkerClient, stack.workers[0].address);
  try {
    expect(await workerCall(client, 'vicuna_v1.1')).toBe('ok');
    for (let i = 0; i < 20; i++) {
      expect(await workerCall(client, `${' '.repeat(LIST_LIMITS.maxConvTemplateChars * 4 + i)}vicuna_v1.1`)).toMatch(/conv_template: at most 64 characters/);
    }
  } finally {
    client.close();
  }
});
