/**
 * Planning gen-model-answer (pure): which model answers which question at which temperature
 * (FastChat's per-category temperature_config), skipping questions a model already answered.
 */
import { FleetError } from '../../common/errors';
import { qidKey, type Question } from './records';

/** FastChat's sampling temperature per MT-bench category; other categories use 0.7. */
export const TEMPERATURE_CONFIG: Readonly<Record<string, number>> = {
  writing: 0.7,
  roleplay: 0.7,
  extraction: 0.0,
  math: 0.0,
  coding: 0.0,
  reasoning: 0.0,
  stem: 0.1,
  humanities: 0.1,
  'arena-hard-200': 0.0,
};
export const DEFAULT_TEMPERATURE = 0.7;

/** FastChat's OPENAI_MODEL_LIST: these get the `chatgpt` template's system message. */
const OPENAI_MODELS = [
  'gpt-3.5-turbo', 'gpt-3.5-turbo-0301', 'gpt-3.5-turbo-0613', 'gpt-3.5-turbo-1106', 'gpt-3.5-turbo-0125',
  'gpt-4', 'gpt-4-0314', 'gpt-4-0613', 'gpt-4-turbo', 'gpt-4-1106-preview', 'gpt-4-0125-preview',
];
export const CHATGPT_SYSTEM_MESSAGE = 'You are a helpful assistant.';

export interface ModelSpec {
  /** Model name sent to the endpoint. */
  name: string;
  /** model_id in the answers and the answer file's name. */
  id: string;
}

export interface AnswerTask {
  model: ModelSpec;
  question: Question;
  temperature: number;
}

/** `name` or `name=id`; the id names a file, so it may not contain a path separator. */
export function parseModelSpec(raw: string): ModelSpec {
  const eq = raw.lastIndexOf('=');
  const name = eq >= 0 ? raw.slice(0, eq) : raw;
  const id = eq >= 0 ? raw.slice(eq + 1) : raw;
  if (name === '' || id === '') throw new FleetError('invalid_request', `model must be 'name' or 'name=id', got '${raw}'`, { param: 'model' });
  if (/[/\\]/.test(id) || id === '.' || id === '..') {
    throw new FleetError('invalid_request', `model id '${id}' names the answer file and cannot contain '/': give an id, e.g. '${name}=${id.split(/[/\\]/).pop() ?? 'my-model'}'`, { param: 'model' });
  }
  return { name, id };
}

/** `auto` = FastChat's behaviour (system message only for OpenAI's models), '' = none, else the text. */
export function systemMessageFor(setting: string, modelName: string): string {
  if (setting !== 'auto') return setting;
  return OPENAI_MODELS.includes(modelName) ? CHATGPT_SYSTEM_MESSAGE : '';
}

export function temperatureFor(question: Question, forceTemperature?: number): number {
  if (forceTemperature !== undefined && question.required_temperature !== undefined) {
    throw new FleetError('invalid_request', `question ${question.question_id} has required_temperature; --force-temperature cannot override it`, { param: 'force_temperature' });
  }
  if (forceTemperature !== undefined) return forceTemperature;
  if (question.required_temperature !== undefined) return question.required_temperature;
  return TEMPERATURE_CONFIG[question.category] ?? DEFAULT_TEMPERATURE;
}

/** Tasks model by model, in question order; `answered` holds each model id's answered question keys. */
export function planAnswerTasks(
  questions: readonly Question[],
  models: readonly ModelSpec[],
  answered: ReadonlyMap<string, ReadonlySet<string>>,
  forceTemperature?: number,
): AnswerTask[] {
  const temperatures = questions.map((q) => temperatureFor(q, forceTemperature));
  return models.flatMap((model) =>
    questions
      .map((question, i) => ({ model, question, temperature: temperatures[i] }))
      .filter((task) => !answered.get(model.id)?.has(qidKey(task.question.question_id))),
  );
}
