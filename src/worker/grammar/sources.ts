/**
 * Turns a request's constraint into a grammar source: a cache key (what identifies the compiled grammar for this
 * worker's tokenizer) and how to compile it. Everything is checked here, before the engine sees it (the engine
 * aborts on input it cannot parse).
 */
import { FleetError } from '../../common/errors';
import type { Constraint } from '../../common/gen/worker';
import { CONSTRAINT_LIMITS } from '../../common/request-limits';
import type { CompiledGrammar, GrammarCompiler as Compiler } from '@mlc-ai/web-xgrammar';
import { jsonSchemaEbnf } from './schema-ebnf';
import { checkJsonSchema, checkRegex } from './schema-check';

export type { CompiledGrammar };
export type StructuralTagSpec = Parameters<Compiler['compileStructuralTag']>[0];

export interface GrammarSource {
  /** Identifies the grammar (with the worker's one tokenizer, this is the compile cache's key). */
  readonly key: string;
  /** The request field a compile error names (default: response_format). */
  readonly param?: string;
  compile(compiler: Compiler): Promise<CompiledGrammar>;
}

/**
 * A JSON Schema, compiled to one-line JSON (", " and ": " separators; no free whitespace a model could loop in), with
 * bounded integers compiled exactly (schema-ebnf.ts).
 */
export function jsonSchemaSource(schemaText: string, param: string): GrammarSource {
  const normalized = checkJsonSchema(schemaText, param);
  return { key: `schema:${normalized}`, compile: async (c) => c.compileGrammar(await jsonSchemaEbnf(normalized)) };
}

/** Any JSON object. */
export function jsonObjectSource(): GrammarSource {
  return { key: 'object', compile: (c) => c.compileJSONSchema('{"type":"object"}', false, -1, undefined, false) };
}

export function regexSource(pattern: string, param: string): GrammarSource {
  checkRegex(pattern, '', param);
  return { key: `regex:${pattern}`, compile: (c) => c.compileStructuralTag({ type: 'structural_tag', format: { type: 'regex', pattern } }) };
}

export function choiceSource(choices: string[], param: string): GrammarSource {
  const invalid = (message: string): FleetError => new FleetError('invalid_request', `${param}: ${message}`, { param });
  if (choices.length === 0) throw invalid('needs at least one choice');
  if (choices.length > CONSTRAINT_LIMITS.maxChoices) throw invalid(`at most ${CONSTRAINT_LIMITS.maxChoices} choices, got ${choices.length}`);
  for (const c of choices) {
    if (c.length === 0) throw invalid('choices must not be empty');
    if (c.length > CONSTRAINT_LIMITS.maxChoiceLength) throw invalid(`a choice is longer than ${CONSTRAINT_LIMITS.maxChoiceLength} characters`);
  }
  // EBNF string literals take JSON's escapes.
  const ebnf = `root ::= ${[...new Set(choices)].map((c) => JSON.stringify(c)).join(' | ')}`;
  return { key: `choice:${ebnf}`, compile: (c) => c.compileGrammar(ebnf) };
}

/** An xgrammar structural tag (tool calls: fixed text around JSON that follows a schema). Schemas inside are checked by the caller. */
export function structuralTagSource(tag: StructuralTagSpec): GrammarSource {
  const text = JSON.stringify(tag);
  return { key: `tag:${text}`, compile: (c) => c.compileStructuralTag(text) };
}

/** The source of a SamplingParams constraint (param names the OpenAI field it came from, for errors). */
export function constraintSource(constraint: Constraint): GrammarSource | undefined {
  const kind = constraint.kind;
  if (kind === undefined) return undefined;
  switch (kind.$case) {
    case 'jsonSchema':
      return jsonSchemaSource(kind.value, 'response_format');
    case 'jsonObject':
      return kind.value ? jsonObjectSource() : undefined;
    case 'regex':
      return regexSource(kind.value, 'guided_regex');
    case 'choice':
      return choiceSource(kind.value.choices, 'guided_choice');
  }
}
