/**
 * Writes engine chunks to a gRPC server stream: each becomes one proto response (`toResponse`: with its choice index,
 * and token texts and bytes for its logprobs), written honouring back-pressure: while the stream is not writable,
 * chunks are merged into one pending message per choice (text, token ids and logprobs appended) and sent on 'drain',
 * so a slow client never makes the server buffer thousands of messages. What is merged is bounded in bytes
 * (`--max-send-buffer-bytes`): a caller that falls further behind gets RESOURCE_EXHAUSTED and its generation is
 * cancelled (the scheduler frees its KV cache at the next step) instead of the worker holding up to n × max_tokens of
 * text and logprobs for it.
 */
import { FleetError } from '../common/errors';
import { GenerateResponse, type GenerateRequest } from '../common/gen/worker';
import type { ServerStreamCall } from '../common/grpc/in-process';
import { toServiceError } from '../common/grpc/status';
import type { EngineChunk, TokenInfoSource } from './engine/sequence';
import { coalesceDeltas } from './tools/stream-response';

function toLogprob(tokenizer: TokenInfoSource, tokenId: number, logprob: number, top: Array<{ tokenId: number; logprob: number }>): GenerateResponse['logprobs'][number] {
  const info = tokenizer.tokenInfo(tokenId);
  return {
    tokenId,
    token: info.text,
    logprob,
    bytes: Buffer.from(info.bytes),
    top: top.map((t) => {
      const ti = tokenizer.tokenInfo(t.tokenId);
      return { tokenId: t.tokenId, token: ti.text, logprob: t.logprob, bytes: Buffer.from(ti.bytes) };
    }),
  };
}

/** An engine chunk of choice `index` as the proto response (one object, written as it is). */
export function toResponse(chunk: EngineChunk, tokenizer: TokenInfoSource, promptIds: number[], index: number): GenerateResponse {
  const usage = chunk.usage
    ? { promptTokens: chunk.usage.promptTokens, completionTokens: chunk.usage.completionTokens, totalTokens: chunk.usage.promptTokens + chunk.usage.completionTokens, cachedTokens: chunk.usage.cachedTokens }
    : undefined;
  return GenerateResponse.fromPartial({
    index,
    text: chunk.text,
    tokenIds: chunk.tokenIds,
    logprobs: chunk.logprobs.map((l) => toLogprob(tokenizer, l.tokenId, l.logprob, l.top)),
    finishReason: chunk.finishReason,
    usage,
    promptText: chunk.promptText ?? '',
    matchedStop: chunk.matchedStop ?? '',
    matchedStopTokenId: chunk.matchedStopTokenId ?? -1,
    promptTokenIds: chunk.promptLogprobs ? promptIds : [],
    promptLogprobs: chunk.promptLogprobs?.map((l, i) => (l ? toLogprob(tokenizer, l.tokenId, l.logprob, l.top) : toLogprob(tokenizer, promptIds[i], 0, []))) ?? [],
  });
}

/** One Generate call's server side: a grpc-js server stream, or an in-process call (common/grpc/in-process.ts). */
export type GenerateCall = ServerStreamCall<GenerateRequest, GenerateResponse>;

/** Default of `--max-send-buffer-bytes`. */
export const DEFAULT_MAX_SEND_BUFFER_BYTES = 16 << 20;

/** What the worker's Generate streams hold, across streams (read by the worker's metrics and by tests). */
export class SendBuffers {
  /** Generate calls open (until their stream closes). */
  streams = 0;
  /** Encoded bytes merged and waiting for callers that are not reading. */
  pendingBytes = 0;
  /** Streams failed because their caller fell more than the cap behind. */
  cutOff = 0;
}

export interface ChunkWriterOptions {
  /** Most encoded bytes held for a caller that is not reading; one more chunk beyond it fails the stream. */
  maxPendingBytes: number;
  /** Shared counters (one per worker). */
  buffers: SendBuffers;
  /** Called once when the cap was passed, after the call was failed: stop producing chunks (cancel the sequences). */
  onOverflow(pendingBytes: number): void;
}

interface Pending {
  message: GenerateResponse;
  /** Sum of the encoded sizes of the chunks merged into `message`. */
  bytes: number;
}

