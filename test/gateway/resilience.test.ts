import OpenAI from 'openai';
import { parseConfig } from '../../src/common/config';
import { silentLogger } from '../../src/common/log';
import { controllerOptions, startController } from '../../src/controller/main';
import { gatewayOptions, startGateway } from '../../src/gateway/main';
import { spawnCli, waitForOutput } from '../support/cli';
import { tinyModel } from '../support/models';
import { startStack, startWorkerFor, waitFor } from '../support/stack';
import { freePort } from '../support/free-port';


describe('a worker killed under load', () => {
  it('sends new requests to the survivor and drops the dead worker from the registry', async () => {
    const dir = await tinyModel();
    const stack = await startStack({ workers: [{ model: dir, names: ['tiny'] }], controllerArgs: ['--heartbeat-expiry', '2s'] });
    const child = spawnCli(['worker', '--model', dir, '--model-names', 'tiny', '--controller', stack.controller.address, '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--threads', '1', '--heartbeat-interval', '200ms', '--log-level', 'info']);
    try {
      await waitForOutput(child, /registered with controller/);
      await waitFor(() => stack.controller.registry.list('tiny').length === 2, 5000);
      const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const inflight = Array.from({ length: 12 }, () => client.completions.create({ model: 'tiny', prompt: 'load', max_tokens: 200, ignore_eos: true } as OpenAI.CompletionCreateParamsNonStreaming).then(() => 'ok', () => 'failed'));
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGKILL');
      const outcomes = await Promise.all(inflight);
      expect(outcomes.filter((o) => o === 'ok').length).toBeGreaterThan(0);
      await waitFor(() => stack.controller.registry.list('tiny').length === 1, 5000);
      const after = await Promise.all(Array.from({ length: 8 }, () => client.completions.create({ model: 'tiny', prompt: 'after', max_tokens: 8 })));
      expect(after.every((r) => r.choices[0].text.length >= 0 && r.usage!.completion_tokens > 0)).toBe(true);
    } finally {
      child.kill('SIGKILL');
      await stack.stop();
    }
  }, 120_000);

  it('retries a request on another worker when the chosen one is unreachable before the first token', async () => {
    const dir = await tinyModel();
    const stack = await startStack({ workers: [{ model: dir, names: ['tiny'] }] });
    try {
      // Register a worker that does not exist: its address refuses connections.
      const port = await freePort();
      stack.controller.registry.register({ workerId: 'ghost', address: `127.0.0.1:${port}`, modelNames: ['tiny'], kind: 1, contextLength: 2048, status: { queueLength: 0, running: 0, maxConcurrency: 1000, speed: 1, generatedTokens: 0, draining: false }, lastHeartbeatUnixMs: 0, labels: {} });
      const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'x', maxRetries: 0 });
      // The ghost looks idle, so shortest_queue picks it first; the gateway must fall back to the real worker.
      const res = await client.completions.create({ model: 'tiny', prompt: 'retry', max_tokens: 4 });
      expect(res.usage!.completion_tokens).toBeGreaterThan(0);
    } finally {
      await stack.stop();
    }
  }, 60_000);
});

describe('a controller restart', () => {
  it('workers register again and serving resumes', async () => {
    const dir = await tinyModel();
    const port = await freePort();
    const args = ['--listen', `127.0.0.1:${port}`, '--metrics-listen', '127.0.0.1:0', '--heartbeat-interval', '200ms', '--heartbeat-expiry', '1s'];
    let controller = await startController(parseConfig(controllerOptions, args), silentLogger());
    const worker = await startWorkerFor(controller.address, { model: dir, names: ['tiny'] }, silentLogger());
    const gateway = await startGateway(parseConfig(gatewayOptions, ['--controller', controller.address, '--listen', '127.0.0.1:0']), silentLogger());
    try {
      const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'x', maxRetries: 0 });
      await waitFor(() => gateway.ctx.view.models().length === 1, 5000);
      expect((await client.completions.create({ model: 'tiny', prompt: 'before', max_tokens: 3 })).usage!.completion_tokens).toBeGreaterThan(0);
      await controller.stop(200);
      controller = await startController(parseConfig(controllerOptions, args), silentLogger());
      expect(controller.registry.size).toBe(0);
      await waitFor(() => controller.registry.list('tiny').length === 1, 10_000);
      await waitFor(() => gateway.ctx.view.models().length === 1, 10_000);
      expect((await client.completions.create({ model: 'tiny', prompt: 'after', max_tokens: 3 })).usage!.completion_tokens).toBeGreaterThan(0);
    } finally {
      await gateway.stop();
      await worker.stop();
      await controller.stop(200);
    }
  }, 60_000);
});
