/**
 * FastChat's judge prompts (`judge_prompts.jsonl`): parsing, validation and the rule that picks a
 * prompt from the question's category and the judged turn (reference-guided for NEED_REF_CATS).
 */
import { readFileSync } from 'node:fs';
import { FleetError } from '../../common/errors';
import { templateFields } from './python-format';

/** Categories judged with a reference answer (FastChat's NEED_REF_CATS). */
export const NEED_REF_CATS: readonly string[] = ['math', 'reasoning', 'coding', 'arena-hard-200'];

export type JudgeKind = 'single' | 'pairwise';
export type OutputFormat = '[[rating]]' | '[[A]]' | '[[rating_a,rating_b]]';

const FORMATS_OF: Record<JudgeKind, readonly OutputFormat[]> = {
  single: ['[[rating]]'],
  pairwise: ['[[A]]', '[[rating_a,rating_b]]'],
};

export interface JudgePrompt {
  name: string;
  type: JudgeKind;
  systemPrompt: string;
  promptTemplate: string;
  outputFormat: OutputFormat;
  /** The template shows both turns (uses {question_1}/{question_2}). */
  multiTurn: boolean;
  /** The template shows reference answers ({ref_answer_1}/{ref_answer_2}). */
  refBased: boolean;
}

export type JudgePrompts = ReadonlyMap<string, JudgePrompt>;

/** FastChat's choice: reference-guided prompts for NEED_REF_CATS, multi-turn prompts for turn 2. */
export function selectPromptName(kind: JudgeKind, category: string, turn: number): string {
  const math = NEED_REF_CATS.includes(category);
  const base = kind === 'single' ? (math ? 'single-math-v1' : 'single-v1') : math ? 'pair-math-v1' : 'pair-v2';
  return turn === 2 ? `${base}-multi-turn` : base;
}

export function loadJudgePrompts(path: string): JudgePrompts {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new FleetError('invalid_request', `cannot read judge prompt file ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseJudgePrompts(text, path);
}

/** Parses judge_prompts.jsonl; a later line with the same name replaces an earlier one (as FastChat's dict). */
export function parseJudgePrompts(text: string, source: string): JudgePrompts {
  const prompts = new Map<string, JudgePrompt>();
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${source}:${index + 1}`;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      throw new FleetError('invalid_request', `${where}: not valid JSON: ${(err as Error).message}`);
    }
    const prompt = toJudgePrompt(raw, where);
    prompts.set(prompt.name, prompt);
  });
  if (prompts.size === 0) throw new FleetError('invalid_request', `${source}: no judge prompts`);
  return prompts;
}

function toJudgePrompt(raw: unknown, where: string): JudgePrompt {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new FleetError('invalid_request', `${where}: expected a JSON object`);
  const obj = raw as Record<string, unknown>;
  const str = (key: string): string => {
    const value = obj[key];
    if (typeof value !== 'string') throw new FleetError('invalid_request', `${where}: '${key}' must be a string`);
    return value;
  };
  const type = str('type');
  if (type !== 'single' && type !== 'pairwise') throw new FleetError('invalid_request', `${where}: 'type' must be single or pairwise, got '${type}'`);
  const outputFormat = str('output_format');
  if (!(FORMATS_OF[type] as readonly string[]).includes(outputFormat)) {
    throw new FleetError('invalid_request', `${where}: output_format '${outputFormat}' is not supported for ${type} prompts (use ${FORMATS_OF[type].join(' or ')})`);
  }
  const promptTemplate = str('prompt_template');
  const fields = templateFields(promptTemplate);
  return {
    name: str('name'),
    type,
    systemPrompt: str('system_prompt'),
    promptTemplate,
    outputFormat: outputFormat as OutputFormat,
    multiTurn: fields.includes('question_1') || fields.includes('question_2'),
    refBased: fields.includes('ref_answer_1') || fields.includes('ref_answer_2'),
  };
}
