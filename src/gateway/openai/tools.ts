/**
 * Tool calling on /v1/chat/completions: `tools`, `tool_choice`, `parallel_tool_calls` read into the worker's
 * ChatInput fields (tools_json, ToolOptions), checked with the chat library's rules and TOOL_LIMITS; and the
 * conversation's tool turns (assistant `tool_calls`, `tool` messages with `tool_call_id`) checked and carried.
 */
import type { ChatMessage, ToolOptions } from '../../common/gen/worker';
import { TOOL_LIMITS } from '../../common/request-limits';
import { parseToolChoice, parseToolDefinitions, toolsForTemplate, type ValidChatMessage } from '../../chat';
import { invalid, optBool, type Body } from './fields';

export const TOOL_FIELDS = ['tools', 'tool_choice', 'parallel_tool_calls'];

export interface ValidTools {
  /** The tools array as JSON ('' when none). */
  toolsJson: string;
  toolOptions?: ToolOptions;
  /** tool_choice is not "none" and tools are given: the model may call them. */
  offered: boolean;
}

export function readTools(body: Body): ValidTools {
  const tools = parseToolDefinitions(body.tools);
  const choice = parseToolChoice(body.tool_choice, tools);
  const parallel = optBool(body, 'parallel_tool_calls');
  if (tools.length === 0) return { toolsJson: '', offered: false };
  return {
    toolsJson: JSON.stringify(toolsForTemplate(tools)),
    toolOptions: {
      toolChoice: choice.kind,
      functionName: choice.kind === 'function' ? choice.name : '',
      parallelToolCalls: parallel,
    },
    offered: choice.kind !== 'none',
  };
}

/** A validated message in the proto's shape; tool turns must be complete (a tool result names its call). */
export function toProtoMessage(m: ValidChatMessage, i: number): ChatMessage {
  if (m.role === 'tool' && (m.toolCallId === undefined || m.toolCallId === '')) throw invalid(`messages[${i}].tool_call_id`, 'is required for a tool message');
  const calls = m.toolCalls ?? [];
  if (calls.length > TOOL_LIMITS.maxCallsPerMessage) throw invalid(`messages[${i}].tool_calls`, `at most ${TOOL_LIMITS.maxCallsPerMessage} calls, got ${calls.length}`);
  const toolCallsJson = calls.length === 0 ? '' : JSON.stringify(calls.map((c, j) => {
    if (c.id === undefined || c.id === '') throw invalid(`messages[${i}].tool_calls[${j}].id`, 'is required');
    return { id: c.id, type: 'function', function: { name: c.function.name, arguments: typeof c.function.arguments === 'string' ? c.function.arguments : JSON.stringify(c.function.arguments) } };
  }));
  return { role: m.role, content: m.content ?? '', name: m.name ?? '', toolCallId: m.toolCallId ?? '', toolCallsJson };
}
