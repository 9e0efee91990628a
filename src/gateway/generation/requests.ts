/**
 * From a validated request to the worker calls that answer it — the one place both front doors (OpenAI HTTP and
 * the public gRPC API) and the arena turn a request into `GenerateRequest`s: one call carrying all n choices, so the
 * worker tokenizes and prefills the prompt once (choice i is seeded with seed + i there, so n choices differ yet stay
 * reproducible).
 */
import { FleetError } from '../../common/errors';
import { GenerateRequest, ModelKind } from '../../common/gen/worker';
import type { GatewayContext } from '../context';
import { notFoundModel, type ValidChatRequest, type ValidCompletionRequest } from '../openai/validate';

/** Throws not_found (listing the served models) or invalid_request (an embedding model) before any dispatch. */
export function checkGenerationModel(ctx: GatewayContext, model: string): void {
  const summary = ctx.view.model(model);
  if (!summary) throw notFoundModel(model, ctx.view.models().map((m) => m.name));
  if (summary.kind === ModelKind.MODEL_KIND_EMBEDDING) throw new FleetError('invalid_request', `model '${model}' is an embedding model; use the embeddings API`, { param: 'model' });
}

export function chatGenerateRequests(valid: ValidChatRequest, id: string): GenerateRequest[] {
  return [
    GenerateRequest.fromPartial({
      requestId: id,
      model: valid.model,
      chat: { messages: valid.messages, addGenerationPrompt: valid.addGenerationPrompt, convTemplate: valid.convTemplate ?? '', toolsJson: valid.tools.toolsJson, toolOptions: valid.tools.toolOptions },
      params: valid.params,
      n: valid.n,
    }),
  ];
}

export function completionGenerateRequests(valid: ValidCompletionRequest, id: string): GenerateRequest[] {
  return [GenerateRequest.fromPartial({ requestId: id, model: valid.model, prompt: valid.prompt, params: valid.params, n: valid.n })];
}
