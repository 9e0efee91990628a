/**
 * From a validated request to its worker call and back — the one place both front doors (OpenAI HTTP and the public
 * gRPC API) and the arena turn a request into a `GenerateRequest` and run it. One call carries all n choices, so the
 * worker tokenizes and prefills the prompt once (choice i is seeded with seed + i there, so n choices differ yet stay
 * reproducible); its chunks name their choice in `index` and are reported by choice (a call's index plus the choices
 * of the calls before it), and their usage is summed over the choices. The first error ends the whole request (the
 * other streams are cancelled); a client disconnect cancels all.
 */
import { FleetError } from '../../common/errors';
import { FinishReason, GenerateRequest, ModelKind, type GenerateResponse } from '../../common/gen/worker';
import type { GatewayContext } from '../context';
import { notFoundModel, type ValidChatRequest, type ValidCompletionRequest } from '../openai/validate';
import type { WireUsage } from '../openai/wire';
import { startGeneration, type GenerateDeps, type GenerationHandle } from '../upstream/generate';

/** Throws not_found (listing the served models) or invalid_request (an embedding model) before any dispatch. */
export function checkGenerationModel(ctx: GatewayContext, model: string): void {
  const kind = ctx.view.modelKind(model);
  if (kind === undefined) throw notFoundModel(model, ctx.view.models().map((m) => m.name));
  if (kind === ModelKind.MODEL_KIND_EMBEDDING) throw new FleetError('invalid_request', `model '${model}' is an embedding model; use the embeddings API`, { param: 'model' });
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

export interface FanOutCallbacks {
  /** Every worker call took its request (its worker's response headers came, before any chunk); called at most once. */
  onAccepted?(): void;
  onChunk(index: number, chunk: GenerateResponse): void;
}

export interface FanOutResult {
  /** Resolves when every choice finished; rejects with the first error. */
  done: Promise<void>;
  cancel(): void;
  /** Stops / restarts reading every choice's worker stream (the client is not reading). */
  pause(): void;
  resume(): void;
  /**
   * Exact usage so far, over all choices: prompt tokens once, completion tokens summed, cached prompt tokens (prefix
   * reuse on the worker) the most any choice had. Complete once `done` resolved.
   */
  readonly usage: WireUsage;
}

export function fanOut(deps: GenerateDeps, requests: GenerateRequest[], callbacks: FanOutCallbacks): FanOutResult {
  const handles: GenerationHandle[] = [];
  let remaining = requests.length;
  let failed = false;
  /** Every choice finished: a later cancel (grpc-js reports every closed call as cancelled) has nothing to stop. */
  let finished = false;
  let resolveDone: () => void = () => undefined;
  let rejectDone: (err: FleetError) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  const usage: WireUsage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, prompt_tokens_details: { cached_tokens: 0 } };
  const cancelAll = (): void => {
    for (const h of handles) h.cancel();
  };
  let base = 0;
  let waiting = requests.length;
  requests.forEach((request) => {
    const choices = Math.max(1, request.n);
    const first = base;
    base += choices;
    const finishedChoices = new Set<number>();
    // Each call counts once, even when a retry on another worker is accepted again.
    let accepted = false;
    handles.push(
      startGeneration(deps, request, {
        onAccepted: callbacks.onAccepted && (() => {
          if (accepted || failed) return;
          accepted = true;
          if (--waiting === 0) callbacks.onAccepted?.();
        }),
        onChunk: (chunk) => {
          if (failed) return;
          if (chunk.index >= choices) {
            failed = true;
            cancelAll();
            rejectDone(new FleetError('generation_failed', `the worker answered for choice ${chunk.index} of a request with ${choices}`));
            return;
          }
          if (chunk.finishReason !== FinishReason.FINISH_REASON_UNSPECIFIED) finishedChoices.add(chunk.index);
          if (chunk.usage) addUsage(usage, chunk.usage);
          callbacks.onChunk(first + chunk.index, chunk);
        },
        onError: (err) => {
          if (failed) return;
          failed = true;
          cancelAll();
          rejectDone(err);
        },
        onEnd: () => {
          if (failed) return;
          if (finishedChoices.size < choices) {
            failed = true;
            cancelAll();
            rejectDone(new FleetError('generation_failed', 'the worker ended the stream without a finish reason'));
            return;
          }
          remaining -= 1;
          if (remaining === 0) {
            finished = true;
            resolveDone();
          }
        },
      }),
    );
  });
  return {
    done,
    usage,
    cancel: () => {
      if (failed || finished) return;
      failed = true;
      cancelAll();
      rejectDone(new FleetError('cancelled', 'the client went away'));
    },
    pause: () => {
      for (const h of handles) h.pause();
    },
    resume: () => {
      for (const h of handles) h.resume();
    },
  };
}

/** Adds a choice's final usage (the worker sends it on the last chunk of each choice). */
function addUsage(usage: WireUsage, add: NonNullable<GenerateResponse['usage']>): void {
  usage.prompt_tokens = add.promptTokens;
  usage.completion_tokens += add.completionTokens;
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  usage.prompt_tokens_details.cached_tokens = Math.max(usage.prompt_tokens_details.cached_tokens, add.cachedTokens);
}

export function finishReasonOf(reason: FinishReason): 'stop' | 'length' | 'tool_calls' | null {
  if (reason === FinishReason.FINISH_REASON_LENGTH) return 'length';
  if (reason === FinishReason.FINISH_REASON_TOOL_CALLS) return 'tool_calls';
  if (reason === FinishReason.FINISH_REASON_UNSPECIFIED) return null;
  return 'stop';
}
