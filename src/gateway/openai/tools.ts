/**
 * Tool calling on /v1/chat/completions: `tools`, `tool_choice`, `parallel_tool_calls` read into the worker's
 * ChatInput fields (tools_json, ToolOptions), checked with the chat library's rules and TOOL_LIMITS; and the
 * conversation's tool turns (assistant `tool_calls`, `tool` messages with `tool_call_id`) checked and carried.
 */
import type { ToolOptions } from '../../common/gen/worker';
import { parseToolChoice, parseToolDefinitions, toolsForTemplate } from '../../chat/tools';
import { optBool, type Body } from './fields';

export const TOOL_FIELDS = ['tools', 'tool_choice', 'parallel_tool_calls'];

export interface ValidTools {
  /** The tools array as JSON ('' when none). */
  toolsJson: string;
  toolOptions?: ToolOptions;
  /** tool_choice is not "none" and tools are given: the model may call them. */
  offered: boolean;
}

/** A request without tool fields. */
export const NO_TOOLS: ValidTools = { toolsJson: '', offered: false };

export function readTools(body: Body): ValidTools {
  const tools = parseToolDefinitions(body.tools);
  const choice = parseToolChoice(body.tool_choice, tools);
  const parallel = optBool(body, 'parallel_tool_calls');
  if (tools.length === 0) return NO_TOOLS;
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
