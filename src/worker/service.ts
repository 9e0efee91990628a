/**
 * The `fleetchat.v1.Worker` gRPC service over a loaded model runtime: validates requests, builds prompts,
 * streams engine chunks with back-pressure, and stops generation when the client cancels.
 */
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { FleetError } from '../common/errors';
import {
  EmbedResponse,
  FinishReason,
  ModelKind,
  WorkerStatus,
  type CountTokensRequest,
  type CountTokensResponse,
  type EmbedRequest,
  type GenerateRequest,
  type GetModelInfoRequest,
  type GetStatusRequest,
  type ModelInfo,
  type WorkerServer,
} from '../common/gen/worker';
import { toServiceError } from '../common/grpc/status';
import { acceptedMetadata } from '../common/grpc/accepted';
import type { Logger } from '../common/log';
import { checkLimit, checkRequestLimit, DEFAULT_REQUEST_LIMITS, utf8Bytes, type RequestLimits } from '../common/request-limits';
import { ChunkWriter, DEFAULT_MAX_SEND_BUFFER_BYTES, SendBuffers, toResponse, type GenerateCall } from './chunk-writer';
import type { EngineChunk } from './engine/sequence';
import type { SequenceHandle } from './engine/engine-types';
import type { WorkerMetrics } from './metrics';
import type { EmbeddingRuntime, ExternalRuntime, GenerationRuntime, ModelRuntime, PreparedPrompt } from './runtime';
import { resolveSamplingParams, type ValidSamplingParams } from './sampling/params';
import type { TokenConstraint } from './engine/constraint';
import { constraintSource } from './grammar/sources';
import { ToolResponseStream } from './tools/stream-response';

export interface WorkerServiceOptions {
  runtime: ModelRuntime;
  logger: Logger;
  metrics?: WorkerMetrics;
  /** Largest batch of texts one Embed call may carry. */
  maxEmbedInputs?: number;
  /** Request limits (default: the table's defaults). */
  limits?: RequestLimits;
  /** Encoded bytes a Generate stream may hold for a caller that is not reading (default 16 MiB). */
  maxSendBufferBytes?: number;
  /** Counters of what the Generate streams hold (the worker's metrics read them). */
  sendBuffers?: SendBuffers;
}

/** A writer for one Generate call; `stop` cancels its generation when the caller falls too far behind. */
function chunkWriter(options: WorkerServiceOptions, call: GenerateCall, stop: () => void): ChunkWriter {
  return new ChunkWriter(call, {
    maxPendingBytes: options.maxSendBufferBytes ?? DEFAULT_MAX_SEND_BUFFER_BYTES,
    buffers: options.sendBuffers ?? new SendBuffers(),
    onOverflow: (bytes) => {
      options.logger.warn({ requestId: call.request.requestId, pendingBytes: bytes }, 'caller not reading its Generate stream: cut off');
      stop();
    },
  });
}

/** Prompt size and message count within the limits: checked before anything is rendered or tokenized. */
export function checkPromptSize(req: GenerateRequest | CountTokensRequest, limits: RequestLimits): void {
  if (req.chat !== undefined) {
    checkRequestLimit(limits, 'maxMessages', req.chat.messages.length, 'messages', 'messages');
    const bytes = req.chat.messages.reduce((sum, m) => sum + utf8Bytes(m.content), 0) + utf8Bytes(req.chat.toolsJson);
    checkRequestLimit(limits, 'maxPromptBytes', bytes, 'messages', 'bytes of content');
  } else {
    checkRequestLimit(limits, 'maxPromptBytes', utf8Bytes(req.prompt), 'prompt', 'bytes');
  }
}

function checkModel(info: ModelInfo, model: string): void {
  if (model !== '' && !info.modelNames.includes(model)) {
    throw new FleetError('not_found', `model '${model}' is not served by this worker (it serves: ${info.modelNames.join(', ')})`, { param: 'model', code: 'model_not_found' });
  }
}

