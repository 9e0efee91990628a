/**
 * Renders conversations given in FastChat's own shape — `{template, system_message, messages: [[role, text|null], …]}`
 * as in the golden vectors — exactly as FastChat's `get_prompt()` does. One bad record gives an error entry,
 * never a dropped record or a crash. This is the code path of `fleetchat template render --batch`.
 */
import { FleetError } from '../common/errors';
import { type ConvMessage, findConvTemplate } from './conv-template';
import { getPrompt, newConversation } from './conversation';
import { PythonError } from './python-strings';

export interface FastChatRecordResult {
  template: string | null;
  prompt: string | null;
  stop_str: string | string[] | null;
  stop_token_ids: number[] | null;
  /** FastChat's exception text (`ValueError: Invalid style: None`), or why the record is malformed. */
  error: string | null;
}

interface ValidFastChatRecord {
  template: string;
  systemMessage: string | undefined;
  messages: ConvMessage[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPair(value: unknown): value is [string, string | null] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && (typeof value[1] === 'string' || value[1] === null);
}

/** Checks one conversation in FastChat's shape; returns the reason it is malformed as a string. */
export function parseFastChatMessages(value: unknown): ConvMessage[] | string {
  if (!Array.isArray(value)) return 'messages must be an array of [role, text|null] pairs';
  const bad = value.findIndex((m) => !isPair(m));
  if (bad >= 0) return `messages[${bad}] must be a [role, text|null] pair`;
  return (value as [string, string | null][]).map(([role, text]) => [role, text] as const);
}

function parseRecord(value: unknown): ValidFastChatRecord | string {
  if (!isRecord(value)) return 'record must be an object';
  if (typeof value.template !== 'string') return 'template must be a string';
  const sys = value.system_message;
  if (sys !== undefined && sys !== null && typeof sys !== 'string') return 'system_message must be a string or null';
  const messages = parseFastChatMessages(value.messages);
  if (typeof messages === 'string') return messages;
  return { template: value.template, systemMessage: typeof sys === 'string' ? sys : undefined, messages };
}

function failure(template: string | null, error: string): FastChatRecordResult {
  return { template, prompt: null, stop_str: null, stop_token_ids: null, error };
}

/** FastChat's result for one record: prompt and stops, or the error FastChat raises. */
export function renderFastChatRecord(value: unknown): FastChatRecordResult {
  const parsed = parseRecord(value);
  const name = isRecord(value) && typeof value.template === 'string' ? value.template : null;
  if (typeof parsed === 'string') return failure(name, `invalid record: ${parsed}`);
  const template = findConvTemplate(parsed.template);
  if (!template) return failure(parsed.template, `KeyError: '${parsed.template}'`);
  try {
    const prompt = getPrompt(newConversation(template, { systemMessage: parsed.systemMessage, messages: parsed.messages }));
    const stop = template.stopStr;
    return {
      template: parsed.template,
      prompt,
      stop_str: stop === null || typeof stop === 'string' ? stop : [...stop],
      stop_token_ids: template.stopTokenIds === null ? null : [...template.stopTokenIds],
      error: null,
    };
  } catch (err) {
    if (err instanceof PythonError) return failure(parsed.template, err.pythonText);
    throw err;
  }
}

/** Every record of a batch, in order. The batch itself must be a JSON array. */
export function renderFastChatRecords(batch: unknown): FastChatRecordResult[] {
  if (!Array.isArray(batch)) {
    throw new FleetError('invalid_request', 'a batch must be a JSON array of {template, system_message, messages} records', { param: 'batch' });
  }
  return batch.map((record) => renderFastChatRecord(record));
}
