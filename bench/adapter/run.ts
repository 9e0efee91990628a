/**
 * `npm run bench:adapter`: what fleetchat adds in front of a third-party engine. The same streaming chat requests
 * (same prompt, greedy, a fixed number of tokens: SmolLM2's end tokens banned through logit_bias) go (a) straight to
 * llama.cpp's OpenAI-compatible server and (b) through gateway -> controller-picked adapter worker
 * (`fleetchat worker --engine openai`) -> the same server, one request at a time, alternating paths, in one run.
 * Every fleetchat component runs in its own process, as deployed. A third path, gRPC straight to the adapter
 * worker, splits what the adapter adds from what the gateway adds; a fourth, `fleetchat up --engine openai` (controller,
 * adapter worker and gateway in one process; BENCH_UP=0 skips it), measures the single-process form, its gateway calling
 * the adapter in-process (the default) and, a fifth path, over the adapter's gRPC port (`up --no-in-process`). Prints time to first token and tokens/s (tokens
 * over whole request time) per path, then one JSON line last: {ttft_added_ms_p50 (p50 via fleetchat - p50 direct),
 * ttft_added_ms_paired_p50 (median of the per-round differences: each round sends one request on every path, in a
 * random order drawn per round, so a path's i-th request is paired with the direct path's i-th, sent at most a few
 * requests apart; the BENCH_WARMUP rounds are not counted; less sensitive to drift on a busy machine),
 * ttft_added_by_adapter_ms_p50 (the gRPC -> adapter path against direct), throughput_ratio, load average, ...}.
 * With BENCH_HOPS=1 the gateway and worker log per-request hop timestamps (debug level) and a table says where the
 * added milliseconds go, hop by hop (bench/adapter/hops.ts).
 *
 *   BENCH_REQUESTS (default 30 per path), BENCH_TOKENS (default 64), BENCH_THREADS (llama.cpp threads, default 1),
 *   BENCH_ENGINE_CPUS (llama.cpp's server pinned to these CPUs, e.g. 0 or 2-3, the bench and every fleetchat process
 *   to the others — the engine on cores of its own, as in a deployment; default the last BENCH_THREADS CPUs; none:
 *   nothing pinned, everything shares every core; bench/adapter/cpus.ts),
 *   BENCH_WARMUP (rounds before measuring, default 30: a running server has served requests before; 5 rounds leave
 *   the path half-compiled, ~0.5 ms more added TTFT here), BENCH_SEED (each round's random path order, default 1),
 *   BENCH_GAP_MS (idle time before each request, default 30; 0: back to back, as before), BENCH_HOPS (1: hop table), BENCH_BASELINE (a directory with
 *   another fleetchat checkout, e.g. `git worktree add --detach DIR <commit>`: its adapter worker and gateway, and its
 *   `fleetchat up` unless BENCH_UP=0, serve the same requests in the same run, interleaved — before / after a change
 *   under the same load (the baseline runs at info level: its hop lines, if any, are not on the path); BENCH_BASELINE_BUILT=1
 *   runs it compiled from its dist/, as the container image does: `npm run build && BENCH_BASELINE=$PWD
 *   BENCH_BASELINE_BUILT=1` compares this tree from source and compiled), BENCH_PROFILE (a
 *   directory: this tree's gateway and adapter worker write V8 CPU profiles there when they exit), BENCH_FLOOR_ROUNDS
 *   (default 100; 0 skips it): after the paths, the same four one-way deliveries the front end adds (HTTP in, gRPC in,
 *   gRPC back, SSE back) between two bare Node.js processes — the floor under ttft_added_ms on this machine)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenerateRequest, WorkerClient, type GenerateResponse } from '../../src/common/gen/worker';
import { createClient, deadlineIn } from '../../src/common/grpc/client';
import { hopClockMs as clockMs } from '../../src/common/log';
import { spawnCli, waitForOutput } from '../../test/support/cli';
import { startLlamaServer } from '../../test/support/llama-server';
import { fetchSmolLM2Gguf } from '../support/smollm2';
import { percentile, round, seededRandom, shuffledIndexes } from '../support/stats';
import { canPin, engineCpusFrom, pinProcess } from './cpus';
import { measureHopFloor } from './floor';
import { HopLog, hopTable } from './hops';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 30);
const TOKENS = Number(process.env.BENCH_TOKENS ?? 64);
const THREADS = Number(process.env.BENCH_THREADS ?? 1);
/** CPUs of the engine alone; the bench and fleetchat run on the others. Undefined: nothing pinned. */
const ENGINE_CPUS = resolveEngineCpus();

