/**
 * The grammar that forces tool calls (`tool_choice: "required"` or a named function): the model's own call format
 * around envelopes `{"name": "<one of the functions>", "<arguments key>": <arguments>}`, where each function's
 * arguments follow its parameters schema (one-line JSON, as response_format compiles it). Built as an xgrammar
 * structural tag: each function is a tag whose begin text fixes its name and whose content is the grammar of its
 * parameters; tags are joined by the format's separator, at least one, exactly one unless parallel calls are allowed.
 * The parameters' grammar is response_format's (schema-ebnf.ts): one-line JSON with bounded integers compiled exactly
 * (xgrammar's own JSON-schema conversion leaks integer ranges: [-5, 120] accepts 125).
 * Schemas are checked first (unsupported keywords are a 400 naming the tool), like response_format's.
 */
import type { ToolFunction } from '../../chat';
import type { GrammarSource } from '../grammar/sources';
import { checkJsonSchema } from '../grammar/schema-check';
import { jsonSchemaEbnf } from '../grammar/schema-ebnf';
import type { ToolFormat } from './formats';

export interface ForcedCalls {
  readonly format: ToolFormat;
  /** The functions the model may call (one for a named tool_choice); `index` is the position in the request's tools. */
  readonly functions: ReadonlyArray<{ readonly tool: ToolFunction; readonly index: number }>;
  /** More than one call allowed. */
  readonly parallel: boolean;
}

/** The xgrammar structural tag (JSON text) of the forced calls; schemas must have passed checkJsonSchema. */
export async function forcedCallsTag(format: ToolFormat, functions: ReadonlyArray<{ name: string; schema: string }>, parallel: boolean): Promise<string> {
  const f = format.forced;
  const tags = [];
  for (const { name, schema } of functions) {
    tags.push({
      type: 'tag' as const,
      begin: `${f.callOpen}{"name": ${JSON.stringify(name)}, ${JSON.stringify(format.argumentKey)}: `,
      content: { type: 'grammar' as const, grammar: await jsonSchemaEbnf(schema) },
      end: `}${f.callClose}`,
    });
  }
  const calls = { type: 'tags_with_separator' as const, tags, separator: f.separator, at_least_one: true, stop_after_first: !parallel };
  const body = f.open === '' && f.close === '' ? calls : { type: 'tag' as const, begin: f.open, content: calls, end: f.close };
  return JSON.stringify({ type: 'structural_tag', format: body });
}

export function forcedCallsSource(forced: ForcedCalls): GrammarSource {
  const { format, parallel } = forced;
  const schemas = forced.functions.map(({ tool, index }) => ({
    name: tool.name,
    schema: checkJsonSchema(JSON.stringify(tool.parameters), `tools[${index}].function.parameters`),
  }));
  return {
    key: `tools:${format.name}:${parallel ? 'n' : '1'}:${JSON.stringify(schemas)}`,
    param: 'tools',
    compile: async (compiler) => compiler.compileStructuralTag(await forcedCallsTag(format, schemas, parallel)),
  };
}
