/** Concurrent streaming generations straight to a worker over gRPC, with per-stream time to first token. */
import { FinishReason, GenerateRequest, WorkerClient, type GenerateResponse } from '../../src/common/gen/worker';
import { deadlineIn } from '../../src/common/grpc/client';

export type RequestInit = Parameters<typeof GenerateRequest.fromPartial>[0];

export interface LoadResult {
  seconds: number;
  tokens: number;
  ttftMs: number[];
}

/** `token`: time to the first token id; `text`: time to the first non-empty text (what an HTTP client sees). */
export type TtftMode = 'token' | 'text';

export function streamOnce(client: WorkerClient, request: RequestInit, mode: TtftMode = 'token'): Promise<{ ttftMs: number; tokens: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let ttftMs = -1;
    let tokens = 0;
    const call = client.generate(GenerateRequest.fromPartial(request), { deadline: deadlineIn(600_000) });
    call.on('data', (c: GenerateResponse) => {
      if (ttftMs < 0 && (mode === 'token' ? c.tokenIds.length > 0 : c.text !== '')) ttftMs = performance.now() - started;
      tokens += c.tokenIds.length;
      if (c.finishReason === FinishReason.FINISH_REASON_ERROR) reject(new Error('generation failed'));
    });
    call.on('error', reject);
    call.on('end', () => resolve({ ttftMs, tokens }));
  });
}

export async function grpcLoad(client: WorkerClient, concurrency: number, request: RequestInit, mode: TtftMode = 'token'): Promise<LoadResult> {
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: concurrency }, (_, i) => streamOnce(client, { ...request, requestId: `bench-${i}` }, mode)));
  return { seconds: (performance.now() - started) / 1000, tokens: results.reduce((n, r) => n + r.tokens, 0), ttftMs: results.map((r) => r.ttftMs) };
}
