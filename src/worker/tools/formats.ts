/**
 * The tool-call formats models are trained on — how a call looks in the model's output, how calls are forced with a
 * grammar, and how tools are described to a model whose chat template has no tool syntax:
 *
 *  - `hermes` (Hermes 2 Pro, Qwen2.5 / Qwen3, many ChatML models): `<tool_call>\n{"name": …, "arguments": {…}}\n</tool_call>`,
 *    one block per call;
 *  - `llama3_json` (Llama 3.1 / 3.2 / 3.3): the whole reply is `{"name": …, "parameters": {…}}`, optionally after
 *    `<|python_tag|>`, several separated by `; `;
 *  - `mistral` (Mistral 7B v0.3, Nemo, Small): `[TOOL_CALLS][{"name": …, "arguments": {…}}, …]`;
 *  - `smollm2` (SmolLM2-Instruct, trained on APIGen-style data): `<tool_call>[{"name": …, "arguments": {…}}, …]</tool_call>`.
 */
import { randomBytes } from 'node:crypto';

export const TOOL_PARSER_NAMES = ['hermes', 'llama3_json', 'mistral', 'smollm2'] as const;
export type ToolParserName = (typeof TOOL_PARSER_NAMES)[number];

export interface ToolFormat {
  readonly name: ToolParserName;
  /** Text that opens a section of calls. */
  readonly startMarkers: readonly string[];
  /** Text that closes a section (none: the section ends with the output or at text that is not a call). */
  readonly endMarker?: string;
  /** A reply whose first non-blank character is `{` is a call (Llama 3's JSON calls have no marker). */
  readonly jsonAtStart: boolean;
  /** Keys of the envelope that hold the arguments. */
  readonly argumentKeys: readonly string[];
  /** The key the forced grammar writes. */
  readonly argumentKey: string;
  /** The start marker is a special token: decode with skip_special_tokens = false while tools are offered. */
  readonly needsSpecialTokens: boolean;
  /** Text around the forced calls: [section open, separator between calls, section close]; each call is one envelope. */
  readonly forced: { readonly open: string; readonly callOpen: string; readonly callClose: string; readonly separator: string; readonly close: string };
  /** A new call id in the format's convention. */
  newId(): string;
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function alnum(n: number): string {
  const bytes = randomBytes(n);
  let out = '';
  for (const b of bytes) out += ALNUM[b % ALNUM.length];
  return out;
}

const openaiId = (): string => `call_${alnum(24)}`;

export const TOOL_FORMATS: Readonly<Record<ToolParserName, ToolFormat>> = {
  hermes: {
    name: 'hermes',
    startMarkers: ['<tool_call>'],
    endMarker: '</tool_call>',
    jsonAtStart: false,
    argumentKeys: ['arguments', 'parameters'],
    argumentKey: 'arguments',
    needsSpecialTokens: false,
    forced: { open: '', callOpen: '<tool_call>\n', callClose: '\n</tool_call>', separator: '\n', close: '' },
    newId: openaiId,
  },
  llama3_json: {
    name: 'llama3_json',
    startMarkers: ['<|python_tag|>'],
    jsonAtStart: true,
    argumentKeys: ['parameters', 'arguments'],
    argumentKey: 'parameters',
    needsSpecialTokens: true,
    forced: { open: '', callOpen: '', callClose: '', separator: '; ', close: '' },
    newId: openaiId,
  },
  mistral: {
    name: 'mistral',
    startMarkers: ['[TOOL_CALLS]'],
    jsonAtStart: false,
    argumentKeys: ['arguments', 'parameters'],
    argumentKey: 'arguments',
    needsSpecialTokens: true,
    forced: { open: '[TOOL_CALLS][', callOpen: '', callClose: '', separator: ', ', close: ']' },
    // Mistral's templates require ids of exactly 9 letters and digits.
    newId: () => alnum(9),
  },
  smollm2: {
    name: 'smollm2',
    startMarkers: ['<tool_call>'],
    endMarker: '</tool_call>',
    jsonAtStart: false,
    argumentKeys: ['arguments', 'parameters'],
    argumentKey: 'arguments',
    needsSpecialTokens: false,
    forced: { open: '<tool_call>[', callOpen: '', callClose: '', separator: ', ', close: ']</tool_call>' },
    newId: openaiId,
  },
};

export function isToolParserName(name: string): name is ToolParserName {
  return (TOOL_PARSER_NAMES as readonly string[]).includes(name);
}