function resolveEngineCpus(): ReturnType<typeof engineCpusFrom> {
  const spec = process.env.BENCH_ENGINE_CPUS;
  const split = engineCpusFrom(spec, THREADS);
  if (!split || canPin()) return split;
  if (spec) throw new Error('BENCH_ENGINE_CPUS: taskset (util-linux) is not available here');
  process.stderr.write('bench:adapter: taskset not found, the engine is not pinned (BENCH_ENGINE_CPUS)\n');
  return undefined;
}
const WARMUP = Number(process.env.BENCH_WARMUP ?? 30);
const HOPS = process.env.BENCH_HOPS === '1';
/**
 * Idle time before each request (ms). llama-cpp-python answers a request that arrives right after the previous one
 * faster than one that finds it idle (measured here: first token 19.1 ms p50 back to back, 20.7 after 2 ms idle, 22.5
 * after 30 ms), so back to back (0) the direct path, which reaches the engine ~1.5 ms sooner after the previous
 * answer than a path through fleetchat, gets a warmer engine: that is counted against fleetchat. With a pause every
 * path finds the engine equally idle, as a single request does.
 */
const GAP_MS = Number(process.env.BENCH_GAP_MS ?? 30);
/** Seed of each round's random path order. */
const SEED = Number(process.env.BENCH_SEED ?? 1);
/** Another checkout of fleetchat (e.g. an older commit): its adapter and gateway run beside this tree's, same requests. */
const BASELINE = process.env.BENCH_BASELINE;
/** 1: the baseline runs compiled (`dist/src/cli/main.js` of BENCH_BASELINE, as the container image does), not from source. */
const BASELINE_BUILT = process.env.BENCH_BASELINE_BUILT === '1';
/** A directory: the gateway and the adapter worker write V8 CPU profiles there (`--cpu-prof`) when they exit. */
const PROFILE = process.env.BENCH_PROFILE;
/** Rounds of the bare-hop floor (bench/adapter/floor.ts) measured after the paths; 0 skips it. */
const FLOOR_ROUNDS = Number(process.env.BENCH_FLOOR_ROUNDS ?? 100);
/** 0 skips the `fleetchat up` path (gateway, controller and adapter worker in one process). */
const UP = process.env.BENCH_UP !== '0';
const MESSAGES = [{ role: 'user', content: 'Write a long story about a lighthouse keeper.' }];
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

interface Sample {
  ttftMs: number;
  /** The request id (the completion's `id`), wall-clock ms when sent and when the first token was read. */
  id: string;
  sentAt: number;
  firstAt: number;
  /** When the response headers arrived (HTTP paths). */
  headersAt?: number;
  /** Content deltas (one token each on llama.cpp) and the whole request's time. */
  tokens: number;
  totalMs: number;
}

