/**
 * `npm run bench:gateway`: the same streaming workload — N concurrent chat completions of T tokens each — sent
 * (a) straight to the worker over gRPC, (b) through gateway + controller over HTTP/SSE and (c) through the gateway's
 * public gRPC API (fleetchat.v1.Inference), alternating rounds in one run. Prints added time-to-first-token p50/p99 and output tokens/s both ways, then one JSON line last:
 * {ttft_added_ms_p50, ttft_added_ms_p99, throughput_ratio, ...}. Under a burst the added TTFT mostly measures how
 * the requests fall into the worker's prefill steps (the gateway hands them over spread by its own parsing), so a
 * second phase sends single requests one at a time, alternating paths: ttft_added_ms_p50_single is what the gateway
 * and controller add to one request; grpc_ttft_added_ms_p50 is the same for the public gRPC API (goal: < 2 ms).
 *
 *   BENCH_MODEL=tiny|small|100m (default tiny: the smallest model makes the front end's share largest),
 *   BENCH_CONCURRENCY (default 64), BENCH_TOKENS (default 128), BENCH_ROUNDS (default 3), BENCH_SINGLE (default 40),
 *   BENCH_PROFILE=DIR writes a V8 CPU profile of each component process into DIR (open in Chrome DevTools)
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { InferenceClient, type ChatRequest } from '../../src/common/gen/inference';
import { WorkerClient } from '../../src/common/gen/worker';
import { createClient } from '../../src/common/grpc/client';
import { spawnCli, waitForOutput } from '../../test/support/cli';
import { grpcLoad, type LoadResult } from '../support/grpc-load';
import { inferenceLoad, inferenceOnce } from '../support/inference-load';
import { benchModel } from '../support/models';
import { percentile, round } from '../support/stats';

const PRESET = (process.env.BENCH_MODEL ?? 'tiny') as 'tiny' | 'small' | '100m';
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const TOKENS = Number(process.env.BENCH_TOKENS ?? 128);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SINGLE = Number(process.env.BENCH_SINGLE ?? 40);
const MESSAGES = [{ role: 'user', content: 'Write a long story about a lighthouse keeper.' }];

const agent = new Agent({ keepAlive: true, maxSockets: 1024 });

/** One streaming chat completion over node:http (keep-alive), timing the first non-empty content delta. */
function sseOnce(url: string): Promise<{ ttftMs: number; tokens: number }> {
  const started = performance.now();
  const body = JSON.stringify({ model: 'bench', messages: MESSAGES, max_tokens: TOKENS, temperature: 0, ignore_eos: true, stream: true, stream_options: { include_usage: true } });
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/chat/completions`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`HTTP ${res.statusCode}`));
        res.resume();
        return;
      }
      let ttftMs = -1;
      let buffer = '';
      let tokens = 0;
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        buffer += text;
        let i: number;
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          if (!event.startsWith('data: {')) continue;
          const chunk = JSON.parse(event.slice(6)) as { choices: Array<{ delta: { content?: string } }>; usage?: { completion_tokens: number } | null };
          if (ttftMs < 0 && chunk.choices.some((c) => c.delta.content !== undefined && c.delta.content !== '')) ttftMs = performance.now() - started;
          if (chunk.usage) tokens = chunk.usage.completion_tokens;
        }
      });
      res.on('end', () => resolve({ ttftMs, tokens }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function httpLoad(url: string): Promise<LoadResult> {
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: CONCURRENCY }, () => sseOnce(url)));
  return { seconds: (performance.now() - started) / 1000, tokens: results.reduce((n, r) => n + r.tokens, 0), ttftMs: results.map((r) => r.ttftMs) };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); 0 elsewhere. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const dir = await benchModel(PRESET, { preset: PRESET });
  // Each component in its own process, as deployed; this process is only the load client.
  const children: ChildProcess[] = [];
  const start = async (args: string[], ready: RegExp): Promise<RegExpMatchArray> => {
    const profile = process.env.BENCH_PROFILE;
    const child = spawnCli([...args, '--log-level', 'info'], {}, profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []);
    children.push(child);
    return waitForOutput(child, ready, 120_000);
  };
  const controllerAddr = (await start(['controller', '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0'], /"address":"(127\.0\.0\.1:\d+)"/))[1];
  const workerAddr = (await start(['worker', '--model', dir, '--model-names', 'bench', '--controller', controllerAddr, '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--threads', '2', '--max-concurrency', String(CONCURRENCY), '--max-queue', '1024'], /"address":"(127\.0\.0\.1:\d+)"[^\n]*"msg":"worker ready"/))[1];
  const [, url, grpcAddr] = await start(['gateway', '--controller', controllerAddr, '--listen', '127.0.0.1:0', '--grpc-listen', '127.0.0.1:0', '--db', ':memory:'], /"url":"(http:\/\/127\.0\.0\.1:\d+)","grpc":"(127\.0\.0\.1:\d+)"/);
  const stack = {
    url,
    stop: () => Promise.all(children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    }))),
  };
  await new Promise((r) => setTimeout(r, 500));
  const client = createClient(WorkerClient, workerAddr);
  const direct = { ttft: [] as number[], tokens: 0, seconds: 0 };
  const viaGateway = { ttft: [] as number[], tokens: 0, seconds: 0 };
  const viaGrpc = { ttft: [] as number[], tokens: 0, seconds: 0 };
  const inference = createClient(InferenceClient, grpcAddr);
  const publicChat: ChatRequest = {
    model: 'bench', messages: MESSAGES.map((m) => ({ ...m, name: '', toolCallId: '', toolCallsJson: '' })), n: 1, convTemplate: '', requestId: '', toolsJson: '', toolOptions: undefined,
    params: { maxTokens: TOKENS, ignoreEos: true, temperature: 0, stop: [], stopTokenIds: [], logitBias: {}, echo: false, includeStopStrInOutput: false },
  };
  // CPU each process spends on the gateway rounds: what the front end costs per streamed token.
  const [controllerPid, workerPid, gatewayPid] = children.map((c) => c.pid);
  const cpu = { gateway: 0, controller: 0, worker: 0 };
  const chat = { model: 'bench', chat: { messages: MESSAGES.map((m) => ({ ...m, name: '', toolCallId: '', toolCallsJson: '' })), addGenerationPrompt: true, toolsJson: '', convTemplate: '' }, params: { maxTokens: TOKENS, ignoreEos: true, temperature: 0 } };
  await grpcLoad(client, 4, chat, 'text');
  await httpLoad(stack.url);
  await inferenceLoad(inference, 4, publicChat);
  const grpcCpu = { gateway: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    const a = await grpcLoad(client, CONCURRENCY, chat, 'text');
    const before = { gateway: cpuSeconds(gatewayPid), controller: cpuSeconds(controllerPid), worker: cpuSeconds(workerPid) };
    const b = await httpLoad(stack.url);
    cpu.gateway += cpuSeconds(gatewayPid) - before.gateway;
    cpu.controller += cpuSeconds(controllerPid) - before.controller;
    cpu.worker += cpuSeconds(workerPid) - before.worker;
    direct.ttft.push(...a.ttftMs);
    direct.tokens += a.tokens;
    direct.seconds += a.seconds;
    viaGateway.ttft.push(...b.ttftMs);
    viaGateway.tokens += b.tokens;
    viaGateway.seconds += b.seconds;
    const gatewayCpuBefore = cpuSeconds(gatewayPid);
    const c = await inferenceLoad(inference, CONCURRENCY, publicChat);
    grpcCpu.gateway += cpuSeconds(gatewayPid) - gatewayCpuBefore;
    viaGrpc.ttft.push(...c.ttftMs);
    viaGrpc.tokens += c.tokens;
    viaGrpc.seconds += c.seconds;
  }
  // One request at a time, alternating paths: the latency the gateway and controller add to a single request.
  const single = { direct: [] as number[], viaGateway: [] as number[], viaGrpc: [] as number[] };
  for (let i = 0; i < SINGLE; i++) {
    single.direct.push(...(await grpcLoad(client, 1, chat, 'text')).ttftMs);
    single.viaGateway.push((await sseOnce(stack.url)).ttftMs);
    single.viaGrpc.push((await inferenceOnce(inference, publicChat)).ttftMs);
  }
  client.close();
  inference.close();
  await stack.stop();
  const row = (name: string, m: typeof direct) => ({ path: name, ttft_p50_ms: round(percentile(m.ttft, 50)), ttft_p99_ms: round(percentile(m.ttft, 99)), output_tok_s: round(m.tokens / m.seconds), tokens: m.tokens });
  console.log(`bench:gateway — model ${PRESET}, ${CONCURRENCY} concurrent streams x ${TOKENS} tokens, ${ROUNDS} alternating rounds`);
  console.table([row('worker gRPC (direct)', direct), row('gateway HTTP/SSE + controller', viaGateway), row('gateway public gRPC + controller', viaGrpc)]);
  const perToken = (seconds: number): number => round((seconds / viaGateway.tokens) * 1e6, 1);
  console.log(`CPU per streamed token on the gateway path: gateway ${perToken(cpu.gateway)} µs, controller ${perToken(cpu.controller)} µs, worker ${perToken(cpu.worker)} µs`);
  const grpcGatewayCpu = round((grpcCpu.gateway / viaGrpc.tokens) * 1e6, 1);
  console.log(`gateway CPU per streamed token: HTTP/SSE ${perToken(cpu.gateway)} µs, public gRPC ${grpcGatewayCpu} µs`);
  console.log(`single requests, one at a time (${SINGLE} each way):`);
  console.table([
    { path: 'worker gRPC (direct)', ttft_p50_ms: round(percentile(single.direct, 50), 2), ttft_p99_ms: round(percentile(single.direct, 99), 2) },
    { path: 'gateway HTTP/SSE + controller', ttft_p50_ms: round(percentile(single.viaGateway, 50), 2), ttft_p99_ms: round(percentile(single.viaGateway, 99), 2) },
    { path: 'gateway public gRPC + controller', ttft_p50_ms: round(percentile(single.viaGrpc, 50), 2), ttft_p99_ms: round(percentile(single.viaGrpc, 99), 2) },
  ]);
  console.log(JSON.stringify({
    model: PRESET,
    concurrency: CONCURRENCY,
    tokens_per_stream: TOKENS,
    ttft_added_ms_p50: round(percentile(viaGateway.ttft, 50) - percentile(direct.ttft, 50), 2),
    ttft_added_ms_p99: round(percentile(viaGateway.ttft, 99) - percentile(direct.ttft, 99), 2),
    ttft_added_ms_p50_single: round(percentile(single.viaGateway, 50) - percentile(single.direct, 50), 2),
    ttft_added_ms_p99_single: round(percentile(single.viaGateway, 99) - percentile(single.direct, 99), 2),
    direct_tok_s: round(direct.tokens / direct.seconds),
    gateway_tok_s: round(viaGateway.tokens / viaGateway.seconds),
    gateway_cpu_us_per_token: perToken(cpu.gateway),
    worker_cpu_us_per_token: perToken(cpu.worker),
    throughput_ratio: round(viaGateway.tokens / viaGateway.seconds / (direct.tokens / direct.seconds), 3),
    grpc_ttft_added_ms_p50: round(percentile(single.viaGrpc, 50) - percentile(single.direct, 50), 2),
    grpc_ttft_added_ms_p99: round(percentile(single.viaGrpc, 99) - percentile(single.direct, 99), 2),
    grpc_ttft_added_ms_p50_burst: round(percentile(viaGrpc.ttft, 50) - percentile(direct.ttft, 50), 2),
    grpc_tok_s: round(viaGrpc.tokens / viaGrpc.seconds),
    grpc_gateway_cpu_us_per_token: grpcGatewayCpu,
    grpc_throughput_ratio: round(viaGrpc.tokens / viaGrpc.seconds / (direct.tokens / direct.seconds), 3),
  }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
