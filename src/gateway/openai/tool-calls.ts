/** The worker's tool-call deltas in OpenAI's shapes: streamed deltas as they come, or whole calls on the message. */
import type { ToolCallDelta } from '../../common/gen/worker';
import type { WireChatChoice, WireToolCall, WireToolCallDelta } from './wire';

export function toolCallDeltas(deltas: readonly ToolCallDelta[]): WireToolCallDelta[] {
  return deltas.map((d) => (d.id !== '' ? { index: d.index, id: d.id, type: 'function', function: { name: d.name, arguments: d.arguments } } : { index: d.index, function: { arguments: d.arguments } }));
}

/** Collects one choice's deltas into whole calls. */
export class ToolCallAssembler {
  private readonly calls: WireToolCall[] = [];

  add(deltas: readonly ToolCallDelta[]): void {
    for (const d of deltas) {
      if (d.id !== '') this.calls[d.index] = { id: d.id, type: 'function', function: { name: d.name, arguments: d.arguments } };
      else if (this.calls[d.index]) this.calls[d.index].function.arguments += d.arguments;
    }
  }

  /** Puts the calls on the message; content is null when the reply is only calls (as OpenAI answers). */
  finish(message: WireChatChoice['message']): void {
    const calls = this.calls.filter((c) => c !== undefined);
    if (calls.length === 0) return;
    message.tool_calls = calls;
    if (message.content !== null && message.content.trim() === '') message.content = null;
  }
}
