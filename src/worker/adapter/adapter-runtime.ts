/**
 * An external engine behind the worker's runtime interface: each Generate becomes one streaming upstream call,
 * whose deltas are relayed as they come; cancellation aborts the upstream request. The worker's service,
 * registration, metrics and drain are shared with the ONNX engine (src/worker/service.ts, main.ts).
 */
import type { EngineObserver } from '../engine/engine-types';
import { FleetError } from '../../common/errors';

import { FinishReason, GenerateResponse, ModelKind, type CountTokensRequest, type CountTokensResponse, type GenerateRequest, type ModelInfo, type SamplingParams, type ToolCallDelta } from '../../common/gen/worker';
import { hopClockMs, hopStamp, type Logger } from '../../common/log';
import type { ExternalRuntime, ExternalSink, WorkerLoad } from '../runtime';
import { countUpstreamTokens } from './count-tokens';
import type { Dialect } from './dialects';
import type { UpstreamMonitor } from './monitor';
import { toUpstreamCall } from './request-map';
import { fromUpstreamError, isConnectionFailure } from './upstream-errors';
import type { Upstream, UpstreamChunk, UpstreamToolCallDelta } from './upstream';

export interface AdapterRuntimeOptions {
  upstream: Upstream;
  monitor: UpstreamMonitor;
  dialect: Dialect;
  /** The model name sent upstream. */
  upstreamModel: string;
  info: ModelInfo;
  /** Requests sent upstream at once; beyond it (plus maxQueue) requests are refused with RESOURCE_EXHAUSTED. */
  maxConcurrency: number;
  maxQueue: number;
  logger: Logger;
  /** Sampling defaults for fields a request leaves unset (an endpoint file's recommended_config). */
  defaults?: Partial<SamplingParams>;
  observer?: Pick<EngineObserver, 'onTokens' | 'onFirstToken'>;
}

function finishReasonOf(reason: string): FinishReason {
  if (reason === 'tool_calls') return FinishReason.FINISH_REASON_TOOL_CALLS;
  return reason === 'length' ? FinishReason.FINISH_REASON_LENGTH : FinishReason.FINISH_REASON_STOP;
}

/**
 * The upstream's tool-call deltas in the worker's shape: only the first delta of a call carries its id and name (some
 * servers repeat them); `announced` holds the indexes seen so far in this stream.
 */
function toolDeltas(deltas: UpstreamToolCallDelta[] | null | undefined, announced: Set<number>): ToolCallDelta[] {
  return (deltas ?? []).map((d, i) => {
    const index = d.index ?? i;
    const first = !announced.has(index);
    announced.add(index);
    return { index, id: first ? d.id || `call_${index}` : '', name: first ? d.function?.name ?? '' : '', arguments: d.function?.arguments ?? '' };
  });
}

function withDefaults(request: GenerateRequest, defaults: Partial<SamplingParams> | undefined): GenerateRequest {
  if (!defaults || !request.params) return defaults ? { ...request, params: { ...defaults, stop: [], stopTokenIds: [], logitBias: {}, ignoreEos: false, echo: false, includeStopStrInOutput: false, skipSpecialTokens: true, constraint: undefined } } : request;
  const params: SamplingParams = { ...request.params };
  for (const [key, value] of Object.entries(defaults) as Array<[keyof SamplingParams, SamplingParams[keyof SamplingParams]]>) {
    if (params[key] === undefined) (params as unknown as Record<string, unknown>)[key] = value;
  }
  return { ...request, params };
}

