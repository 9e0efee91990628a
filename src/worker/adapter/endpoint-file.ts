/**
 * FastChat's `api_endpoint_file` (JSON): `{"<served name>": {"model_name", "api_base", "api_type", "api_key",
 * "anony_only", "recommended_config", ...}}`, one hosted model per entry. Keys never need to be in the file:
 * `"api_key": "$VAR"` (or `"${VAR}"`) and `"api_key_env": "VAR"` read the environment, where a Kubernetes Secret
 * is mounted (`envFrom` / `secretKeyRef`). A literal key still works (FastChat's files have them) but is never logged.
 */
import { readFileSync } from 'node:fs';
import { FleetError } from '../../common/errors';
import type { SamplingParams } from '../../common/gen/worker';
import type { UpstreamApi } from './dialects';

/** FastChat api_type values served through the OpenAI-compatible adapter, and the dialect each uses. */
export const SUPPORTED_API_TYPES: Record<string, UpstreamApi> = {
  openai: 'openai', // OpenAI and every provider's OpenAI-compatible endpoint (Together, Groq, DeepSeek, OpenRouter, ...)
  mistral: 'openai', // Mistral's La Plateforme speaks the OpenAI chat API
  nvidia: 'openai', // NVIDIA API catalog (integrate.api.nvidia.com/v1)
  vllm: 'vllm',
  sglang: 'sglang',
  llamacpp: 'llamacpp',
  tgi: 'tgi',
};

export interface EndpointEntry {
  /** Served name (the key of the file). */
  name: string;
  /** Model name sent upstream. */
  modelName: string;
  apiBase: string;
  apiType: string;
  api: UpstreamApi;
  /** Resolved key; undefined when the entry has none. Never log. */
  apiKey?: string;
  anonyOnly: boolean;
  /** recommended_config: defaults for the sampling fields a request leaves unset. */
  defaults: Partial<SamplingParams>;
}

function invalid(message: string): FleetError {
  return new FleetError('invalid_request', `--api-endpoint-file: ${message}`, { param: 'api_endpoint_file' });
}

function str(entry: Record<string, unknown>, key: string, name: string, required: boolean): string | undefined {
  const v = entry[key];
  if (v === undefined || v === null) {
    if (required) throw invalid(`entry '${name}' has no ${key}`);
    return undefined;
  }
  if (typeof v !== 'string') throw invalid(`entry '${name}': ${key} must be a string`);
  return v;
}

function resolveKey(entry: Record<string, unknown>, name: string, env: NodeJS.ProcessEnv): string | undefined {
  const fromVar = (varName: string): string => {
    const value = env[varName];
    if (!value) throw invalid(`entry '${name}': environment variable ${varName} (its API key) is not set`);
    return value;
  };
  const keyEnv = str(entry, 'api_key_env', name, false);
  if (keyEnv) return fromVar(keyEnv);
  const key = str(entry, 'api_key', name, false);
  if (!key) return undefined;
  const ref = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(key);
  return ref ? fromVar(ref[1]) : key;
}

function defaultsOf(entry: Record<string, unknown>): Partial<SamplingParams> {
  const rc = entry.recommended_config;
  if (rc === undefined || rc === null || typeof rc !== 'object') return {};
  const c = rc as Record<string, unknown>;
  const out: Partial<SamplingParams> = {};
  if (typeof c.temperature === 'number') out.temperature = c.temperature;
  if (typeof c.top_p === 'number') out.topP = c.top_p;
  if (typeof c.max_new_tokens === 'number') out.maxTokens = c.max_new_tokens;
  return out;
}

export function parseEndpointFile(text: string, env: NodeJS.ProcessEnv = process.env): EndpointEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw invalid(`not valid JSON: ${(err as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalid('expected a JSON object {"name": {...}, ...}');
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length === 0) throw invalid('has no entries');
  return entries.map(([name, value]) => {
    if (value === null || typeof value !== 'object') throw invalid(`entry '${name}' must be an object`);
    const entry = value as Record<string, unknown>;
    const apiType = str(entry, 'api_type', name, false) ?? 'openai';
    const api = SUPPORTED_API_TYPES[apiType];
    if (api === undefined) throw invalid(`entry '${name}': api_type '${apiType}' is not supported (supported: ${Object.keys(SUPPORTED_API_TYPES).join(', ')})`);
    return {
      name,
      modelName: str(entry, 'model_name', name, false) ?? name,
      apiBase: str(entry, 'api_base', name, true) as string,
      apiType,
      api,
      apiKey: resolveKey(entry, name, env),
      anonyOnly: entry.anony_only === true,
      defaults: defaultsOf(entry),
    };
  });
}

export function readEndpointFile(path: string, env: NodeJS.ProcessEnv = process.env): EndpointEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw invalid(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseEndpointFile(text, env);
}