function requireKind<K extends ModelRuntime['kind']>(runtime: ModelRuntime, kind: K, what: string): Extract<ModelRuntime, { kind: K }> {
  if (runtime.kind !== kind) throw new FleetError('invalid_request', `${what} is not supported by this worker's ${runtime.kind} model '${runtime.info.modelNames[0]}'`, { code: 'wrong_model_kind' });
  return runtime as Extract<ModelRuntime, { kind: K }>;
}

export function preparePrompt(runtime: GenerationRuntime, req: GenerateRequest | CountTokensRequest, limits: RequestLimits = DEFAULT_REQUEST_LIMITS): PreparedPrompt {
  const ids = 'promptTokenIds' in req ? req.promptTokenIds : [];
  const given = [req.prompt !== '', req.chat !== undefined, ids.length > 0].filter(Boolean).length;
  if (given !== 1) throw new FleetError('invalid_request', 'exactly one of prompt, chat or prompt_token_ids must be set', { param: 'prompt' });
  checkPromptSize(req, limits);
  // Messages are validated once, by the chat library while rendering.
  if (req.chat !== undefined) return runtime.prompts.fromChat(req.chat);
  if (ids.length > 0) return runtime.prompts.fromTokenIds(ids);
  return runtime.prompts.fromText(req.prompt);
}

function resolveParams(runtime: GenerationRuntime, req: GenerateRequest, prompt: PreparedPrompt, limits: RequestLimits): ValidSamplingParams {
  const params = resolveSamplingParams([...runtime.samplingLayers, req.params ?? {}], runtime.info.vocabSize, limits);
  return {
    ...params,
    // A format whose call marker is a special token ([TOOL_CALLS], <|python_tag|>) needs it in the text to parse it.
    ...(prompt.tools?.format.needsSpecialTokens ? { skipSpecialTokens: false } : {}),
    stop: [...new Set([...params.stop, ...prompt.stop])],
    stopTokenIds: [...new Set([...params.stopTokenIds, ...prompt.stopTokenIds])],
  };
}

/**
 * Generate on an external engine: the adapter relays the upstream's stream (n choices as n upstream requests, choice
 * i seeded with seed + i); errors end the call with a status. Once the engine took every choice (its answers' headers
 * came), the call's response headers go out with `fleetchat-accepted` (common/grpc/accepted.ts) while the engine
 * works on the first token: the caller learns the request was accepted (the gateway then opens its HTTP response,
 * src/gateway/openai/chat.ts) and the first token is one DATA frame.
 */
function generateExternal(options: WorkerServiceOptions, runtime: ExternalRuntime, call: GenerateCall): void {
  const req = call.request;
  let failed = false;
  const handles: Array<{ cancel(): void }> = [];
  const cancelAll = (): void => handles.forEach((h) => h.cancel());
  const writer = chunkWriter(options, call, () => {
    failed = true;
    cancelAll();
  });
  checkModel(runtime.info, req.model);
  checkPromptSize(req, options.limits ?? DEFAULT_REQUEST_LIMITS);
  const n = choicesOf(req);
  let open = n;
  let waiting = n;
  const choice = (index: number): GenerateRequest => {
    const seed = req.params?.seed;
    return n === 1 ? req : { ...req, n: 1, params: req.params && { ...req.params, seed: seed === undefined ? undefined : seed + index } };
  };
  try {
    for (let index = 0; index < n && !failed; index++) {
      let reason = FinishReason.FINISH_REASON_STOP;
      handles.push(runtime.generate(choice(index), {
        accepted: () => {
          if (--waiting === 0 && !failed) call.sendMetadata(acceptedMetadata());
        },
        chunk: (response) => {
          if (response.finishReason !== FinishReason.FINISH_REASON_UNSPECIFIED) reason = response.finishReason;
          if (!failed) writer.write({ ...response, index });
        },
        end: () => {
          options.metrics?.requestFinished(reason);
          if (!failed && --open === 0) writer.end();
        },
        fail: (err) => {
          if (call.cancelled || failed) return;
          failed = true;
          cancelAll();
          options.metrics?.requestRejected(err);
          call.emit('error', toServiceError(err));
        },
      }));
    }
  } catch (err) {
    cancelAll();
    throw err;
  }
  call.on('cancelled', cancelAll);
}