/** One streaming chat completion over node:http (keep-alive): time to the first content delta, deltas, decode time. */
function streamOnce(url: string, model: string): Promise<Sample> {
  const body = JSON.stringify({ model, messages: MESSAGES, max_tokens: TOKENS, temperature: 0, logit_bias: { 0: -100, 2: -100 }, stream: true });
  const started = clockMs();
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/chat/completions`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const headersAt = clockMs();
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`${url}: HTTP ${res.statusCode}`));
        return;
      }
      let first = -1;
      let id = '';
      let tokens = 0;
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        buffer += text;
        let i: number;
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, i).replace(/\r/g, '');
          buffer = buffer.slice(i + 2);
          if (!event.startsWith('data: {')) continue;
          const chunk = JSON.parse(event.slice(6)) as { id?: string; choices?: Array<{ delta?: { content?: string } }> };
          if (chunk.choices?.some((c) => (c.delta?.content ?? '') !== '')) {
            if (first < 0) first = clockMs();
            id ||= chunk.id ?? '';
            tokens += 1;
          }
        }
      });
      res.on('end', () => resolve({ ttftMs: first - started, id, sentAt: started, firstAt: first, headersAt, tokens, totalMs: clockMs() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function summary(name: string, samples: Sample[]): Record<string, string | number> {
  const tokens = samples.reduce((n, s) => n + s.tokens, 0);
  const seconds = samples.reduce((n, s) => n + s.totalMs, 0) / 1000;
  return {
    path: name,
    ttft_p50_ms: round(percentile(samples.map((s) => s.ttftMs), 50), 2),
    ttft_p90_ms: round(percentile(samples.map((s) => s.ttftMs), 90), 2),
    ttft_p99_ms: round(percentile(samples.map((s) => s.ttftMs), 99), 2),
    tok_s: round(tokens / seconds, 1),
    tokens,
  };
}

/** One fleetchat front end (adapter worker + gateway) started from a source tree, with its request paths. */
interface FrontEnd {
  label: string;
  gateway: string;
  model: string;
  grpcOnce(): Promise<Sample>;
  close(): void;
}

async function main(): Promise<void> {
  const gguf = fetchSmolLM2Gguf();
  if (!gguf) throw new Error('SmolLM2 GGUF not available: run npm run fetch:smollm2');
  // Pinned: this process first (every fleetchat process it starts inherits the set), then the engine to its own.
  if (ENGINE_CPUS) pinProcess(process.pid, ENGINE_CPUS.rest);
  const engine = await startLlamaServer({ gguf, alias: 'smollm2', threads: THREADS });
  if (ENGINE_CPUS && engine.process.pid !== undefined) pinProcess(engine.process.pid, ENGINE_CPUS.engine);
  const children: ChildProcess[] = [];
  const hops = new HopLog();
  const loadBefore = loadavg();
  const upDir = mkdtempSync(join(tmpdir(), 'bench-adapter-up-'));
  const start = async (args: string[], ready: RegExp, traced = false, root?: string): Promise<RegExpMatchArray> => {
    const logArgs = [...args, '--log-level', traced && HOPS ? 'debug' : 'info'];
    const child = root
      ? spawn(process.execPath, [...(BASELINE_BUILT ? [join(root, 'dist/src/cli/main.js')] : ['-r', '@swc-node/register', join(root, 'src/cli/main.ts')]), ...logArgs], { cwd: root, env: { ...process.env, FLEETCHAT_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawnCli(logArgs, {}, traced && PROFILE ? ['--cpu-prof', '--cpu-prof-dir', PROFILE, '--cpu-prof-interval', '100'] : []);
    children.push(child);
    if (traced && HOPS) hops.attach(child);
    return waitForOutput(child, ready, 120_000);
  };
  try {
    const controller = (await start(['controller', '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0'], /"address":"(127\.0\.0\.1:\d+)"/))[1];
    let grpcIds = 0;
    // An adapter worker and a gateway from `root` (default: this tree), the worker serving `model`.
    const frontEnd = async (label: string, model: string, root?: string): Promise<FrontEnd> => {
      const worker = (await start(['worker', '--engine', 'openai', '--upstream', engine.url, '--upstream-api', 'llamacpp', '--model-names', model, '--controller', controller, '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0'], /"address":"(127\.0\.0\.1:\d+)"[^\n]*"msg":"worker ready"/, !root, root))[1];
      const gateway = (await start(['gateway', '--controller', controller, '--listen', '127.0.0.1:0', '--db', ':memory:'], /"url":"(http:\/\/127\.0\.0\.1:\d+)"/, !root, root))[1];
      const grpc = createClient(WorkerClient, worker);
      const chat = { model, chat: { messages: MESSAGES.map((m) => ({ ...m, name: '', toolCallId: '', toolCallsJson: '' })), addGenerationPrompt: true, toolsJson: '', convTemplate: '' }, params: { maxTokens: TOKENS, temperature: 0, logitBias: { 0: -100, 2: -100 } } };
      // One streamed Generate straight to the adapter worker: time to the first text, text chunks (one per token).
      const grpcOnce = (): Promise<Sample> => new Promise((resolve, reject) => {
        const id = `bench-grpc-${++grpcIds}`;
        const started = clockMs();
        let first = -1;
        let tokens = 0;
        const call = grpc.generate(GenerateRequest.fromPartial({ ...chat, requestId: id }), { deadline: deadlineIn(600_000) });
        call.on('data', (c: GenerateResponse) => {
          if (c.text === '') return;
          if (first < 0) first = clockMs();
          tokens += 1;
        });
        call.on('error', reject);
        call.on('end', () => resolve({ ttftMs: first - started, id, sentAt: started, firstAt: first, tokens, totalMs: clockMs() - started }));
      });
      return { label, gateway, model, grpcOnce, close: () => grpc.close() };
    };
    const fronts = [await frontEnd('', 'bench')];
    if (BASELINE) fronts.push(await frontEnd(' [baseline]', 'bench-baseline', BASELINE));
    // `fleetchat up --engine openai`: controller, adapter worker and gateway in one process (the issue's local form).
    // Twice: the gateway calling the adapter in-process (the default) and over its gRPC port (--no-in-process).
    const startUp = async (name: string, extra: string[], root?: string): Promise<string> => (await start(['up', '--engine', 'openai', '--upstream', engine.url, '--upstream-api', 'llamacpp', '--upstream-names', name, '--port', '0', '--grpc-port', '-1', '--cache-dir', join(upDir, name), ...extra], /fleetchat is up: (http:\/\/127\.0\.0\.1:\d+)/, !root, root))[1];
    const up = UP ? { inProcess: await startUp('bench-up', []), grpc: await startUp('bench-up-grpc', ['--no-in-process']) } : undefined;
    // The baseline's `fleetchat up` (in-process) too: before / after for the single-process form in the same run.
    const baselineUp = UP && BASELINE ? await startUp('bench-up-baseline', [], BASELINE) : undefined;
    await new Promise((r) => setTimeout(r, 1000));
    // Every path: the direct one first, then per front end through the gateway and over gRPC to the adapter.
    const paths: Array<{ name: string; once: () => Promise<Sample>; samples: Sample[] }> = [{ name: 'llama.cpp server (direct)', once: () => streamOnce(engine.url, 'smollm2'), samples: [] }];
    for (const f of fronts) {
      paths.push({ name: `gateway -> adapter -> llama.cpp${f.label}`, once: () => streamOnce(f.gateway, f.model), samples: [] });
      paths.push({ name: `gRPC -> adapter -> llama.cpp${f.label}`, once: f.grpcOnce, samples: [] });
    }
    if (up) {
      paths.push({ name: 'fleetchat up (one process) -> llama.cpp', once: () => streamOnce(up.inProcess, 'bench-up'), samples: [] });
      paths.push({ name: 'fleetchat up --no-in-process -> llama.cpp', once: () => streamOnce(up.grpc, 'bench-up-grpc'), samples: [] });
    }
    if (baselineUp) paths.push({ name: 'fleetchat up (one process) -> llama.cpp [baseline]', once: () => streamOnce(baselineUp, 'bench-up-baseline'), samples: [] });
    // Warm every path (llama.cpp keeps the prompt's KV from the previous request: every path gets the same reuse).
    const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, GAP_MS));
    for (let i = 0; i < WARMUP; i++) {
      for (const p of paths) {
        await pause();
        await p.once();
      }
    }
    // Each round sends one request per path in a fresh random order (seeded: BENCH_SEED), so no path always follows
    // the same one: what the engine still does after the previous request (llama-cpp-python ends its responses late)
    // falls on every path alike. (Rotating the order by one per round, as before, left each path behind the same
    // predecessor in all but one round out of paths.length.)
    const random = seededRandom(SEED);
    for (let i = 0; i < REQUESTS; i++) {
      for (const k of shuffledIndexes(paths.length, random)) {
        await pause();
        paths[k].samples.push(await paths[k].once());
      }
    }
    for (const f of fronts) f.close();
    const floor = FLOOR_ROUNDS > 0 ? await measureHopFloor(FLOOR_ROUNDS) : undefined;
    const direct = paths[0].samples;
    const viaFleetchat = paths[1].samples;
    const viaAdapter = paths[2].samples;
    const rows = paths.map((p) => summary(p.name, p.samples));
    const [a, b, c] = rows;
    const paired = (xs: Sample[]): number => round(percentile(xs.map((s, i) => s.ttftMs - direct[i].ttftMs), 50), 2);
    const loadAfter = loadavg();
    console.log(`bench:adapter — SmolLM2-135M-Instruct Q4_1 on llama-cpp-python's server (${THREADS} thread${ENGINE_CPUS ? `, pinned to CPU ${ENGINE_CPUS.engine.join(',')}; bench and fleetchat on CPU ${ENGINE_CPUS.rest.join(',')}` : ', not pinned: every process shares every core'}), ${REQUESTS} streaming requests per path x ${TOKENS} tokens, one at a time, paths in random order, ${GAP_MS} ms idle before each; load average ${loadBefore[0].toFixed(2)} before, ${loadAfter[0].toFixed(2)} after`);
    console.table(rows.map((r, i) => ({ ...r, added_p50_ms: i === 0 ? 0 : round(Number(r.ttft_p50_ms) - Number(a.ttft_p50_ms), 2), added_paired_p50_ms: i === 0 ? 0 : paired(paths[i].samples) })));
    if (HOPS) {
      console.log('where the time goes (gateway -> adapter -> llama.cpp), per request:');
      console.table(hopTable(hops, viaFleetchat, false));
      const directSegment = (xs: number[]): string => `p50 ${round(percentile(xs, 50), 3)} ms, p90 ${round(percentile(xs, 90), 3)} ms`;
      console.log(`for comparison, the direct path: request -> headers ${directSegment(direct.map((s) => (s.headersAt ?? s.sentAt) - s.sentAt))}; headers -> first token ${directSegment(direct.map((s) => s.firstAt - (s.headersAt ?? s.sentAt)))}`);
      console.log('where the time goes (gRPC -> adapter -> llama.cpp), per request:');
      console.table(hopTable(hops, viaAdapter, true));
      for (const upPath of paths.filter((p) => p.name.startsWith('fleetchat up') && !p.name.endsWith('[baseline]'))) {
        console.log(`where the time goes (${upPath.name}), per request:`);
        console.table(hopTable(hops, upPath.samples, false));
      }
    }
    if (floor) {
      console.log(`floor: the four deliveries the front end adds, between bare Node.js processes (no fleetchat code), p50: HTTP request in ${floor.httpIn} ms, grpc-js call in ${floor.grpcIn} ms, grpc-js message back ${floor.grpcBack} ms, SSE event back ${floor.sseBack} ms; sum ${floor.total} ms`);
    }
    const added = (xs: Sample[], p: number): number => round(percentile(xs.map((s) => s.ttftMs), p) - percentile(direct.map((s) => s.ttftMs), p), 2);
    const upSamples = paths.find((p) => p.name.startsWith('fleetchat up ('))?.samples;
    const upGrpcSamples = paths.find((p) => p.name.startsWith('fleetchat up --no-in-process'))?.samples;
    const baselineUpSamples = paths.find((p) => p.name === 'fleetchat up (one process) -> llama.cpp [baseline]')?.samples;
    const upFields = upSamples && upGrpcSamples ? {
      ttft_up_ms_p50: round(percentile(upSamples.map((s) => s.ttftMs), 50), 2), ttft_added_up_ms_p50: added(upSamples, 50), ttft_added_up_ms_paired_p50: paired(upSamples),
      ttft_added_up_grpc_ms_p50: added(upGrpcSamples, 50), ttft_added_up_grpc_ms_paired_p50: paired(upGrpcSamples),
      ...(baselineUpSamples ? { baseline_ttft_added_up_ms_p50: added(baselineUpSamples, 50), baseline_ttft_added_up_ms_paired_p50: paired(baselineUpSamples) } : {}),
    } : {};
    const baseline = BASELINE ? {
      baseline_ttft_added_ms_p50: added(paths[3].samples, 50),
      baseline_ttft_added_ms_paired_p50: paired(paths[3].samples),
      baseline_ttft_added_by_adapter_ms_p50: added(paths[4].samples, 50),
      baseline_ttft_added_by_adapter_ms_paired_p50: paired(paths[4].samples),
    } : {};
    console.log(JSON.stringify({
      engine: 'llama-cpp-python 0.3.16 server',
      engine_cpus: ENGINE_CPUS ? ENGINE_CPUS.engine.join(',') : 'any',
      model: 'SmolLM2-135M-Instruct.Q4_1.gguf',
      requests_per_path: REQUESTS,
      tokens_per_request: TOKENS,
      gap_ms: GAP_MS,
      load_avg_1m_before: round(loadBefore[0], 2),
      load_avg_1m_after: round(loadAfter[0], 2),
      ttft_direct_ms_p50: a.ttft_p50_ms,
      ttft_direct_ms_p90: a.ttft_p90_ms,
      ttft_fleetchat_ms_p50: b.ttft_p50_ms,
      ttft_fleetchat_ms_p90: b.ttft_p90_ms,
      ttft_adapter_ms_p50: c.ttft_p50_ms,
      ttft_adapter_ms_p90: c.ttft_p90_ms,
      ttft_added_ms_p50: added(viaFleetchat, 50),
      ttft_added_ms_p90: added(viaFleetchat, 90),
      ttft_added_ms_p99: added(viaFleetchat, 99),
      ttft_added_ms_paired_p50: paired(viaFleetchat),
      ttft_added_by_adapter_ms_p50: added(viaAdapter, 50),
      ttft_added_by_adapter_ms_p90: added(viaAdapter, 90),
      ttft_added_by_adapter_ms_paired_p50: paired(viaAdapter),
      ...baseline,
      ...upFields,
      ...(floor ? { hop_floor_ms_p50: floor.total, ttft_added_above_floor_ms_paired_p50: round(paired(viaFleetchat) - floor.total, 2) } : {}),
      direct_tok_s: a.tok_s,
      fleetchat_tok_s: b.tok_s,
      throughput_ratio: round(Number(b.tok_s) / Number(a.tok_s), 3),
    }));
  } finally {
    await Promise.all(children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    })));
    await engine.kill();
    rmSync(upDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
