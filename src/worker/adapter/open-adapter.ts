/**
 * Opens an external engine as a worker runtime: finds the upstream's model (and its dialect and context length
 * from /v1/models when not given), starts the health/metrics monitor and builds the runtime.
 */
import type { EngineObserver } from '../engine/engine-types';
import { FleetError } from '../../common/errors';
import { ModelKind, ModelInfo, type SamplingParams } from '../../common/gen/worker';
import type { Logger } from '../../common/log';
import type { ExternalRuntime } from '../runtime';
import { createAdapterRuntime } from './adapter-runtime';
import { DIALECTS, dialectFromOwner, type UpstreamApi } from './dialects';
import { UpstreamMonitor } from './monitor';
import type { AdapterConfig } from './options';
import { Upstream, type UpstreamModel } from './upstream';

export interface OpenAdapterOptions {
  config: AdapterConfig;
  /** Names served under (default: the upstream model name). */
  modelNames: string[];
  maxConcurrency: number;
  maxQueue: number;
  /** The API key (resolved from --api-key-env or an endpoint file's entry); never logged. */
  apiKey?: string;
  logger: Logger;
  defaults?: Partial<SamplingParams>;
  observer?: Pick<EngineObserver, 'onTokens' | 'onFirstToken'>;
  onHealthChange?: (healthy: boolean) => void;
}

/** The API key named by --api-key-env; a named but empty variable is a configuration error. */
export function apiKeyFromEnv(varName: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!varName) return undefined;
  const key = env[varName];
  if (!key) throw new FleetError('invalid_request', `--api-key-env: environment variable ${varName} is not set`, { param: 'api_key_env' });
  return key;
}

async function waitForModels(upstream: Upstream, waitMs: number, logger: Logger): Promise<UpstreamModel[]> {
  const until = Date.now() + waitMs;
  let logged = false;
  for (;;) {
    try {
      return await upstream.models(5000);
    } catch (err) {
      if (Date.now() >= until) throw new FleetError('unavailable', `upstream ${upstream.label} did not list its models within ${Math.round(waitMs / 1000)} s: ${(err as Error).message}`);
      if (!logged) logger.info({ upstream: upstream.label }, 'waiting for the upstream to list its models');
      logged = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

export async function openAdapter(options: OpenAdapterOptions): Promise<ExternalRuntime> {
  const { config, logger } = options;
  if (!config.upstream) throw new FleetError('invalid_request', '--engine openai needs --upstream URL', { param: 'upstream' });
  let upstream: Upstream;
  try {
    upstream = new Upstream({ url: config.upstream, apiKey: options.apiKey, timeoutMs: config.upstreamTimeout });
  } catch (err) {
    throw new FleetError('invalid_request', `--upstream: ${(err as Error).message}`, { param: 'upstream' });
  }
  // Discovery is needed only for what was not given; the operator passes everything, so a pod's adapter starts at
  // once (not ready) while its engine is still loading.
  const mustDiscover = !config.upstreamModel || config.upstreamApi === 'auto';
  const models = mustDiscover ? await waitForModels(upstream, config.upstreamWait, logger) : [];
  const entry = config.upstreamModel ? models.find((m) => m.id === config.upstreamModel) : models[0];
  if (mustDiscover && !entry) {
    throw new FleetError('not_found', `upstream ${upstream.label} does not serve '${config.upstreamModel}' (it serves: ${models.map((m) => m.id).join(', ') || 'nothing'})`, { param: 'upstream_model' });
  }
  const upstreamModel = config.upstreamModel || (entry as UpstreamModel).id;
  const api: UpstreamApi = config.upstreamApi === 'auto' ? dialectFromOwner(entry?.owned_by) : config.upstreamApi;
  const dialect = DIALECTS[api];
  const info = ModelInfo.fromPartial({
    modelNames: options.modelNames.length > 0 ? options.modelNames : [upstreamModel],
    kind: ModelKind.MODEL_KIND_GENERATION,
    contextLength: config.contextLength || entry?.max_model_len || 0,
    convTemplate: 'upstream',
    source: upstream.label,
    executionProvider: `external:${api}`,
    device: upstream.label,
  });
  const monitor = new UpstreamMonitor({ upstream, dialect, intervalMs: config.upstreamPoll, logger, onChange: options.onHealthChange });
  await monitor.start();
  logger.info({ upstream: upstream.label, upstreamModel, api, models: info.modelNames, contextLength: info.contextLength || 'unknown', healthy: monitor.healthy() }, 'external engine adapter ready');
  return createAdapterRuntime({ upstream, monitor, dialect, upstreamModel, info, maxConcurrency: options.maxConcurrency, maxQueue: options.maxQueue, logger, defaults: options.defaults, observer: options.observer });
}
