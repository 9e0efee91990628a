/**
 * OpenAI-style chat messages: parsing and shape validation of untrusted input (roles system / user / assistant /
 * tool; content a string or an array of `{type: 'text', text}` parts). Every failure is a
 * FleetError('invalid_request', …, {param: 'messages'}) that names the offending message.
 */
import { FleetError } from '../common/errors';

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

export interface ValidToolCall {
  readonly id?: string;
  readonly type: 'function';
  /** `arguments` is an object when the client sent a JSON object string (templates `tojson` it), else the string. */
  readonly function: { readonly name: string; readonly arguments: unknown };
}

export interface ValidChatMessage {
  readonly role: ChatRole;
  /** Text parts joined with "\n" (as FastChat does); `null` only for an assistant turn that carries tool calls. */
  readonly content: string | null;
  readonly name?: string;
  readonly toolCalls?: readonly ValidToolCall[];
  readonly toolCallId?: string;
  /** A reasoning model's thinking (`reasoning_content`), passed to templates that render it. */
  readonly reasoningContent?: string;
}

const ROLES: readonly ChatRole[] = ['system', 'user', 'assistant', 'tool'];
const IMAGE_PARTS = new Set(['image_url', 'input_image', 'image', 'input_audio', 'audio', 'file', 'video_url']);

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `where` names the offending part (`messages[2].content[0]`) and is the error's param. */
function invalid(message: string, where = 'messages'): FleetError {
  return new FleetError('invalid_request', message, { param: where });
}

function partText(part: unknown, where: string): string {
  if (!isObject(part) || typeof part.type !== 'string') throw invalid(`${where} must be an object with a string 'type'`, where);
  if (IMAGE_PARTS.has(part.type)) {
    throw invalid(`${where} has type '${part.type}': only text content is supported (this server runs text-only models)`, where);
  }
  if (part.type !== 'text') throw invalid(`${where} has unsupported type '${part.type}' (expected 'text')`, where);
  if (typeof part.text !== 'string') throw invalid(`${where}.text must be a string`, `${where}.text`);
  return part.text;
}

function parseContent(value: unknown, where: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) throw invalid(`${where} must be a string or an array of text parts`, where);
  return value.map((part, j) => partText(part, `${where}[${j}]`)).join('\n');
}

/** Tool-call arguments arrive as a JSON string; templates expect the object. */
function parseArguments(value: unknown, where: string): unknown {
  if (typeof value !== 'string') {
    if (isObject(value)) return value;
    throw invalid(`${where} must be a JSON string or an object`, where);
  }
  try {
    const parsed: unknown = JSON.parse(value);
    return isObject(parsed) ? parsed : value;
  } catch {
    return value;
  }
}

function parseToolCall(value: unknown, where: string): ValidToolCall {
  if (!isObject(value) || !isObject(value.function)) throw invalid(`${where} must be {type: 'function', function: {name, arguments}}`, where);
  const fn = value.function;
  if (typeof fn.name !== 'string' || fn.name === '') throw invalid(`${where}.function.name must be a non-empty string`, where);
  const call = { type: 'function' as const, function: { name: fn.name, arguments: parseArguments(fn.arguments ?? '{}', `${where}.function.arguments`) } };
  return typeof value.id === 'string' ? { id: value.id, ...call } : call;
}

function parseToolCalls(value: unknown, where: string): ValidToolCall[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw invalid(`${where} must be an array`, where);
  return value.length === 0 ? undefined : value.map((call, j) => parseToolCall(call, `${where}[${j}]`));
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(`${where} must be a string`, where);
  return value;
}

function parseMessage(value: unknown, i: number): ValidChatMessage {
  const where = `messages[${i}]`;
  if (!isObject(value)) throw invalid(`${where} must be an object with 'role' and 'content'`, where);
  // 'developer' is OpenAI's newer name for the system role.
  const role = value.role === 'developer' ? 'system' : value.role;
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
    throw invalid(`${where}.role must be one of ${ROLES.join(', ')}, developer (got ${JSON.stringify(value.role)})`, `${where}.role`);
  }
  const content = parseContent(value.content, `${where}.content`);
  const toolCalls = parseToolCalls(value.tool_calls, `${where}.tool_calls`);
  if (toolCalls && role !== 'assistant') throw invalid(`${where}: only assistant messages carry tool_calls`, where);
  if (content === null && !toolCalls) throw invalid(`${where}.content is required`, `${where}.content`);
  const message: ValidChatMessage = {
    role: role as ChatRole,
    content,
    name: optionalString(value.name, `${where}.name`),
    toolCalls,
    toolCallId: optionalString(value.tool_call_id, `${where}.tool_call_id`),
    reasoningContent: optionalString(value.reasoning_content, `${where}.reasoning_content`),
  };
  return message;
}

/** Validates an OpenAI `messages` array (shape only; whether a template can express the sequence is checked later). */
export function parseChatMessages(value: unknown): ValidChatMessage[] {
  if (!Array.isArray(value)) throw invalid('messages must be an array');
  if (value.length === 0) throw invalid('messages must contain at least one message');
  return value.map((m, i) => parseMessage(m, i));
}
