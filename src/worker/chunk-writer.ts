/**
 * Writes engine chunks to a gRPC server stream, honouring back-pressure: while the stream is not
 * writable, chunks are merged into one pending message per choice (text, token ids and logprobs appended) and sent
 * on 'drain', so a slow client never makes the server buffer thousands of messages.
 */
import type { ServerWritableStream } from '@grpc/grpc-js';
import { GenerateResponse, type GenerateRequest } from '../common/gen/worker';
import { coalesceDeltas } from './tools/stream-response';

export class ChunkWriter {
  /** Per choice index, in order of first pending chunk. */
  private readonly pending = new Map<number, GenerateResponse>();
  private writable = true;
  private ended = false;
  private endAfterFlush = false;

  constructor(private readonly call: ServerWritableStream<GenerateRequest, GenerateResponse>) {
    call.on('drain', () => this.onDrain());
  }

  write(message: GenerateResponse): void {
    if (this.ended || this.call.cancelled) return;
    if (!this.writable) {
      const earlier = this.pending.get(message.index);
      this.pending.set(message.index, earlier ? merge(earlier, message) : message);
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
    this.writable = true;
    // Each choice's merged chunk is written whole (the next ones wait for the next drain only if the first fills it).
    for (const [index, message] of this.pending) {
      if (!this.writable) break;
      this.pending.delete(index);
      this.writable = this.call.write(message);
    }
    if (this.endAfterFlush && this.pending.size === 0) {
      this.ended = true;
      this.call.end();
    }
  }
}

function merge(a: GenerateResponse, b: GenerateResponse): GenerateResponse {
  return GenerateResponse.fromPartial({
    ...b,
    text: a.text + b.text,
    tokenIds: [...a.tokenIds, ...b.tokenIds],
    logprobs: [...a.logprobs, ...b.logprobs],
    promptText: a.promptText || b.promptText,
    toolCalls: coalesceDeltas([...a.toolCalls, ...b.toolCalls]),
  });
}
