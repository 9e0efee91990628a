/** `fleetchat worker` flags of the external-engine adapter (`--engine openai`). */
import { durationOption, enumOption, intOption, stringOption, type ConfigOf } from '../../common/config';
import { UPSTREAM_APIS } from './dialects';

export const ENGINES = ['onnx', 'openai'] as const;
export type EngineChoice = (typeof ENGINES)[number];

export const adapterOptions = {
  engine: enumOption({ flag: '--engine', description: 'onnx = fleetchat\'s own engine; openai = relay to an OpenAI-compatible server at --upstream (vLLM, SGLang, TGI, llama.cpp, Ollama, a hosted API)', default: 'onnx', choices: ENGINES }),
  upstream: stringOption({ flag: '--upstream', description: 'URL of the OpenAI-compatible server (--engine openai), e.g. http://127.0.0.1:8080 (a bare root gets /v1)', default: '' }),
  upstreamModel: stringOption({ flag: '--upstream-model', description: 'model name sent upstream (default: the first model of the upstream\'s /v1/models)', default: '' }),
  upstreamApi: enumOption({ flag: '--upstream-api', description: 'which extra sampling fields, /metrics gauges and tokenize endpoint the upstream has (auto: from /v1/models owned_by)', default: 'auto', choices: UPSTREAM_APIS }),
  apiKeyEnv: stringOption({ flag: '--api-key-env', description: 'environment variable holding the upstream\'s API key (sent as a Bearer token, never logged)', default: '' }),
  apiEndpointFile: stringOption({ flag: '--api-endpoint-file', description: 'FastChat api_endpoint_file (JSON): one adapter worker per entry (hosted models)', default: '' }),
  contextLength: intOption({ flag: '--context-length', description: 'context length to report for an external engine (0 = the upstream\'s max_model_len when it says, else unknown)', default: 0, min: 0 }),
  upstreamTimeout: durationOption({ flag: '--upstream-timeout', description: 'longest one upstream generation may take', default: 600_000, defaultLabel: '10m' }),
  upstreamPoll: durationOption({ flag: '--upstream-poll', description: 'period of the upstream health and queue-metrics probes', default: 2_000, defaultLabel: '2s' }),
  upstreamWait: durationOption({ flag: '--upstream-wait', description: 'how long to wait at start for the upstream to list its models (when names must be discovered)', default: 600_000, defaultLabel: '10m' }),
};

export type AdapterConfig = ConfigOf<typeof adapterOptions>;
