/**
 * Prefix-aware routing with real parts: a controller, two workers with prefix caches, one or two gateways. Every turn
 * of a chat goes to the worker that served the previous turn (its prefix cache hits: usage.prompt_tokens_details.
 * cached_tokens > 0, and only that worker counts requests), gateway replicas agree without shared state, and a full
 * or departed worker is passed over for load.
 */
import type { ClientReadableStream } from '@grpc/grpc-js';
import OpenAI from 'openai';
import { parseConfig } from '../../src/common/config';
import { GenerateRequest, WorkerClient, type GenerateResponse } from '../../src/common/gen/worker';
import { createClient } from '../../src/common/grpc/client';
import { gatewayOptions, startGateway, type RunningGateway } from '../../src/gateway/main';
import type { RunningWorker } from '../../src/worker/main';
import { tinyModel } from '../support/models';
import { startStack, waitFor, type Stack } from '../support/stack';
import { workerMetric } from '../support/worker-metrics';

type Message = OpenAI.ChatCompletionMessageParam;
const QUESTIONS = ['Tell me about the sea and the ships upon it.', 'And what about the wind?', 'Which stars guide sailors at night?', 'How long is a voyage across the ocean?', 'Summarise all of that briefly.'];

/** One chat turn: appends the question and the answer; returns the cached prompt tokens the worker reported. */
async function turn(client: OpenAI, messages: Message[], question: string): Promise<number> {
  messages.push({ role: 'user', content: question });
  const res = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 8, temperature: 0 });
  messages.push({ role: 'assistant', content: res.choices[0].message.content ?? '' });
  return res.usage?.prompt_tokens_details?.cached_tokens ?? -1;
}

const opening = (): Message[] => [{ role: 'system', content: 'You are a helpful assistant who answers questions about the sea in plain words, briefly and kindly.' }];

/** Chat turns a worker finished (by length or a stop; the slot fillers below end cancelled). */
const requestsOn = async (w: RunningWorker): Promise<number> =>
  (await workerMetric(w.ops.url, 'fleetchat_worker_requests_total{finish_reason="length"}')) + (await workerMetric(w.ops.url, 'fleetchat_worker_requests_total{finish_reason="stop"}'));

