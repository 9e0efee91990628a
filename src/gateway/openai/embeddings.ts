/** POST /v1/embeddings — float or base64 vectors from an embedding worker. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayContext } from '../context';
import { embed } from '../generation/embed';
import { validateEmbeddingRequest } from './validate';
import type { WireEmbeddingList } from './wire';

function base64Of(values: number[]): string {
  return Buffer.from(Float32Array.from(values).buffer).toString('base64');
}

export async function handleEmbeddings(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const valid = validateEmbeddingRequest(request.body);
  // The client going away before the answer cancels the worker call.
  const abort = new AbortController();
  const onClose = (): void => {
    if (!reply.raw.writableFinished) abort.abort();
  };
  reply.raw.on('close', onClose);
  const res = await embed(ctx, valid, ctx.requestTimeoutMs, abort.signal).finally(() => reply.raw.off('close', onClose));
  const body: WireEmbeddingList = {
    object: 'list',
    data: res.embeddings.map((e, index) => ({ object: 'embedding', index, embedding: valid.encodingFormat === 'base64' ? base64Of(e.values) : e.values })),
    model: valid.model,
    usage: { prompt_tokens: res.usage?.promptTokens ?? 0, total_tokens: res.usage?.totalTokens ?? 0 },
  };
  await reply.send(body);
}
