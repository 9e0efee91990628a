/**
 * Which tool-call format a model writes, highest priority first: `--tool-parser NAME`; markers in the model's Jinja
 * chat template (`[TOOL_CALLS]` → mistral, `<|python_tag|>` or an `ipython` role → llama3_json,
 * `<tool_call>` → hermes); the model's
 * path or served names (SmolLM2 → smollm2, Llama 3 → llama3_json, Mistral / Mixtral → mistral, Qwen / Hermes →
 * hermes); else hermes, the most common format (a template without tool syntax then gets hermes' tool prompt).
 */
import { FleetError } from '../../common/errors';
import type { TemplateSelection } from '../../chat';
import { isToolParserName, TOOL_FORMATS, TOOL_PARSER_NAMES, type ToolFormat, type ToolParserName } from './formats';

export interface ToolFormatChoice {
  readonly format: ToolFormat;
  readonly reason: string;
}

const TEMPLATE_MARKERS: ReadonlyArray<[string, ToolParserName]> = [
  ['[TOOL_CALLS]', 'mistral'],
  ['<|python_tag|>', 'llama3_json'],
  ['ipython', 'llama3_json'],
  ['<tool_call>', 'hermes'],
];

const NAME_PATTERNS: ReadonlyArray<[RegExp, ToolParserName]> = [
  [/smollm2/i, 'smollm2'],
  [/llama[-_ ]?3/i, 'llama3_json'],
  [/mistral|mixtral/i, 'mistral'],
  [/qwen|hermes/i, 'hermes'],
];

/** Checks a `--tool-parser` value ('' = choose from the model). */
export function checkToolParserName(name: string): ToolParserName | undefined {
  if (name === '') return undefined;
  if (!isToolParserName(name)) throw new FleetError('invalid_request', `--tool-parser: unknown parser '${name}' (one of ${TOOL_PARSER_NAMES.join(', ')})`, { param: 'tool_parser' });
  return name;
}

export function selectToolFormat(input: { override?: string; modelPath: string; modelNames: readonly string[]; selection: TemplateSelection }): ToolFormatChoice {
  const override = checkToolParserName(input.override ?? '');
  if (override) return { format: TOOL_FORMATS[override], reason: `--tool-parser ${override}` };
  if (input.selection.kind === 'jinja') {
    const source = [input.selection.chatTemplate, ...Object.values(input.selection.namedChatTemplates)].join('\n');
    for (const [marker, name] of TEMPLATE_MARKERS) if (source.includes(marker)) return { format: TOOL_FORMATS[name], reason: `the chat template writes ${marker}` };
  }
  for (const candidate of [input.modelPath, ...input.modelNames]) {
    for (const [pattern, name] of NAME_PATTERNS) if (pattern.test(candidate)) return { format: TOOL_FORMATS[name], reason: `model '${candidate}' matches ${pattern.source}` };
  }
  return { format: TOOL_FORMATS.hermes, reason: 'default' };
}