async function gatewayMetric(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** The worker whose request count moved since `before`. */
async function servedBy(stack: Stack, before: number[]): Promise<number[]> {
  const after = await Promise.all(stack.workers.map(requestsOn));
  return after.map((n, i) => n - before[i]);
}

describe('prefix-aware routing through the gateway', () => {
  let stack: Stack;
  /** Two workers of the tiny model, with `args`. */
  const start = async (args: string[] = []): Promise<void> => {
    const dir = await tinyModel();
    stack = await startStack({ workers: [{ model: dir, names: ['tiny'], args }, { model: dir, names: ['tiny'], args }] });
  };

  afterEach(async () => {
    await stack.stop();
  });

  it('sends every turn of a chat to the worker that served the previous turn, which reuses its prefix', async () => {
    await start();
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const before = await Promise.all(stack.workers.map(requestsOn));
    const messages = opening();
    const cached: number[] = [];
    for (const q of QUESTIONS) cached.push(await turn(client, messages, q));
    expect(cached[0]).toBe(0);
    for (const c of cached.slice(1)) expect(c).toBeGreaterThan(0);
    expect((await servedBy(stack, before)).sort()).toEqual([0, 5]);
    expect(await gatewayMetric(stack.url, 'fleetchat_gateway_dispatch_total{reason="prefix"}')).toBe(4);
  }, 120_000);

  it('two gateway replicas send one chat to the same worker without sharing state', async () => {
    await start();
    const second: RunningGateway = await startGateway(parseConfig(gatewayOptions, ['--controller', stack.controller.address, '--listen', '127.0.0.1:0', '--db', ':memory:']), stack.logger);
    try {
      await waitFor(() => second.ctx.view.models().some((m) => m.workers === 2), 5000);
      const replicas = [stack.url, second.url].map((url) => new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0 }));
      // Several chats, each alternating between the replicas turn by turn: every chat stays on one worker.
      for (let chat = 0; chat < 3; chat++) {
        const before = await Promise.all(stack.workers.map(requestsOn));
        const messages: Message[] = [{ role: 'system', content: `Chat number ${chat}: answer as a ship's captain would, in one short sentence each time.` }];
        const cached: number[] = [];
        for (let t = 0; t < 4; t++) cached.push(await turn(replicas[t % 2], messages, QUESTIONS[t]));
        expect((await servedBy(stack, before)).sort()).toEqual([0, 4]);
        for (const c of cached.slice(1)) expect(c).toBeGreaterThan(0);
      }
    } finally {
      await second.stop();
    }
  }, 180_000);

  it('the controller routes by prefix too (--dispatch controller: one index for every replica)', async () => {
    await start();
    const viaController = await startGateway(parseConfig(gatewayOptions, ['--controller', stack.controller.address, '--listen', '127.0.0.1:0', '--db', ':memory:', '--dispatch', 'controller']), stack.logger);
    try {
      await waitFor(() => viaController.ctx.view.models().some((m) => m.workers === 2), 5000);
      const client = new OpenAI({ baseURL: `${viaController.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const before = await Promise.all(stack.workers.map(requestsOn));
      const messages = opening();
      const cached: number[] = [];
      for (const q of QUESTIONS.slice(0, 4)) cached.push(await turn(client, messages, q));
      expect((await servedBy(stack, before)).sort()).toEqual([0, 4]);
      for (const c of cached.slice(1)) expect(c).toBeGreaterThan(0);
      expect(await gatewayMetric(stack.controller.ops.url, 'fleetchat_controller_dispatch_total{result="ok",route="prefix"}')).toBe(3);
    } finally {
      await viaController.stop();
    }
  }, 120_000);

  it('passes over the worker of the conversation while it is full, and after it is gone', async () => {
    await start(['--max-concurrency', '2']); // two long generations fill a worker
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const messages = opening();
    let before = await Promise.all(stack.workers.map(requestsOn));
    for (const q of QUESTIONS.slice(0, 2)) await turn(client, messages, q);
    const home = (await servedBy(stack, before)).findIndex((n) => n === 2);
    expect(home).toBeGreaterThanOrEqual(0);
    const other = 1 - home;
    const homeWorker = stack.workers[home];

    // Fill both of the home worker's slots with long generations sent straight to it.
    const direct = createClient(WorkerClient, homeWorker.address, {});
    const long: Array<ClientReadableStream<GenerateResponse>> = [0, 1].map((i) =>
      direct.generate(GenerateRequest.fromPartial({ requestId: `fill-${i}`, model: 'tiny', prompt: 'fill the slots', params: { maxTokens: 1900, ignoreEos: true, temperature: 0 } })),
    );
    for (const call of long) call.on('error', () => undefined);
    try {
      await waitFor(() => stack.gateway.ctx.view.models()[0]?.running === 2, 10_000);
      before = await Promise.all(stack.workers.map(requestsOn));
      const cachedWhileFull = await turn(client, messages, QUESTIONS[2]);
      const moved = await servedBy(stack, before);
      expect(moved[other]).toBe(1);
      expect(cachedWhileFull).toBe(0); // the other worker never saw this chat
      expect(await gatewayMetric(stack.url, 'fleetchat_gateway_dispatch_total{reason="load"}')).toBeGreaterThanOrEqual(1);
    } finally {
      for (const call of long) call.cancel();
      direct.close();
    }

    // The home worker leaves; the chat continues on the other one, which now holds its latest prefix.
    await homeWorker.stop();
    await waitFor(() => stack.gateway.ctx.view.models()[0]?.workers === 1, 10_000);
    const otherBefore = await requestsOn(stack.workers[other]);
    const cachedAfter = await turn(client, messages, QUESTIONS[3]);
    expect((await requestsOn(stack.workers[other])) - otherBefore).toBe(1);
    expect(cachedAfter).toBeGreaterThan(0);
  }, 180_000);
});
