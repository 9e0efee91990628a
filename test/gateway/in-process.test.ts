/**
 * The gateway calling a worker of its own process in-process (`fleetchat up`): the same answers, errors and
 * cancellation as over gRPC. One controller and one worker of the generated tiny model; gateway A opens its calls
 * in-process, gateway B over the worker's gRPC port; every request goes to both.
 */
import OpenAI from 'openai';
import { parseConfig } from '../../src/common/config';
import { gatewayOptions, startGateway, type RunningGateway } from '../../src/gateway/main';
import { tinyModel } from '../support/models';
import { startStack, waitFor, type Stack } from '../support/stack';
import { CANCELLED, RUNNING, workerMetric } from '../support/worker-metrics';

async function gatewayMetric(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

const IN_PROCESS = 'fleetchat_gateway_worker_calls_total{transport="in_process"}';
const GRPC = 'fleetchat_gateway_worker_calls_total{transport="grpc"}';

describe('in-process calls from the gateway to a worker of the same process', () => {
  let stack: Stack;
  let viaGrpc: RunningGateway;
  let a: OpenAI;
  let b: OpenAI;

  beforeAll(async () => {
    stack = await startStack({ workers: [{ model: await tinyModel(), names: ['tiny'] }], inProcess: true });
    viaGrpc = await startGateway(parseConfig(gatewayOptions, ['--controller', stack.controller.address, '--listen', '127.0.0.1:0', '--db', ':memory:']), stack.logger);
    await waitFor(() => viaGrpc.ctx.view.models().length > 0);
    a = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'x', maxRetries: 0 });
    b = new OpenAI({ baseURL: `${viaGrpc.url}/v1`, apiKey: 'x', maxRetries: 0 });
  }, 120_000);

  afterAll(async () => {
    await viaGrpc?.stop();
    await stack?.stop();
  });

  it('streams the same greedy answer, usage and logprobs as over gRPC, and counts the transport', async () => {
    const inProcessBefore = await gatewayMetric(stack.url, IN_PROCESS);
    const ask = async (client: OpenAI): Promise<{ text: string[]; usage: unknown; logprobs: unknown[] }> => {
      const stream = await client.chat.completions.create({
        model: 'tiny', messages: [{ role: 'user', content: 'Tell me about lighthouses.' }], max_tokens: 24, temperature: 0, n: 2, logprobs: true, top_logprobs: 2,
        stream: true, stream_options: { include_usage: true },
      });
      const text = ['', ''];
      const logprobs: unknown[] = [];
      let usage: unknown;
      for await (const chunk of stream) {
        for (const c of chunk.choices) {
          text[c.index] += c.delta.content ?? '';
          if (c.logprobs?.content) logprobs.push(...c.logprobs.content.map((l) => ({ index: c.index, ...l })));
        }
        if (chunk.usage) usage = chunk.usage;
      }
      return { text, usage, logprobs };
    };
    const [local, remote] = [await ask(a), await ask(b)];
    expect(local.text[0].length).toBeGreaterThan(0);
    expect(local).toEqual(remote);
    expect(await gatewayMetric(stack.url, IN_PROCESS)).toBe(inProcessBefore + 1);
    expect(await gatewayMetric(stack.url, GRPC)).toBe(0);
    expect(await gatewayMetric(viaGrpc.url, GRPC)).toBeGreaterThanOrEqual(1);
    expect(await gatewayMetric(viaGrpc.url, IN_PROCESS)).toBe(0);
  }, 60_000);

  it('returns the worker\'s own refusal with the same status and body as over gRPC', async () => {
    // Only the worker knows the model's context length: a prompt longer than it is refused there.
    const long = 'lighthouse '.repeat(6000);
    const refusal = async (client: OpenAI): Promise<{ status: number | undefined; body: unknown }> => {
      try {
        await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: long }], max_tokens: 4 });
      } catch (err) {
        if (err instanceof OpenAI.APIError) return { status: err.status, body: err.error };
        throw err;
      }
      throw new Error('the request was not refused');
    };
    const calls = await gatewayMetric(stack.url, IN_PROCESS);
    const [local, remote] = [await refusal(a), await refusal(b)];
    expect(await gatewayMetric(stack.url, IN_PROCESS)).toBeGreaterThan(calls); // refused by the worker, not the gateway
    expect(local.status).toBeGreaterThanOrEqual(400);
    expect(local.status).toBeLessThan(500);
    expect(local).toEqual(remote);
  }, 60_000);

  it('a client that goes away mid-stream cancels the generation on the worker', async () => {
    const worker = stack.workers[0];
    const before = await workerMetric(worker.ops.url, CANCELLED);
    const abort = new AbortController();
    const res = await fetch(`${stack.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', prompt: 'long', max_tokens: 1500, ignore_eos: true, stream: true }),
      signal: abort.signal,
    });
    const reader = (res.body ?? fail('no body')).getReader();
    await reader.read();
    expect(await workerMetric(worker.ops.url, RUNNING)).toBe(1);
    abort.abort();
    await waitFor(async () => (await workerMetric(worker.ops.url, CANCELLED)) === before + 1, 10_000);
    await waitFor(async () => (await workerMetric(worker.ops.url, RUNNING)) === 0, 10_000);
  }, 60_000);
});

function fail(message: string): never {
  throw new Error(message);
}
