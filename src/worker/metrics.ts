/** The worker's Prometheus metrics. */
import { Counter, Gauge, Histogram, LATENCY_BUCKETS_S, type Registry } from '../common/metrics';
import { asFleetError } from '../common/errors';
import { FinishReason } from '../common/gen/worker';
import type { SendBuffers } from './chunk-writer';
import type { PrefixCacheStats } from './engine/prefix-cache';
import type { EngineObserver } from './engine/engine-types';

export interface WorkerMetrics extends EngineObserver {
  requestFinished(reason: FinishReason): void;
  requestRejected(err: unknown): void;
  /** An Embed call stopped because its caller cancelled it. */
  embeddingCancelled(): void;
}

/** A counter that follows a cumulative figure read at scrape time. */
function followingCounter(registry: Registry, name: string, help: string, read: () => number | undefined): void {
  let seen = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = read() ?? 0;
      if (now > seen) this.inc(now - seen);
      seen = Math.max(seen, now);
    },
  });
}

export function createWorkerMetrics(
  registry: Registry,
  status: () => { queueLength: number; running: number },
  prefixCache: () => PrefixCacheStats | undefined = () => undefined,
  sendBuffers?: SendBuffers,
): WorkerMetrics {
  new Gauge({ name: 'fleetchat_worker_queue_length', help: 'Requests waiting for a slot', registers: [registry], collect() { this.set(status().queueLength); } });
  new Gauge({ name: 'fleetchat_worker_running_sequences', help: 'Sequences in the running batch', registers: [registry], collect() { this.set(status().running); } });
  followingCounter(registry, 'fleetchat_worker_prefix_cache_hits_total', 'Prompts that started from a cached prefix (prefix reuse)', () => prefixCache()?.hits);
  followingCounter(registry, 'fleetchat_worker_prefix_cache_misses_total', 'Prompts looked up in the prefix cache without a hit', () => prefixCache()?.misses);
  followingCounter(registry, 'fleetchat_worker_prefix_cache_reused_tokens_total', 'Prompt tokens taken from the prefix cache instead of prefilled', () => prefixCache()?.reusedTokens);
  new Gauge({ name: 'fleetchat_worker_prefix_cache_bytes', help: 'Memory held by the prefix cache', registers: [registry], collect() { this.set(prefixCache()?.bytes ?? 0); } });
  new Gauge({ name: 'fleetchat_worker_generate_streams', help: 'Generate calls open', registers: [registry], collect() { this.set(sendBuffers?.streams ?? 0); } });
  new Gauge({ name: 'fleetchat_worker_send_buffer_bytes', help: 'Encoded output merged and held for Generate callers that are not reading (each stream at most --max-send-buffer-bytes)', registers: [registry], collect() { this.set(sendBuffers?.pendingBytes ?? 0); } });
  followingCounter(registry, 'fleetchat_worker_streams_cut_off_total', 'Generate streams failed with RESOURCE_EXHAUSTED because their caller fell more than --max-send-buffer-bytes behind', () => sendBuffers?.cutOff);
  const tokens = new Counter({ name: 'fleetchat_worker_generated_tokens_total', help: 'Tokens generated', registers: [registry] });
  const ttft = new Histogram({ name: 'fleetchat_worker_time_to_first_token_seconds', help: 'Time from queueing to the first token', buckets: LATENCY_BUCKETS_S, registers: [registry] });
  const itl = new Histogram({ name: 'fleetchat_worker_inter_token_seconds', help: 'Time between consecutive tokens of a sequence', buckets: LATENCY_BUCKETS_S, registers: [registry] });
  const step = new Histogram({ name: 'fleetchat_worker_step_seconds', help: 'Duration of one forward pass', buckets: LATENCY_BUCKETS_S, registers: [registry] });
  const batch = new Histogram({ name: 'fleetchat_worker_batch_size', help: 'Sequences per forward pass', buckets: [1, 2, 4, 8, 16, 32, 64], registers: [registry] });
  const finished = new Counter({ name: 'fleetchat_worker_requests_total', help: 'Finished requests by finish reason', labelNames: ['finish_reason'], registers: [registry] });
  const rejected = new Counter({ name: 'fleetchat_worker_rejected_requests_total', help: 'Requests rejected before generation, by error kind', labelNames: ['kind'], registers: [registry] });
  const embedCancelled = new Counter({ name: 'fleetchat_worker_embeddings_cancelled_total', help: 'Embed calls stopped (queued or between batches) because their caller cancelled', registers: [registry] });
  const prefillTokens = new Counter({ name: 'fleetchat_worker_prefill_tokens_total', help: 'Prompt tokens run through prefill forward passes (cached prefixes and choices sharing a prompt are not counted)', registers: [registry] });
  const reasonLabel = (r: FinishReason): string => FinishReason[r].replace('FINISH_REASON_', '').toLowerCase();
  return {
    onTokens: (n) => tokens.inc(n),
    onFirstToken: (s) => ttft.observe(s),
    onInterToken: (s) => itl.observe(s),
    onStep: (b, s) => {
      step.observe(s);
      batch.observe(b);
    },
    requestFinished: (r) => finished.inc({ finish_reason: reasonLabel(r) }),
    requestRejected: (err) => rejected.inc({ kind: asFleetError(err).kind }),
    embeddingCancelled: () => embedCancelled.inc(),
    onPrefillTokens: (n) => prefillTokens.inc(n),
  };
}
