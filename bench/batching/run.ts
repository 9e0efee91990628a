/**
 * `npm run bench:batching`: aggregate decode throughput through gRPC at concurrency 1, 2, 4, 8, 16 on the
 * generated ~100M model, for the worker with continuous batching and for the same worker forced to batch
 * size 1 (FastChat's serial behaviour), in the same run; time to first token p50 / p99 at each level.
 * Prints a table, then one JSON line last: {tok_s, serial_tok_s, speedup_at_8, ...}.
 *
 *   BENCH_MODEL=100m|small|tiny (default 100m), BENCH_TOKENS (default 32 per stream), BENCH_LEVELS (default 1,2,4,8,16)
 */
import { availableParallelism } from 'node:os';
import { parseConfig } from '../../src/common/config';
import { WorkerClient } from '../../src/common/gen/worker';
import { createClient } from '../../src/common/grpc/client';
import { silentLogger } from '../../src/common/log';
import { startWorker, workerOptions } from '../../src/worker/main';
import { grpcLoad } from '../support/grpc-load';
import { benchModel } from '../support/models';
import { percentile, round } from '../support/stats';

const PRESET = (process.env.BENCH_MODEL ?? '100m') as '100m' | 'small' | 'tiny';
const TOKENS = Number(process.env.BENCH_TOKENS ?? 32);
const LEVELS = (process.env.BENCH_LEVELS ?? '1,2,4,8,16').split(',').map(Number);
const THREADS = availableParallelism();

interface Level {
  concurrency: number;
  tokS: number;
  ttftP50: number;
  ttftP99: number;
}

async function measure(dir: string, maxConcurrency: number): Promise<Level[]> {
  const worker = await startWorker(
    parseConfig(workerOptions, ['--model', dir, '--model-names', 'bench', '--controller', '', '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--threads', String(THREADS), '--max-concurrency', String(maxConcurrency), '--max-queue', '1024']),
    silentLogger(),
  );
  const client = createClient(WorkerClient, worker.address);
  const request = { model: 'bench', prompt: 'In a distant land, long ago, there lived a', params: { maxTokens: TOKENS, ignoreEos: true, temperature: 0 } };
  await grpcLoad(client, 2, request); // warm-up
  const levels: Level[] = [];
  for (const c of LEVELS) {
    const r = await grpcLoad(client, c, request);
    levels.push({ concurrency: c, tokS: r.tokens / r.seconds, ttftP50: percentile(r.ttftMs, 50), ttftP99: percentile(r.ttftMs, 99) });
  }
  client.close();
  await worker.stop();
  return levels;
}

async function main(): Promise<void> {
  const dir = await benchModel(PRESET, { preset: PRESET });
  const batched = await measure(dir, 64);
  const serial = await measure(dir, 1);
  console.log(`bench:batching — model ${PRESET}, ${TOKENS} tokens per stream, ${THREADS} threads, gRPC on 127.0.0.1`);
  console.table(batched.map((b, i) => ({
    concurrency: b.concurrency,
    batched_tok_s: round(b.tokS),
    serial_tok_s: round(serial[i].tokS),
    speedup_vs_serial: round(b.tokS / serial[i].tokS, 2),
    batched_ttft_p50_ms: round(b.ttftP50),
    batched_ttft_p99_ms: round(b.ttftP99),
    serial_ttft_p50_ms: round(serial[i].ttftP50),
    serial_ttft_p99_ms: round(serial[i].ttftP99),
  })));
  const at = (levels: Level[], c: number): number => levels.find((l) => l.concurrency === c)?.tokS ?? Number.NaN;
  console.log(JSON.stringify({
    model: PRESET,
    tok_s: Object.fromEntries(batched.map((b) => [b.concurrency, round(b.tokS)])),
    serial_tok_s: Object.fromEntries(serial.map((b) => [b.concurrency, round(b.tokS)])),
    ttft_p50_ms: Object.fromEntries(batched.map((b) => [b.concurrency, round(b.ttftP50)])),
    ttft_p99_ms: Object.fromEntries(batched.map((b) => [b.concurrency, round(b.ttftP99)])),
    speedup_at_8: round(at(batched, 8) / at(batched, 1), 2),
  }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