/** The request's grammar constraint (structured output, or forced tool calls), compiled or cached; undefined for free text. */
async function constraintOf(runtime: GenerationRuntime, req: GenerateRequest, params: ValidSamplingParams, prompt: PreparedPrompt): Promise<TokenConstraint | undefined> {
  const asked = req.params?.constraint?.kind !== undefined;
  if (asked && prompt.tools) throw new FleetError('invalid_request', 'response_format: cannot be combined with tools (unless tool_choice is "none")', { param: 'response_format' });
  const source = prompt.tools?.forced ?? (req.params?.constraint ? constraintSource(req.params.constraint) : undefined);
  if (!source) return undefined;
  if (!runtime.grammars) throw new FleetError('invalid_request', 'this worker does not support constrained decoding', { param: 'response_format' });
  return runtime.grammars.constraint(source, params.stopTokenIds);
}

function generate(options: WorkerServiceOptions, call: GenerateCall): void {
  start(options, call).catch((err: unknown) => {
    options.metrics?.requestRejected(err);
    call.emit('error', toServiceError(err));
  });
}

async function start(options: WorkerServiceOptions, call: GenerateCall): Promise<void> {
  const req = call.request;
  if (options.runtime.kind === 'external') {
    try {
      generateExternal(options, options.runtime, call);
    } catch (err) {
      options.metrics?.requestRejected(err);
      call.emit('error', toServiceError(err));
    }
    return;
  }
  let failed = false;
  const handles: SequenceHandle[] = [];
  const writer = chunkWriter(options, call, () => {
    failed = true;
    for (const h of handles) h.cancel();
  });
  const runtime = requireKind(options.runtime, 'generation', 'Generate');
  checkModel(runtime.info, req.model);
  const limits = options.limits ?? DEFAULT_REQUEST_LIMITS;
  const n = choicesOf(req);
  // One rendering and tokenization for every choice.
  const prompt = preparePrompt(runtime, req, limits);
  const params = resolveParams(runtime, req, prompt, limits);
  const wanted = params.maxTokens ?? Math.max(1, runtime.info.contextLength - prompt.ids.length);
  checkRequestLimit(limits, 'maxChoiceTokens', n * wanted, 'max_tokens', `tokens (n × max_tokens = ${n} × ${wanted}${params.maxTokens === undefined ? ', max_tokens defaulting to the rest of the context' : ''})`);
  const constraints = await Promise.all(Array.from({ length: n }, () => constraintOf(runtime, req, params, prompt)));
  const dispose = (): void => constraints.forEach((c) => c?.dispose());
  if (call.cancelled) {
    dispose();
    return;
  }
  let open = n;
  const sinkFor = (index: number): ((chunk: EngineChunk) => void) => {
    const toolStream = prompt.tools ? new ToolResponseStream(prompt.tools) : undefined;
    return (chunk) => {
      if (failed) return;
      if (chunk.finishReason === FinishReason.FINISH_REASON_ERROR) {
        failed = true;
        options.logger.error({ requestId: req.requestId, error: chunk.error }, 'generation failed');
        for (const h of handles) h.cancel();
        call.emit('error', toServiceError(new FleetError('generation_failed', chunk.error ?? 'generation failed')));
        return;
      }
      const finished = chunk.finishReason !== FinishReason.FINISH_REASON_UNSPECIFIED;
      // Counted before the early return, so requests their caller cancelled show as finish_reason="cancelled".
      if (finished) options.metrics?.requestFinished(chunk.finishReason);
      if (chunk.finishReason === FinishReason.FINISH_REASON_CANCELLED && call.cancelled) return;
      const response = toResponse(chunk, runtime.tokenizer, prompt.ids, index);
      writer.write(toolStream ? toolStream.apply(response) : response);
      if (finished && --open === 0) writer.end();
    };
  };
  try {
    handles.push(...runtime.engine.submitChoices(Array.from({ length: n }, (_, i) => ({
      promptIds: prompt.ids,
      promptText: prompt.text,
      params: params.seed === undefined || i === 0 ? params : { ...params, seed: params.seed + i },
      constraint: constraints[i],
      onChunk: sinkFor(i),
    }))));
    call.on('cancelled', () => handles.forEach((h) => h.cancel()));
  } catch (err) {
    dispose();
    throw err;
  }
}

