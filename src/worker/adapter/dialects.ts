/**
 * What each kind of OpenAI-compatible upstream can honour. The strict OpenAI API has the common sampling fields;
 * vLLM, SGLang and llama.cpp's servers take extra fields in the same JSON body (under their own names). A field the
 * request sets that the upstream cannot honour is refused by name, never silently dropped.
 */
export const UPSTREAM_APIS = ['auto', 'openai', 'vllm', 'sglang', 'llamacpp', 'tgi'] as const;
export type UpstreamApiChoice = (typeof UPSTREAM_APIS)[number];
export type UpstreamApi = Exclude<UpstreamApiChoice, 'auto'>;

/** fleetchat sampling fields (wire names) beyond the strict OpenAI set. */
export type ExtraField =
  | 'top_k'
  | 'min_p'
  | 'repetition_penalty'
  | 'ignore_eos'
  | 'stop_token_ids'
  | 'include_stop_str_in_output'
  | 'skip_special_tokens'
  | 'logit_bias';

export interface Dialect {
  api: UpstreamApi;
  /** Extra fields honoured, with the body key the upstream reads them from. */
  extras: Partial<Record<ExtraField, string>>;
  /** Prometheus gauges: requests waiting and running (summed over label sets). */
  queueMetrics: Array<{ waiting: string; running: string }>;
  /** Path (from the server root) answering 200 when the engine is up; undefined = GET {base}/models. */
  healthPath?: string;
  /** POST {root}/tokenize with {model, prompt | messages} answering {count, max_model_len} (vLLM, SGLang). */
  tokenize: 'vllm' | 'llamacpp' | 'none';
}

const SERVER_SIDE = { top_k: 'top_k', min_p: 'min_p', repetition_penalty: 'repetition_penalty', ignore_eos: 'ignore_eos', stop_token_ids: 'stop_token_ids', skip_special_tokens: 'skip_special_tokens', logit_bias: 'logit_bias' } as const;

const QUEUE_METRICS = [
  { waiting: 'vllm:num_requests_waiting', running: 'vllm:num_requests_running' },
  { waiting: 'sglang:num_queue_reqs', running: 'sglang:num_running_reqs' },
  { waiting: 'tgi_queue_size', running: 'tgi_batch_current_size' },
  { waiting: 'llamacpp:requests_deferred', running: 'llamacpp:requests_processing' },
];

export const DIALECTS: Record<UpstreamApi, Dialect> = {
  openai: { api: 'openai', extras: { logit_bias: 'logit_bias' }, queueMetrics: [], tokenize: 'none' },
  vllm: { api: 'vllm', extras: { ...SERVER_SIDE, include_stop_str_in_output: 'include_stop_str_in_output' }, queueMetrics: QUEUE_METRICS, healthPath: '/health', tokenize: 'vllm' },
  sglang: { api: 'sglang', extras: SERVER_SIDE, queueMetrics: QUEUE_METRICS, healthPath: '/health', tokenize: 'vllm' },
  // llama.cpp: both llama-server and llama-cpp-python read top_k, min_p and repeat_penalty.
  llamacpp: { api: 'llamacpp', extras: { top_k: 'top_k', min_p: 'min_p', repetition_penalty: 'repeat_penalty', logit_bias: 'logit_bias' }, queueMetrics: QUEUE_METRICS, tokenize: 'llamacpp' },
  tgi: { api: 'tgi', extras: {}, queueMetrics: QUEUE_METRICS, healthPath: '/health', tokenize: 'none' },
};

/** The dialect named by /v1/models' `owned_by` (vLLM says "vllm", SGLang "sglang", llama-server "llamacpp"). */
export function dialectFromOwner(ownedBy: string | undefined): UpstreamApi {
  switch ((ownedBy ?? '').toLowerCase()) {
    case 'vllm': return 'vllm';
    case 'sglang': return 'sglang';
    case 'llamacpp': return 'llamacpp';
    case 'tgi': case 'text-generation-inference': return 'tgi';
    default: return 'openai';
  }
}
