/**
 * What the engine's scheduler (scheduler.ts) takes and gives its callers — the worker's service, runtime, loader and
 * metrics: its options and observer hooks, a request and the handle that cancels it, and its status.
 */
import type { ValidSamplingParams } from '../sampling/params';
import type { TokenConstraint } from './constraint';
import type { EngineChunk, TokenInfoSource } from './sequence';

export interface EngineOptions {
  /** Cap on sequences in the running batch (1 = serial, FastChat's behaviour). */
  maxConcurrency: number;
  /** Cap on requests waiting for a slot; beyond it submit() fails with `overloaded`. */
  maxQueue: number;
  /** Prompt tokens prefilled per scheduler step (at least one request is always admitted). */
  maxPrefillTokens: number;
  /**
   * KV-cache memory the running sequences may reserve, in bytes: each reserves (prompt + max new tokens) positions
   * when admitted. A request that alone needs more is refused at submit; others wait for memory to free.
   */
  maxKvBytes: number;
  /** Memory for the KV of finished sequences kept for prefix reuse, in bytes (0 = off; host-memory caches only). */
  prefixCacheBytes?: number;
  contextLength: number;
  eosTokenIds: number[];
  vocab: number;
  tokenizer: TokenInfoSource;
  observer?: EngineObserver;
  /** A fused graph's greedy rows decode in runs of passes chained in the session thread (fused-decode.ts); default on. */
  greedyRuns?: boolean;
}

/** Hooks for metrics. */
export interface EngineObserver {
  onFirstToken?(seconds: number): void;
  onInterToken?(seconds: number): void;
  onTokens?(count: number): void;
  onStep?(batch: number, seconds: number): void;
  /** Prompt tokens a prefill pass computed (padding excluded). */
  onPrefillTokens?(count: number): void;
}

export interface EngineRequest {
  promptIds: number[];
  promptText?: string;
  params: ValidSamplingParams;
  /** Grammar-constrained decoding (structured outputs, tool calls). */
  constraint?: TokenConstraint;
  onChunk: (chunk: EngineChunk) => void;
}

export interface SequenceHandle {
  id: number;
  /** Stops the sequence; its slot is freed before the next step. */
  cancel(): void;
}

export interface EngineStatus {
  queueLength: number;
  running: number;
  maxConcurrency: number;
  speed: number;
  generatedTokens: number;
  draining: boolean;
}
