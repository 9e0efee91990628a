/**
 * What the worker's gRPC service needs from a loaded model, whatever its kind. `model/load.ts` builds these
 * from a model directory; the service only talks to this interface.
 */
import type { ChatInput, CountTokensRequest, CountTokensResponse, GenerateRequest, GenerateResponse, ModelInfo } from '../common/gen/worker';
import type { EngineStatus } from './engine/engine-types';
import type { Scheduler } from './engine/scheduler';
import type { Grammars } from './grammar/grammars';
import type { TokenInfoSource } from './engine/sequence';
import type { SamplingLayer } from './sampling/params';
import type { ToolFormat } from './tools/formats';
import type { RequestTools } from './tools/request-tools';

/** A prompt ready for the engine. */
export interface PreparedPrompt {
  ids: number[];
  text: string;
  /** Stop strings and stop token ids the conversation template adds. */
  stop: string[];
  stopTokenIds: number[];
  /** A chat request's tools (absent: no tools offered; the output is plain text). */
  tools?: RequestTools;
}

export interface PromptBuilder {
  fromChat(chat: ChatInput): PreparedPrompt;
  fromText(prompt: string): PreparedPrompt;
  fromTokenIds(ids: number[]): PreparedPrompt;
}

export interface GenerationRuntime {
  kind: 'generation';
  info: ModelInfo;
  engine: Scheduler;
  prompts: PromptBuilder;
  tokenizer: TokenInfoSource;
  /** Grammar-constrained decoding (absent: constraints are refused). */
  grammars?: Grammars;
  /** The format this model writes tool calls in (see tools/select-format.ts). */
  toolFormat: ToolFormat;
  /** Lowest-precedence sampling layers (worker defaults, generation_config.json, ModelWorker defaults). */
  samplingLayers: SamplingLayer[];
  release(): Promise<void>;
}

export interface EmbeddingResult {
  vectors: Float32Array[];
  promptTokens: number;
}

export interface EmbeddingRuntime {
  kind: 'embedding';
  info: ModelInfo;
  /** `signal`: the caller went away — a queued job is dropped, a running one stops before its next batch. */
  embed(inputs: string[], options: { normalize: boolean; dimensions?: number; signal?: AbortSignal }): Promise<EmbeddingResult>;
  countTokens(text: string): number;
  status(): { queueLength: number; running: number; maxConcurrency: number; speed: number; generatedTokens: number; draining: boolean };
  drain(): Promise<void>;
  release(): Promise<void>;
}

/** What an external engine reports for dispatch: the same figures the in-process scheduler reports. */
export type WorkerLoad = EngineStatus;

/** Where an external engine's generation goes: chunks in order, then exactly one of end or fail. */
export interface ExternalSink {
  /**
   * The engine took the request (its answer's headers came, status 200); called once, before the first chunk. Errors
   * from here on belong to the answer's stream.
   */
  accepted(): void;
  chunk(response: GenerateResponse): void;
  end(): void;
  fail(err: unknown): void;
}

/**
 * A model served by another engine (vLLM, SGLang, llama.cpp, a hosted API) through an adapter
 * (src/worker/adapter): it takes requests as they arrive on the wire and relays the upstream's stream.
 */
export interface ExternalRuntime {
  kind: 'external';
  info: ModelInfo;
  /** Throws FleetError for a request the upstream cannot honour; else streams into `sink`. */
  generate(request: GenerateRequest, sink: ExternalSink): { cancel(): void };
  /** FleetError('unimplemented') when the upstream cannot count tokens. */
  countTokens(request: CountTokensRequest): Promise<CountTokensResponse>;
  /** False while the upstream does not answer: the worker is not ready and takes no new work. */
  healthy(): boolean;
  status(): WorkerLoad;
  drain(): Promise<void>;
  abortAll(): void;
  release(): Promise<void>;
}

export type ModelRuntime = GenerationRuntime | EmbeddingRuntime | ExternalRuntime;
