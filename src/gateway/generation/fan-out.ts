/**
 * Runs the worker calls of one OpenAI request (usually one call carrying all n choices; a call's chunks name their
 * choice in `index`) and reports their chunks by choice index (a call's index plus the choices of the calls before
 * it). The first error ends the whole request (the other streams are cancelled); a client disconnect cancels all.
 */
import { FleetError } from '../../common/errors';
import { FinishReason, type GenerateRequest, type GenerateResponse } from '../../common/gen/worker';
import { startGeneration, type GenerateDeps, type GenerationHandle } from '../upstream/generate';

export interface FanOutCallbacks {
  onChunk(index: number, chunk: GenerateResponse): void;
}

export interface FanOutResult {
  /** Resolves when every choice finished; rejects with the first error. */
  done: Promise<void>;
  cancel(): void;
  /** Stops / restarts reading every choice's worker stream (the client is not reading). */
  pause(): void;
  resume(): void;
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
  const cancelAll = (): void => {
    for (const h of handles) h.cancel();
  };
  let base = 0;
  requests.forEach((request) => {
    const choices = Math.max(1, request.n);
    const first = base;
    base += choices;
    const finishedChoices = new Set<number>();
    handles.push(
      startGeneration(deps, request, {
        onChunk: (chunk) => {
          if (failed) return;
          if (chunk.index >= choices) {
            failed = true;
            cancelAll();
            rejectDone(new FleetError('generation_failed', `the worker answered for choice ${chunk.index} of a request with ${choices}`));
            return;
          }
          if (chunk.finishReason !== FinishReason.FINISH_REASON_UNSPECIFIED) finishedChoices.add(chunk.index);
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

export function finishReasonOf(reason: FinishReason): 'stop' | 'length' | 'tool_calls' | null {
  if (reason === FinishReason.FINISH_REASON_LENGTH) return 'length';
  if (reason === FinishReason.FINISH_REASON_TOOL_CALLS) return 'tool_calls';
  if (reason === FinishReason.FINISH_REASON_UNSPECIFIED) return null;
  return 'stop';
}
