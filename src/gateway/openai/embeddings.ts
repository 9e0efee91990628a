/** POST /v1/embeddings — float or base64 vectors from an embedding worker. */
import { Metadata } from '@grpc/grpc-js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FleetError } from '../../common/errors';
import { ModelKind } from '../../common/gen/worker';
import { unary } from '../../common/grpc/client';
import type { GatewayContext } from '../context';
import { notFoundModel, validateEmbeddingRequest } from './validate';
import type { WireEmbeddingList } from './wire';

function base64Of(values: number[]): string {
  return Buffer.from(Float32Array.from(values).buffer).toString('base64');
}

export async function handleEmbeddings(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const valid = validateEmbeddingRequest(request.body);
  const summary = ctx.view.model(valid.model);
  if (!summary) throw notFoundModel(valid.model, ctx.view.models().map((m) => m.name));
  if (summary.kind !== ModelKind.MODEL_KIND_EMBEDDING) throw new FleetError('invalid_request', `model '${valid.model}' is not an embedding model`, { param: 'model' });
  const tried: string[] = [];
  for (;;) {
    const target = await ctx.view.pick(valid.model, tried);
    const client = ctx.pool.get(target.address);
    try {
      const res = await unary(client.embed.bind(client), { model: valid.model, input: valid.input, normalize: valid.normalize, dimensions: valid.dimensions }, new Metadata(), ctx.requestTimeoutMs);
      const body: WireEmbeddingList = {
        object: 'list',
        data: res.embeddings.map((e, index) => ({ object: 'embedding', index, embedding: valid.encodingFormat === 'base64' ? base64Of(e.values) : e.values })),
        model: valid.model,
        usage: { prompt_tokens: res.usage?.promptTokens ?? 0, total_tokens: res.usage?.totalTokens ?? 0 },
      };
      await reply.send(body);
      return;
    } catch (err) {
      const fe = err as FleetError;
      if (fe.kind !== 'unavailable' || tried.length >= 2) throw err;
      tried.push(target.workerId);
    }
  }
}