/** A request's choices (n; 0 means 1), within the limits table. */
function choicesOf(req: GenerateRequest): number {
  return checkLimit('n', req.n === 0 ? 1 : req.n);
}

function unaryHandler<Req, Res>(fn: (req: Req) => Promise<Res> | Res): (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => void {
  return (call, cb) => {
    Promise.resolve()
      .then(() => fn(call.request))
      .then((res) => cb(null, res))
      .catch((err: unknown) => cb(toServiceError(err)));
  };
}

async function embed(options: WorkerServiceOptions, req: EmbedRequest, signal: AbortSignal): Promise<EmbedResponse> {
  const runtime: EmbeddingRuntime = requireKind(options.runtime, 'embedding', 'Embed');
  checkModel(runtime.info, req.model);
  const max = options.maxEmbedInputs ?? 2048;
  if (req.input.length === 0) throw new FleetError('invalid_request', 'input must contain at least one text', { param: 'input' });
  if (req.input.length > max) throw new FleetError('invalid_request', `input has ${req.input.length} texts; at most ${max} per request`, { param: 'input' });
  if (req.dimensions !== undefined && (req.dimensions < 1 || req.dimensions > runtime.info.embeddingDimensions)) {
    throw new FleetError('invalid_request', `dimensions must be between 1 and ${runtime.info.embeddingDimensions}, got ${req.dimensions}`, { param: 'dimensions' });
  }
  const result = await runtime.embed(req.input, { normalize: req.normalize, dimensions: req.dimensions, signal });
  return EmbedResponse.fromPartial({
    embeddings: result.vectors.map((v) => ({ values: Array.from(v) })),
    usage: { promptTokens: result.promptTokens, completionTokens: 0, totalTokens: result.promptTokens },
  });
}

async function countTokens(options: WorkerServiceOptions, req: CountTokensRequest): Promise<CountTokensResponse> {
  const runtime = options.runtime;
  checkModel(runtime.info, req.model);
  if (runtime.kind === 'external') return runtime.countTokens(req);
  if (runtime.kind === 'embedding') {
    if (req.chat !== undefined) throw new FleetError('invalid_request', 'chat input needs a generation model', { param: 'chat' });
    return { tokenCount: runtime.countTokens(req.prompt), contextLength: runtime.info.contextLength };
  }
  return { tokenCount: preparePrompt(runtime, req, options.limits).ids.length, contextLength: runtime.info.contextLength };
}

export function workerStatus(runtime: ModelRuntime): WorkerStatus {
  const s = runtime.kind === 'generation' ? runtime.engine.status() : runtime.status();
  return WorkerStatus.fromPartial(s);
}

/** The Generate handler alone, for in-process calls (common/grpc/in-process.ts) as for gRPC ones. */
export function generateHandler(options: WorkerServiceOptions): (call: GenerateCall) => void {
  return (call) => generate(options, call);
}

export function createWorkerService(options: WorkerServiceOptions): WorkerServer {
  return {
    generate: generateHandler(options),
    embed: (call: ServerUnaryCall<EmbedRequest, EmbedResponse>, cb: sendUnaryData<EmbedResponse>) => {
      // A cancelled call (the gateway's client went away) stops the job: queued, it never runs; running, it stops
      // before its next batch.
      const abort = new AbortController();
      call.on('cancelled', () => abort.abort());
      unaryHandler((req: EmbedRequest) => embed(options, req, abort.signal).catch((err: unknown) => {
        if (abort.signal.aborted) options.metrics?.embeddingCancelled();
        throw err;
      }))(call, cb);
    },
    countTokens: unaryHandler((req: CountTokensRequest) => countTokens(options, req)),
    getModelInfo: unaryHandler((_req: GetModelInfoRequest) => options.runtime.info),
    getStatus: unaryHandler((_req: GetStatusRequest) => workerStatus(options.runtime)),
  };
}

export { ModelKind };
