/**
 * `npm run bench:gpu -- --workers N`: serving throughput with one worker per GPU. A controller, K workers (worker i
 * sees only GPU i through CUDA_VISIBLE_DEVICES and runs `--device cuda`), all registered with the controller, and a
 * gateway; the load goes through the gateway's public gRPC API (BENCH_CONCURRENCY streams per worker, greedy,
 * BENCH_NEW_TOKENS each, ignore_eos) for K = 1 and K = N in the same run. Scaling = tokens/s at N ÷ (N × tokens/s
 * at 1); the goal is ≥ 0.9. Where fewer than N GPUs are visible it says "needs N GPUs, found M" and exits 0.
 */
import type { ChildProcess } from 'node:child_process';
import { ChatRequest, InferenceClient } from '../../src/common/gen/inference';
import { createClient } from '../../src/common/grpc/client';
import { listGpus } from '../../src/worker/device/gpus';
import { spawnCli, waitForOutput } from '../../test/support/cli';
import { inferenceLoad } from '../support/inference-load';
import { round } from '../support/stats';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const NEW = Number(process.env.BENCH_NEW_TOKENS ?? 128);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);

/** The line bench:gpu --workers prints where the machine has too few GPUs (exit status 0: CI has none). */
export function needsGpus(bench: string, needed: number, found: number): string {
  return `${bench}: needs ${needed} GPUs, found ${found} — skipped (run it on a host with ${needed} NVIDIA GPUs)`;
}

async function stack(model: string, workers: number): Promise<{ client: InferenceClient; stop: () => Promise<void> }> {
  const children: ChildProcess[] = [];
  const start = async (args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}): Promise<RegExpMatchArray> => {
    const child = spawnCli([...args, '--log-level', 'info'], env);
    children.push(child);
    return waitForOutput(child, ready, 600_000);
  };
  const controller = (await start(['controller', '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0'], /"address":"(127\.0\.0\.1:\d+)"/))[1];
  await Promise.all(Array.from({ length: workers }, (_, i) => start(['worker', '--model', model, '--model-names', 'bench', '--controller', controller, '--worker-id', `gpu${i}`,
    '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--device', 'cuda', '--max-concurrency', String(CONCURRENCY), '--max-queue', '4096'],
  /"msg":"worker ready"/, { CUDA_VISIBLE_DEVICES: String(i) })));
  const grpc = (await start(['gateway', '--controller', controller, '--listen', '127.0.0.1:0', '--grpc-listen', '127.0.0.1:0', '--db', ':memory:'], /"grpc":"(127\.0\.0\.1:\d+)"/))[1];
  const client = createClient(InferenceClient, grpc);
  return {
    client,
    stop: async () => {
      client.close();
      await Promise.all(children.map((c) => new Promise<void>((resolve) => {
        if (c.exitCode !== null) return resolve();
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
      })));
    },
  };
}

const REQUEST: ChatRequest = ChatRequest.fromPartial({
  model: 'bench', messages: [{ role: 'user', content: 'Write a long story about a lighthouse keeper.' }], n: 1,
  params: { maxTokens: NEW, ignoreEos: true, temperature: 0 },
});

async function measure(model: string, workers: number): Promise<number> {
  const s = await stack(model, workers);
  try {
    await inferenceLoad(s.client, workers * 2, REQUEST); // warm every worker
    let tokens = 0;
    let seconds = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const res = await inferenceLoad(s.client, workers * CONCURRENCY, REQUEST);
      tokens += res.tokens;
      seconds += res.seconds;
    }
    return tokens / seconds;
  } finally {
    await s.stop();
  }
}

/** Returns the JSON summary it printed last. */
export async function workersBench(n: number, model: string, modelName: string): Promise<Record<string, unknown>> {
  const gpus = listGpus();
  if (gpus.length < n) {
    process.stdout.write(`${needsGpus('bench:gpu --workers', n, gpus.length)}\n`);
    const skipped = { skipped: true, needs_gpus: n, found_gpus: gpus.length };
    process.stdout.write(`${JSON.stringify(skipped)}\n`);
    return skipped;
  }
  const gpu = `${n} × ${gpus[0].name}`;
  const one = await measure(model, 1);
  const many = await measure(model, n);
  const scaling = many / (n * one);
  process.stdout.write(`\nbench:gpu --workers ${n} — ${gpu}; model ${modelName}; ${CONCURRENCY} streams per worker × ${NEW} tokens, through the gateway\n`);
  process.stdout.write(`workers  output tok/s  vs N × one worker\n${'1'.padStart(7)}  ${round(one).toString().padStart(12)}  1.00\n${String(n).padStart(7)}  ${round(many).toString().padStart(12)}  ${scaling.toFixed(2)}\n`);
  const summary = { gpu, model: modelName, workers: n, tok_s_1: round(one), [`tok_s_${n}`]: round(many), scaling: round(scaling, 3) };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return summary;
}
