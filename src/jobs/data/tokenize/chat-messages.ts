/**
 * ShareGPT turns as chat messages: `human` → user, `gpt` → assistant, `system` → system (first turn only),
 * alternating user/assistant after it. Records already in OpenAI form (`messages: [{role, content}]`) are read
 * as they are. Anything else is a wrong format, described.
 */
import type { ChatMessage } from './sft-encode';

const ROLE_OF: Record<string, ChatMessage['role']> = {
  human: 'user', user: 'user', gpt: 'assistant', assistant: 'assistant', chatgpt: 'assistant', bard: 'assistant', bing: 'assistant', system: 'system',
};

export type MessagesCheck = { ok: true; messages: ChatMessage[] } | { ok: false; detail: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rawTurns(record: Record<string, unknown>): Array<{ role: string; content: string }> | string {
  if (Array.isArray(record.messages)) {
    const out: Array<{ role: string; content: string }> = [];
    for (const [i, m] of record.messages.entries()) {
      if (!isObject(m) || typeof m.role !== 'string' || typeof m.content !== 'string') return `messages[${i}] needs string role and content`;
      out.push({ role: m.role, content: m.content });
    }
    return out;
  }
  if (!Array.isArray(record.conversations)) return 'neither conversations nor messages is a list';
  const out: Array<{ role: string; content: string }> = [];
  for (const [i, t] of record.conversations.entries()) {
    if (!isObject(t) || typeof t.from !== 'string' || typeof t.value !== 'string') return `conversations[${i}] needs string from and value`;
    out.push({ role: t.from, content: t.value });
  }
  return out;
}

/** Validated messages: an optional system message, then user/assistant alternating from a user message. */
export function toChatMessages(value: unknown): MessagesCheck {
  if (!isObject(value)) return { ok: false, detail: 'record is not a JSON object' };
  const turns = rawTurns(value);
  if (typeof turns === 'string') return { ok: false, detail: turns };
  const messages: ChatMessage[] = [];
  for (const [i, t] of turns.entries()) {
    const role = ROLE_OF[t.role];
    if (role === undefined) return { ok: false, detail: `turn ${i} has unknown role '${t.role}'` };
    if (role === 'system' && i > 0) return { ok: false, detail: `turn ${i} is a system message after the first turn` };
    messages.push({ role, content: t.content });
  }
  const dialog = messages[0]?.role === 'system' ? messages.slice(1) : messages;
  const bad = dialog.findIndex((m, i) => m.role !== (i % 2 === 0 ? 'user' : 'assistant'));
  if (bad >= 0) return { ok: false, detail: `turn ${bad} is from ${dialog[bad].role}, expected ${bad % 2 === 0 ? 'user' : 'assistant'}` };
  return { ok: true, messages };
}
