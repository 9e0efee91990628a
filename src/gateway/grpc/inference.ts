/**
 * `fleetchat.v1.Inference` handlers. A request is authorised with the HTTP API's keys, validated by the HTTP API's
 * validation (requests.ts), turned into a worker call and run by generation/fan-out.ts —
 * the same dispatch, retry-before-first-token and cancellation as /v1/chat/completions. The call's deadline caps
 * the gateway's --request-timeout; a cancelled call (client cancel, deadline, dropped connection) cancels the
 * worker streams, which frees their slots.
 */
import { randomUUID } from 'node:crypto';
import { Metadata, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import { FleetError, asFleetError } from '../../common/errors';
import type {
  ChatRequest, CompletionRequest, EmbeddingsRequest, EmbeddingsResponse, GenerationChunk, InferenceServer, ListServedModelsRequest, ListServedModelsResponse,
} from '../../common/gen/inference';
import type { GenerateRequest, GenerateResponse } from '../../common/gen/worker';
import { checkApiKey } from '../auth';
import { rateKeyOf, type RateLimiter } from '../rate-limit';
import type { GatewayContext } from '../context';
import { embed } from '../generation/embed';
import { chatGenerateRequests, checkGenerationModel, completionGenerateRequests, fanOut } from '../generation/fan-out';
import { validChat, validCompletion, validEmbeddings } from './requests';
import { toPublicServiceError } from './status-details';

export interface InferenceOptions {
  apiKeys: readonly string[];
  /** The HTTP API's per-client limiter: one budget per API key (or client address) across both doors. */
  rateLimiter?: RateLimiter;
}

/** `ipv4:1.2.3.4:5678` / `ipv6:[::1]:5678` → the address without the port. */
function peerAddress(peer: string): string {
  const rest = peer.replace(/^ipv[46]:/, '');
  const m = /^\[(.*)\]:\d+$/.exec(rest) ?? /^(.*):\d+$/.exec(rest);
  return m ? m[1] : rest;
}

/** Checks the API key, then takes one request from the caller's rate-limit bucket (RESOURCE_EXHAUSTED + RetryInfo). */
function authorize(call: { metadata: Metadata; getPeer(): string }, options: InferenceOptions): void {
  const value = call.metadata.get('authorization')[0];
  const authorization = typeof value === 'string' ? value : undefined;
  checkApiKey(authorization, options.apiKeys, 'metadata');
  options.rateLimiter?.take(rateKeyOf(authorization, peerAddress(call.getPeer()), options.apiKeys.length > 0));
}

/** Milliseconds left for this call: the gateway's request timeout, or less when the client set a deadline. */
function timeoutOf(deadline: Date | number, requestTimeoutMs: number): number {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(at)) return requestTimeoutMs;
  const left = at - Date.now();
  if (left <= 0) throw new FleetError('deadline_exceeded', 'the deadline passed before the request was dispatched');
  return Math.min(requestTimeoutMs, left);
}

function toChunk(index: number, c: GenerateResponse): GenerationChunk {
  return { index, text: c.text, tokenIds: c.tokenIds, logprobs: c.logprobs, finishReason: c.finishReason, usage: c.usage, promptText: c.promptText, matchedStop: c.matchedStop, toolCalls: c.toolCalls };
}

function statusOf(err: unknown): number {
  return err === undefined ? 200 : asFleetError(err).httpStatus;
}

export function inferenceService(ctx: GatewayContext, options: InferenceOptions): InferenceServer {
  const facts = (): { availableModels: string[] } => ({ availableModels: ctx.view.models().map((m) => m.name) });

  /** Streams the worker calls of one request to the gRPC call; ends with OK or the first error's status. */
  const stream = (call: ServerWritableStream<ChatRequest | CompletionRequest, GenerationChunk>, route: string, prepare: () => GenerateRequest[]): void => {
    const started = performance.now();
    const finish = (err?: unknown): void => {
      ctx.metrics.request(route, statusOf(err), (performance.now() - started) / 1000);
    };
    let requests: GenerateRequest[];
    let timeoutMs: number;
    try {
      authorize(call, options);
      timeoutMs = timeoutOf(call.getDeadline(), ctx.requestTimeoutMs);
      requests = prepare();
    } catch (err) {
      finish(err);
      call.emit('error', toPublicServiceError(err, facts()));
      return;
    }
    let first = true;
    const run = fanOut({ ...ctx.generate, timeoutMs }, requests, {
      // The worker took the request: the response headers go now, while the engine works, as the worker's did.
      onAccepted: () => {
        if (!call.cancelled) call.sendMetadata(new Metadata());
      },
      onChunk: (index, chunk) => {
        if (first) {
          first = false;
          ctx.metrics.firstToken(route, (performance.now() - started) / 1000);
        }
        if (!call.cancelled) call.write(toChunk(index, chunk));
      },
    });
    call.on('cancelled', () => run.cancel());
    run.done.then(
      () => {
        ctx.metrics.tokens(route, run.usage.completion_tokens);
        finish();
        call.end();
      },
      (err: unknown) => {
        finish(err);
        if (!call.cancelled) call.emit('error', toPublicServiceError(err, facts()));
      },
    );
  };

  return {
    chat: (call: ServerWritableStream<ChatRequest, GenerationChunk>) => {
      stream(call, 'grpc Chat', () => {
        const valid = validChat(call.request, ctx.limits);
        checkGenerationModel(ctx, valid.model);
        return chatGenerateRequests(valid, call.request.requestId || `chatcmpl-${randomUUID()}`);
      });
    },
    complete: (call: ServerWritableStream<CompletionRequest, GenerationChunk>) => {
      stream(call, 'grpc Complete', () => {
        const valid = validCompletion(call.request, ctx.limits);
        checkGenerationModel(ctx, valid.model);
        return completionGenerateRequests(valid, call.request.requestId || `cmpl-${randomUUID()}`);
      });
    },
    embed: (call: ServerUnaryCall<EmbeddingsRequest, EmbeddingsResponse>, callback: sendUnaryData<EmbeddingsResponse>) => {
      const started = performance.now();
      const run = async (): Promise<EmbeddingsResponse> => {
        authorize(call, options);
        const timeoutMs = timeoutOf(call.getDeadline(), ctx.requestTimeoutMs);
        const abort = new AbortController();
        call.on('cancelled', () => abort.abort());
        const res = await embed(ctx, validEmbeddings(call.request), timeoutMs, abort.signal);
        return { embeddings: res.embeddings, usage: res.usage };
      };
      run().then(
        (res) => {
          ctx.metrics.request('grpc Embed', 200, (performance.now() - started) / 1000);
          callback(null, res);
        },
        (err: unknown) => {
          ctx.metrics.request('grpc Embed', statusOf(err), (performance.now() - started) / 1000);
          callback(toPublicServiceError(err, facts()));
        },
      );
    },
    listModels: (call: ServerUnaryCall<ListServedModelsRequest, ListServedModelsResponse>, callback: sendUnaryData<ListServedModelsResponse>) => {
      try {
        authorize(call, options);
      } catch (err) {
        callback(toPublicServiceError(err));
        return;
      }
      callback(null, { models: ctx.view.models().map((m) => ({ name: m.name, kind: m.kind, contextLength: m.contextLength, workers: m.workers })) });
    },
  };
}
