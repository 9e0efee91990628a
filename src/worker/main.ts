/** `fleetchat worker`: loads one model and serves `fleetchat.v1.Worker`, registered with the controller. */
import { hostname, homedir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { addressOption, boolOption, durationOption, enumOption, intOption, listOption, stringOption, type ConfigOf } from '../common/config';
import { FleetError } from '../common/errors';
import { WorkerService, type SamplingParams } from '../common/gen/worker';
import { clusterSecurityOptions, loadClusterSecurity } from '../common/grpc/credentials';
import { inProcessGenerate } from '../common/grpc/in-process';
import { startGrpcServer, type RunningGrpcServer } from '../common/grpc/server';
import type { Logger } from '../common/log';
import { createRegistry, type Registry } from '../common/metrics';
import { requestLimitOptions, requestLimitsOf } from '../common/request-limits';
import { startOpsServer, type RunningOpsServer } from '../common/ops-server';
import { WEIGHT_VARIANTS } from './loader/files';
import { loadRuntime } from './loader/load-runtime';
import { DEFAULT_SOURCE, resolveModelSource, type DefaultModelResolver, type ModelChoice } from './loader/source';
import { DEFAULT_MAX_SEND_BUFFER_BYTES, SendBuffers } from './chunk-writer';
import { createWorkerMetrics } from './metrics';
import { startRegistration, type Registration } from './register';
import type { ModelRuntime } from './runtime';
import { createWorkerService, generateHandler, workerStatus } from './service';
import { DEVICE_CHOICES, parseDevice } from './device/device-spec';
import { applyTf32Policy, describeDevice, resolveDevice } from './device/execution-provider';
import { registerGpuMetrics } from './device/gpu-metrics';
import { adapterOptions } from './adapter/options';
import { apiKeyFromEnv, openAdapter } from './adapter/open-adapter';
import type { WorkerMetrics } from './metrics';

export const workerOptions = {
  model: stringOption({ flag: '--model', description: 'model directory, hf:ORG/NAME[@REV], or "default" for the embedded model', default: DEFAULT_SOURCE }),
  modelNames: listOption({ flag: '--model-names', description: 'names the model is served under (default: the directory name)', default: [] }),
  controller: stringOption({ flag: '--controller', description: 'controller gRPC address; empty = standalone (no registration)', default: '127.0.0.1:21001' }),
  listen: addressOption({ flag: '--listen', description: 'gRPC listen address', default: '0.0.0.0:21011' }),
  advertiseAddress: stringOption({ flag: '--advertise-address', description: 'host:port the controller gives to gateways (default: derived from --listen)', default: '' }),
  metricsListen: addressOption({ flag: '--metrics-listen', description: 'HTTP address for /metrics, /healthz, /readyz', default: '0.0.0.0:21012' }),
  maxConcurrency: intOption({ flag: '--max-concurrency', description: 'sequences in the running batch (1 = serial like FastChat)', default: 16, min: 1, max: 1024 }),
  maxQueue: intOption({ flag: '--max-queue', description: 'requests waiting for a slot before RESOURCE_EXHAUSTED', default: 256, min: 0 }),
  maxPrefillTokens: intOption({ flag: '--max-prefill-tokens', description: 'prompt tokens admitted per scheduler step', default: 4096, min: 1 }),
  prefixCacheMib: intOption({ flag: '--prefix-cache-mib', description: 'memory for prefix reuse: the KV of finished requests, so a request extending one (the next chat turn) prefills only its new part; 0 = off (host-memory KV caches only)', default: 512, min: 0 }),
  kvCacheMib: intOption({ flag: '--kv-cache-mib', description: 'KV-cache memory the running sequences may reserve (prompt + max_tokens positions each); 0 = half of the machine\'s memory', default: 0, min: 0 }),
  convTemplate: stringOption({ flag: '--conv-template', description: 'FastChat template name or "jinja" (default: chosen from the model)', default: '' }),
  toolParser: stringOption({ flag: '--tool-parser', description: 'tool-call format the model writes: hermes, llama3_json, mistral or smollm2 (default: chosen from the chat template and model name)', default: '' }),
  threads: intOption({ flag: '--threads', description: 'onnxruntime intra-op threads', default: availableParallelism(), min: 1 }),
  device: stringOption({ flag: '--device', placeholder: `<${DEVICE_CHOICES}>`, description: 'where the model runs: auto = CUDA when a GPU and the GPU runtime are present, else the CPU', default: 'cpu' }),
  allowTf32: boolOption({ flag: '--allow-tf32', description: 'let CUDA use TF32 matrix math (faster fp32, but greedy tokens may differ from the CPU)', default: false }),
  cudaGraph: boolOption({ flag: '--cuda-graph', description: 'fused graphs on CUDA: capture each decode batch size (bucketed 1, 2, 4, ... with padding rows) as a CUDA graph and replay it (--no-cuda-graph: launch every kernel each step)', default: true }),
  weights: enumOption({ flag: '--weights', description: 'which ONNX weights to load', default: 'auto', choices: WEIGHT_VARIANTS }),
  cacheDir: stringOption({ flag: '--cache-dir', description: 'model cache (hub downloads, generated models)', default: join(homedir(), '.cache', 'fleetchat') }),
  hfEndpoint: stringOption({ flag: '--hf-endpoint', description: 'Hugging Face hub URL', default: 'https://huggingface.co' }),
  hfToken: stringOption({ flag: '--hf-token', description: 'Hugging Face token for gated/private models', default: '' }),
  heartbeatInterval: durationOption({ flag: '--heartbeat-interval', description: 'heartbeat period (the controller may ask for less)', default: 45_000, defaultLabel: '45s' }),
  drainTimeout: durationOption({ flag: '--drain-timeout', description: 'time in-flight requests get to finish on SIGTERM', default: 30_000, defaultLabel: '30s' }),
  labels: listOption({ flag: '--labels', description: 'labels reported to the controller, k=v,... (e.g. fleetchat.dev/model-worker=ns/name)', default: [] }),
  workerId: stringOption({ flag: '--worker-id', description: 'unique id (default: host-pid-random)', default: '' }),
  logLevel: stringOption({ flag: '--log-level', description: 'log level', default: 'info' }),
  maxSendBufferBytes: intOption({ flag: '--max-send-buffer-bytes', description: 'encoded output a Generate stream may hold for a caller that is not reading; beyond it the stream fails with RESOURCE_EXHAUSTED and its generation is cancelled', default: DEFAULT_MAX_SEND_BUFFER_BYTES, min: 1024 }),
  ...requestLimitOptions,
  ...clusterSecurityOptions,
  ...adapterOptions,
};

export type WorkerConfig = ConfigOf<typeof workerOptions>;

export interface RunningWorker {
  address: string;
  workerId: string;
  runtime: ModelRuntime;
  grpc: RunningGrpcServer;
  ops: RunningOpsServer;
  registration: Registration | undefined;
  /** Graceful stop: deregister, stop taking work, drain in-flight requests, close. */
  stop(): Promise<void>;
}

/** `k=v` pairs into a record; a malformed pair is a configuration error. */
export function parseLabels(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new FleetError('invalid_request', `--labels: expected key=value, got '${pair}'`, { param: 'labels' });
    out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}

function advertised(config: WorkerConfig, boundAddress: string): string {
  if (config.advertiseAddress) return config.advertiseAddress;
  return boundAddress;
}

export interface WorkerDeps {
  /** Resolves `--model default` (supplied by the CLI; without it the worker needs an explicit --model). */
  defaultModel?: DefaultModelResolver;
  /** The upstream API key of an `--engine openai` worker given by an endpoint file (else --api-key-env). */
  upstreamApiKey?: string;
  /** Sampling defaults of an endpoint file's entry (recommended_config). */
  upstreamDefaults?: Partial<SamplingParams>;
  /** Extra labels (an endpoint file's entries add theirs). */
  labels?: Record<string, string>;
  /**
   * Also serve Generate in-process (common/grpc/in-process.ts) at the worker's address, for a gateway in the same
   * process (`fleetchat up`); its gRPC port serves everyone else as before.
   */
  inProcess?: boolean;
}

async function chooseModel(config: WorkerConfig, deps: WorkerDeps, logger: Logger): Promise<ModelChoice | { dir: string; name: undefined; source: string }> {
  if (config.model === DEFAULT_SOURCE || config.model === '') {
    if (!deps.defaultModel) throw new FleetError('invalid_request', 'no model given: pass --model DIR|hf:ORG/NAME', { param: 'model' });
    return deps.defaultModel();
  }
  const dir = await resolveModelSource(config.model, { cacheDir: config.cacheDir, hfEndpoint: config.hfEndpoint, hfToken: config.hfToken || undefined, weights: config.weights, logger });
  return { dir, name: undefined, source: config.model };
}

async function loadOnnxRuntime(config: WorkerConfig, deps: WorkerDeps, logger: Logger, metrics: WorkerMetrics, registry: Registry): Promise<ModelRuntime> {
  const resolved = resolveDevice(parseDevice(config.device), { allowTf32: config.allowTf32, logger });
  const device = config.cudaGraph && resolved.kind === 'cuda' ? { ...resolved, cudaGraph: true } : resolved;
  applyTf32Policy(device);
  logger.info({ device: describeDevice(device), executionProvider: device.kind, gpu: device.gpuName || undefined, gpuMemoryBytes: device.gpuMemoryBytes || undefined, tf32: device.kind === 'cuda' ? device.allowTf32 : undefined }, 'execution provider selected');
  registerGpuMetrics(registry, device);
  const chosen = await chooseModel(config, deps, logger);
  return loadRuntime({
    dir: chosen.dir,
    source: chosen.source,
    modelNames: config.modelNames.length > 0 ? config.modelNames : chosen.name !== undefined ? [chosen.name] : [],
    convTemplate: config.convTemplate || undefined,
    toolParser: config.toolParser || undefined,
    threads: config.threads,
    device,
    weights: config.weights,
    maxConcurrency: config.maxConcurrency,
    maxQueue: config.maxQueue,
    maxPrefillTokens: config.maxPrefillTokens,
    maxKvBytes: config.kvCacheMib > 0 ? config.kvCacheMib * (1 << 20) : undefined,
    prefixCacheBytes: config.prefixCacheMib * (1 << 20),
    observer: metrics,
    logger,
  });
}

export async function startWorker(config: WorkerConfig, logger: Logger, deps: WorkerDeps = {}): Promise<RunningWorker> {
  const labels = { ...parseLabels(config.labels), ...deps.labels };
  const security = loadClusterSecurity(config);
  const registry = createRegistry();
  const loaded: { runtime?: ModelRuntime } = {};
  const sendBuffers = new SendBuffers();
  const metrics = createWorkerMetrics(
    registry,
    () => (loaded.runtime ? workerStatus(loaded.runtime) : { queueLength: 0, running: 0 }),
    () => (loaded.runtime?.kind === 'generation' ? loaded.runtime.engine.prefixCacheStats() : undefined),
    sendBuffers,
  );
  // An external engine's health changes reach the controller at once (set once registration exists).
  const healthChanged = { notify: (_healthy: boolean): void => undefined };
  const runtime = config.engine === 'onnx'
    ? await loadOnnxRuntime(config, deps, logger, metrics, registry)
    : await openAdapter({
        config,
        modelNames: config.modelNames,
        maxConcurrency: config.maxConcurrency,
        maxQueue: config.maxQueue,
        apiKey: deps.upstreamApiKey ?? apiKeyFromEnv(config.apiKeyEnv),
        logger,
        defaults: deps.upstreamDefaults,
        observer: metrics,
        onHealthChange: (healthy) => healthChanged.notify(healthy),
      });
  loaded.runtime = runtime;
  const serviceOptions = { runtime, logger, metrics, limits: requestLimitsOf(config), maxSendBufferBytes: config.maxSendBufferBytes, sendBuffers };
  const service = createWorkerService(serviceOptions);
  const grpc = await startGrpcServer({ address: config.listen, services: [{ name: 'fleetchat.v1.Worker', definition: WorkerService, implementation: service }], logger, security });
  let draining = false;
  const ops = await startOpsServer({ address: config.metricsListen, registry, ready: () => !draining && (runtime.kind !== 'external' || runtime.healthy()) });
  const workerId = config.workerId || `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const address = advertised(config, grpc.address);
  const inProcess = deps.inProcess ? inProcessGenerate.serve(address, generateHandler(serviceOptions)) : undefined;
  const registration = config.controller
    ? startRegistration({
        controllerAddress: config.controller,
        info: () => ({ workerId, address, modelNames: runtime.info.modelNames, kind: runtime.info.kind, contextLength: runtime.info.contextLength, status: undefined, lastHeartbeatUnixMs: 0, labels }),
        status: () => workerStatus(runtime),
        logger,
        heartbeatIntervalMs: config.heartbeatInterval,
        security: security.client('controller'),
      })
    : undefined;
  healthChanged.notify = () => void registration?.beat().catch(() => undefined);
  logger.info({ workerId, address, metrics: ops.url, models: runtime.info.modelNames, controller: config.controller || 'none' }, 'worker ready');
  return {
    address,
    workerId,
    runtime,
    grpc,
    ops,
    registration,
    stop: async () => {
      draining = true;
      await registration?.stop({ deregister: true });
      const drained = runtime.kind === 'generation' ? runtime.engine.drain() : runtime.drain();
      const timedOut = await Promise.race([drained.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), config.drainTimeout).unref())]);
      if (timedOut && runtime.kind !== 'embedding') {
        logger.warn({ drainTimeoutMs: config.drainTimeout }, 'drain timed out; cancelling remaining requests');
        if (runtime.kind === 'generation') runtime.engine.abortAll();
        else runtime.abortAll();
      }
      await Promise.all([inProcess?.close(2000), grpc.shutdown(2000)]);
      await ops.close();
      await runtime.release();
    },
  };
}
