/**
 * Tool calls on the worker's response stream: each engine chunk's text goes through the request's ToolCallStream,
 * which splits it into content and call deltas; the last chunk flushes what was held and says `tool_calls` when the
 * model called a function and stopped by itself.
 */
import { FinishReason, type GenerateResponse, type ToolCallDelta } from '../../common/gen/worker';
import { ToolCallStream, type StreamOutput } from './call-stream';
import type { RequestTools } from './request-tools';

/** Joins consecutive deltas of the same call (the first keeps its id and name). */
export function coalesceDeltas(deltas: readonly ToolCallDelta[]): ToolCallDelta[] {
  const out: ToolCallDelta[] = [];
  for (const d of deltas) {
    const last = out[out.length - 1];
    if (last && last.index === d.index && d.id === '') out[out.length - 1] = { ...last, arguments: last.arguments + d.arguments };
    else out.push({ ...d });
  }
  return out;
}

export class ToolResponseStream {
  private readonly stream: ToolCallStream;

  constructor(tools: RequestTools) {
    this.stream = new ToolCallStream(tools.format, new Set(tools.functions.map((f) => f.name)), tools.parallel ? undefined : 1);
  }

  /** The response with its text parsed: content stays text, calls become tool_calls deltas. */
  apply(response: GenerateResponse): GenerateResponse {
    const finished = response.finishReason !== FinishReason.FINISH_REASON_UNSPECIFIED;
    const out: StreamOutput = this.stream.push(response.text);
    if (finished) {
      const last = this.stream.finish();
      out.content += last.content;
      out.calls.push(...last.calls);
    }
    const finishReason = finished && response.finishReason === FinishReason.FINISH_REASON_STOP && this.stream.callCount > 0 ? FinishReason.FINISH_REASON_TOOL_CALLS : response.finishReason;
    return { ...response, text: out.content, toolCalls: coalesceDeltas(out.calls), finishReason };
  }
}
