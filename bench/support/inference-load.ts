/** Concurrent streaming chat completions through the gateway's public gRPC API, with per-stream time to first text. */
import { Metadata } from '@grpc/grpc-js';
import { FinishReason } from '../../src/common/gen/worker';
import type { ChatRequest, GenerationChunk, InferenceClient } from '../../src/common/gen/inference';
import { deadlineIn } from '../../src/common/grpc/client';
import type { LoadResult } from './grpc-load';

export function inferenceOnce(client: InferenceClient, request: ChatRequest): Promise<{ ttftMs: number; tokens: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let ttftMs = -1;
    let tokens = 0;
    const call = client.chat(request, new Metadata(), { deadline: deadlineIn(600_000) });
    call.on('data', (c: GenerationChunk) => {
      if (ttftMs < 0 && c.text !== '') ttftMs = performance.now() - started;
      tokens += c.tokenIds.length;
      if (c.finishReason === FinishReason.FINISH_REASON_ERROR) reject(new Error('generation failed'));
    });
    call.on('error', reject);
    call.on('end', () => resolve({ ttftMs, tokens }));
  });
}

export async function inferenceLoad(client: InferenceClient, concurrency: number, request: ChatRequest): Promise<LoadResult> {
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: concurrency }, () => inferenceOnce(client, request)));
  return { seconds: (performance.now() - started) / 1000, tokens: results.reduce((n, r) => n + r.tokens, 0), ttftMs: results.map((r) => r.ttftMs) };
}
