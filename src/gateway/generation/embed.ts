/**
 * Embeddings for a validated request, shared by both front doors: the model is checked, a worker picked, and a
 * worker that is unavailable is replaced by another (up to three tries).
 */
import { Metadata } from '@grpc/grpc-js';
import { FleetError, asFleetError } from '../../common/errors';
import { ModelKind, type EmbedResponse } from '../../common/gen/worker';
import { unary } from '../../common/grpc/client';
import type { GatewayContext } from '../context';
import { notFoundModel, type ValidEmbeddingRequest } from '../openai/validate';

/** `signal`: the client went away — the worker call is cancelled (the worker drops or stops the job). */
export async function embed(ctx: GatewayContext, valid: ValidEmbeddingRequest, timeoutMs = ctx.requestTimeoutMs, signal?: AbortSignal): Promise<EmbedResponse> {
  const summary = ctx.view.model(valid.model);
  if (!summary) throw notFoundModel(valid.model, ctx.view.models().map((m) => m.name));
  if (summary.kind !== ModelKind.MODEL_KIND_EMBEDDING) throw new FleetError('invalid_request', `model '${valid.model}' is not an embedding model`, { param: 'model' });
  const tried: string[] = [];
  for (;;) {
    const target = await ctx.view.pick(valid.model, tried);
    const { client } = target;
    try {
      return await unary(client.embed.bind(client), { model: valid.model, input: valid.input, normalize: valid.normalize, dimensions: valid.dimensions }, new Metadata(), timeoutMs, signal);
    } catch (err) {
      const fe = asFleetError(err);
      if (fe.kind !== 'unavailable' || tried.length >= 2 || signal?.aborted) throw fe;
      tried.push(target.workerId);
    }
  }
}