/** Builds the runtime; `info` is the one GetModelInfo answers. */
export function createAdapterRuntime(options: AdapterRuntimeOptions): ExternalRuntime {
  const inflight = new Set<AbortController>();
  let draining = false;
  let generated = 0;
  let speed = 0;
  let idle: (() => void) | undefined;
  const { upstream, monitor, dialect, logger } = options;

  const finished = (ac: AbortController): void => {
    inflight.delete(ac);
    if (inflight.size === 0) idle?.();
  };

  const noteSpeed = (tokens: number, seconds: number): void => {
    if (tokens < 2 || seconds <= 0) return;
    const s = tokens / seconds;
    speed = speed === 0 ? s : 0.8 * speed + 0.2 * s;
  };

  /** One upstream call relayed to `sink`; the request leaves the in-flight set once it is over, however it ended. */
  function relay(request: GenerateRequest, body: ReturnType<typeof toUpstreamCall>, ac: AbortController, sink: ExternalSink, receivedAt: number): void {
    const start = performance.now();
    let firstAt = 0;
    let pieces = 0;
    let finish: string | undefined;
    let usage: UpstreamChunk['usage'];
    const announced = new Set<number>();
    const traced = receivedAt > 0;
    const calledAt = traced ? hopClockMs() : 0;
    let answeredAt = 0;
    // Hop timestamps of the first token, logged once the request is over (the log line is never on the path it measures).
    let hops: Record<string, number> | undefined;
    const over = (): void => {
      if (hops) logger.debug({ requestId: request.requestId, hops }, 'adapter first token');
      finished(ac);
    };
    const failed = (err: unknown): void => {
      if (ac.signal.aborted) {
        sink.fail(new FleetError('cancelled', 'request cancelled'));
      } else {
        if (isConnectionFailure(err)) monitor.markDown((err as Error).message);
        const fe = fromUpstreamError(err, upstream.label);
        logger.warn({ requestId: request.requestId, kind: fe.kind, err: fe.message }, 'upstream request failed');
        sink.fail(fe);
      }
      over();
    };
    upstream.stream(body.endpoint, body.body, ac.signal, {
      headers: () => {
        if (traced) answeredAt = hopClockMs();
        sink.accepted();
        monitor.noteAlive();
      },
      chunk: (chunk) => {
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices?.[0];
        if (choice) {
          const text = choice.delta?.content ?? choice.text ?? '';
          const toolCalls = choice.delta?.tool_calls ? toolDeltas(choice.delta.tool_calls, announced) : [];
          if (text !== '' || toolCalls.length > 0) {
            // The chunk goes out first; the bookkeeping of the first token after it.
            const parsedAt = traced && pieces === 0 ? hopClockMs() : 0;
            sink.chunk(GenerateResponse.fromPartial({ text, toolCalls, matchedStopTokenId: -1 }));
            pieces += 1;
            if (pieces === 1) {
              firstAt = performance.now();
              // The chunk's delivery (a gRPC write, or a microtask in-process) and the gateway's SSE write run before
              // the first-token metric: it waits for the next turn of the event loop.
              const seconds = (firstAt - start) / 1000;
              setImmediate(() => options.observer?.onFirstToken?.(seconds));
              hops = traced ? { received: hopStamp(receivedAt), upstreamCalled: hopStamp(calledAt), upstreamAnswered: hopStamp(answeredAt), upstreamFirstChunk: hopStamp(parsedAt), relayed: hopStamp(hopClockMs()) } : undefined;
            }
          }
          if (choice.finish_reason) finish = choice.finish_reason;
        }
        monitor.noteAlive();
      },
      end: () => {
        if (finish === undefined) failed(new FleetError('generation_failed', `upstream ${upstream.label} ended the stream without a finish reason`));
        else completed(finish);
      },
      fail: failed,
    });

    function completed(reason: string): void {
      const completion = usage?.completion_tokens ?? pieces;
      const prompt = usage?.prompt_tokens ?? 0;
      generated += completion;
      options.observer?.onTokens?.(completion);
      if (firstAt > 0) noteSpeed(completion - 1, (performance.now() - firstAt) / 1000);
      sink.chunk(GenerateResponse.fromPartial({
        finishReason: finishReasonOf(reason),
        usage: { promptTokens: prompt, completionTokens: completion, totalTokens: prompt + completion },
        matchedStopTokenId: -1,
      }));
      sink.end();
      over();
    }
  }

  const runtime: ExternalRuntime = {
    kind: 'external',
    info: options.info,
    generate(request, sink) {
      if (draining) throw new FleetError('unavailable', 'worker is shutting down', { retryAfterS: 1 });
      if (!monitor.healthy()) throw new FleetError('unavailable', `upstream ${upstream.label} is down`, { retryAfterS: 1 });
      if (inflight.size >= options.maxConcurrency + options.maxQueue) {
        throw new FleetError('overloaded', `worker has ${inflight.size} requests in flight to ${upstream.label}; at most ${options.maxConcurrency + options.maxQueue}`, { retryAfterS: 1 });
      }
      // Hop timestamps (src/common/log.ts) only when they are logged.
      const receivedAt = logger.isLevelEnabled('debug') ? hopClockMs() : 0;
      const call = toUpstreamCall(withDefaults(request, options.defaults), options.upstreamModel, dialect);
      const ac = new AbortController();
      inflight.add(ac);
      // grpc-js reports every closed call as cancelled, answered or not. Once the answer is complete there is nothing
      // upstream to stop, and aborting would destroy the upstream request whose response terminator may still be on
      // its way (llama-cpp-python ends its response a little after `[DONE]`): the kept-alive connection would close
      // and the next request would open a new one.
      let answered = false;
      const tracked: ExternalSink = {
        accepted: () => sink.accepted(),
        chunk: (response) => sink.chunk(response),
        end: () => {
          answered = true;
          sink.end();
        },
        fail: (err) => {
          answered = true;
          sink.fail(err);
        },
      };
      relay(request, call, ac, tracked, receivedAt);
      return { cancel: () => {
        if (!answered) ac.abort();
      } };
    },
    countTokens: (request: CountTokensRequest): Promise<CountTokensResponse> => countUpstreamTokens(upstream, dialect, options.upstreamModel, request, options.info.contextLength),
    healthy: () => monitor.healthy(),
    status(): WorkerLoad {
      const engine = monitor.engineQueue();
      return {
        queueLength: engine ? engine.waiting : 0,
        running: engine ? engine.running : inflight.size,
        maxConcurrency: options.maxConcurrency,
        speed,
        generatedTokens: generated,
        draining: draining || !monitor.healthy(),
      };
    },
    drain: async () => {
      draining = true;
      if (inflight.size === 0) return;
      await new Promise<void>((resolve) => { idle = resolve; });
    },
    abortAll: () => {
      for (const ac of inflight) ac.abort();
    },
    release: async () => {
      monitor.stop();
      upstream.close();
      for (const ac of inflight) ac.abort();
    },
  };
  return runtime;
}

export { ModelKind };
