/**
 * `fleetchat worker --api-endpoint-file FILE`: one adapter worker per entry of a FastChat api_endpoint_file, each
 * with its own gRPC and metrics port (the given ports, then the next ones; port 0 stays ephemeral) and its own
 * registration, so hosted models appear to the controller, the gateway, the arena and the judge like any worker.
 */
import type { Logger } from '../common/log';
import { ANONY_ONLY_LABEL } from '../common/worker-labels';
import { readEndpointFile, type EndpointEntry } from './adapter/endpoint-file';
import { startWorker, type RunningWorker, type WorkerConfig, type WorkerDeps } from './main';

/** host:port with the port moved by `offset` (0 stays 0). */
export function offsetAddress(address: string, offset: number): string {
  const i = address.lastIndexOf(':');
  const port = Number(address.slice(i + 1));
  return port === 0 ? address : `${address.slice(0, i)}:${port + offset}`;
}


export function entryConfig(config: WorkerConfig, entry: EndpointEntry, index: number): WorkerConfig {
  return {
    ...config,
    engine: 'openai',
    upstream: entry.apiBase,
    upstreamModel: entry.modelName,
    upstreamApi: entry.api,
    apiKeyEnv: '',
    apiEndpointFile: '',
    modelNames: [entry.name],
    listen: offsetAddress(config.listen, index),
    metricsListen: offsetAddress(config.metricsListen, index),
    advertiseAddress: config.advertiseAddress ? offsetAddress(config.advertiseAddress, index) : '',
    workerId: config.workerId ? `${config.workerId}-${index}` : '',
    // Hosted APIs: a health probe lists models, so poll less often than a local engine.
    upstreamPoll: Math.max(config.upstreamPoll, 30_000),
  };
}

export async function startEndpointWorkers(config: WorkerConfig, logger: Logger, deps: WorkerDeps = {}): Promise<RunningWorker[]> {
  const entries = readEndpointFile(config.apiEndpointFile);
  const workers: RunningWorker[] = [];
  try {
    for (const [i, entry] of entries.entries()) {
      const log = logger.child({ endpoint: entry.name });
      workers.push(await startWorker(entryConfig(config, entry, i), log, {
        ...deps,
        upstreamApiKey: entry.apiKey,
        upstreamDefaults: entry.defaults,
        labels: { ...deps.labels, ...(entry.anonyOnly ? { [ANONY_ONLY_LABEL]: 'true' } : {}) },
      }));
    }
  } catch (err) {
    await Promise.all(workers.map((w) => w.stop()));
    throw err;
  }
  return workers;
}