export class ChunkWriter {
  /** Per choice index, in order of first pending chunk. */
  private readonly pending = new Map<number, Pending>();
  private pendingBytes = 0;
  private writable = true;
  private ended = false;
  private endAfterFlush = false;
  private closed = false;

  constructor(
    private readonly call: GenerateCall,
    private readonly options: ChunkWriterOptions,
  ) {
    options.buffers.streams += 1;
    call.on('drain', () => this.onDrain());
    // 'close' follows every end: finished, failed, or cancelled by the caller.
    call.on('close', () => this.onClose());
  }

  write(message: GenerateResponse): void {
    if (this.ended || this.call.cancelled) return;
    if (!this.writable) {
      const bytes = GenerateResponse.encode(message).finish().length;
      this.pendingBytes += bytes;
      this.options.buffers.pendingBytes += bytes;
      if (this.pendingBytes > this.options.maxPendingBytes) {
        this.overflow();
        return;
      }
      const earlier = this.pending.get(message.index);
      if (earlier) {
        earlier.message = merge(earlier.message, message);
        earlier.bytes += bytes;
      } else {
        // Its own arrays: later chunks are appended to them in place.
        this.pending.set(message.index, { message: { ...message, tokenIds: [...message.tokenIds], logprobs: [...message.logprobs] }, bytes });
      }
      return;
    }
    this.writable = this.call.write(message);
  }

  /** Ends the stream once everything pending is written. */
  end(): void {
    if (this.ended) return;
    if (this.pending.size > 0) {
      this.endAfterFlush = true;
      return;
    }
    this.ended = true;
    this.call.end();
  }

  private onDrain(): void {
    if (this.ended && !this.endAfterFlush) return;
    this.writable = true;
    // Each choice's merged chunk is written whole (the next ones wait for the next drain only if the first fills it).
    for (const [index, { message, bytes }] of this.pending) {
      if (!this.writable) break;
      this.pending.delete(index);
      this.release(bytes);
      this.writable = this.call.write(message);
    }
    if (this.endAfterFlush && this.pending.size === 0) {
      this.endAfterFlush = false;
      this.ended = true;
      this.call.end();
    }
  }

  private overflow(): void {
    const held = this.pendingBytes;
    this.dropPending();
    this.ended = true;
    this.endAfterFlush = false;
    this.options.buffers.cutOff += 1;
    this.call.emit('error', toServiceError(new FleetError('overloaded', `the caller is not reading: ${held} bytes of output waiting, over the limit max_send_buffer_bytes = ${this.options.maxPendingBytes} (--max-send-buffer-bytes); generation cancelled`, { code: 'send_buffer_full' })));
    this.options.onOverflow(held);
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.ended = true;
    this.dropPending();
    this.options.buffers.streams -= 1;
  }

  private dropPending(): void {
    this.pending.clear();
    this.release(this.pendingBytes);
  }

  private release(bytes: number): void {
    this.pendingBytes -= bytes;
    this.options.buffers.pendingBytes -= bytes;
  }
}

/**
 * `b` appended to `a` (a's arrays are the writer's own and grow in place: merging stays linear in the output). The
 * prompt's text, ids and logprobs come with the first chunk only; the scalar fields (finish reason, usage, matched
 * stop) are the latest chunk's.
 */
function merge(a: GenerateResponse, b: GenerateResponse): GenerateResponse {
  for (const id of b.tokenIds) a.tokenIds.push(id);
  for (const l of b.logprobs) a.logprobs.push(l);
  return {
    ...b,
    text: a.text + b.text,
    tokenIds: a.tokenIds,
    logprobs: a.logprobs,
    promptText: a.promptText || b.promptText,
    promptTokenIds: a.promptTokenIds.length > 0 ? a.promptTokenIds : b.promptTokenIds,
    promptLogprobs: a.promptLogprobs.length > 0 ? a.promptLogprobs : b.promptLogprobs,
    toolCalls: b.toolCalls.length === 0 ? a.toolCalls : coalesceDeltas([...a.toolCalls, ...b.toolCalls]),
  };
}
