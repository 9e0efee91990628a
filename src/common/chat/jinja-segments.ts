/**
 * Training segments for Jinja chat templates, found by rendering prefixes of the conversation (templates are
 * opaque code, so the only way to know where a reply starts and ends is to render up to it):
 *   before = render(messages[:i]),  header end = render(messages[:i], add_generation_prompt),
 *   reply end = render(messages[:i+1]);
 * the reply (and whatever the template closes it with, e.g. `<|im_end|>\n`) is trainable. When a template rewrites
 * earlier turns once later ones exist (Qwen3 drops the thinking of past turns), the prefixes are not prefixes of the
 * full rendering; the reply is then located by its text, and the EOS token right after it is included.
 * The segments always concatenate to the full rendering.
 */
import { FleetError } from '../errors';
import { type JinjaRequest, renderJinja } from './jinja';
import type { ValidChatMessage } from './messages';
import type { PromptSegment, SegmentRole } from './segments';

interface ReplySpan {
  /** End of the material before this assistant turn. */
  before: number;
  /** Where the trainable reply starts (after the assistant header). */
  start: number;
  end: number;
}

function renderPrefix(source: string, request: JinjaRequest, count: number, addGenerationPrompt: boolean): string | null {
  if (count === 0) return '';
  try {
    return renderJinja(source, { ...request, messages: request.messages.slice(0, count), addGenerationPrompt });
  } catch {
    return null;
  }
}

function spanByPrefixes(source: string, request: JinjaRequest, full: string, i: number, cursor: number): ReplySpan | null {
  const before = renderPrefix(source, request, i, false);
  const header = i === 0 ? null : renderPrefix(source, request, i, true);
  const reply = renderPrefix(source, request, i + 1, false);
  if (before === null || header === null || reply === null) return null;
  if (!full.startsWith(before) || !full.startsWith(header) || !full.startsWith(reply)) return null;
  if (before.length < cursor || header.length < before.length || reply.length < header.length) return null;
  return { before: before.length, start: header.length, end: reply.length };
}

function spanByText(full: string, message: ValidChatMessage, cursor: number, eosToken: string | null): ReplySpan | null {
  const content = message.content ?? '';
  for (const text of [content, content.trim()]) {
    if (text === '') continue;
    const start = full.indexOf(text, cursor);
    if (start < 0) continue;
    let end = start + text.length;
    if (eosToken && full.startsWith(eosToken, end)) end += eosToken.length;
    return { before: start, start, end };
  }
  return null;
}

function speakerBefore(messages: readonly ValidChatMessage[], i: number): SegmentRole {
  const role = messages[i - 1]?.role;
  return role === 'system' || role === 'tool' || role === 'assistant' ? role : 'user';
}

class SpanWriter {
  readonly out: PromptSegment[] = [];
  cursor = 0;

  constructor(private readonly full: string) {}

  to(end: number, role: SegmentRole, trainable: boolean): void {
    if (end <= this.cursor) return;
    const text = this.full.slice(this.cursor, end);
    const prev = this.out[this.out.length - 1];
    if (prev && prev.role === role && prev.trainable === trainable) this.out[this.out.length - 1] = { ...prev, text: prev.text + text };
    else this.out.push({ text, role, trainable });
    this.cursor = end;
  }
}

/** The Jinja rendering of `request` cut into segments (assistant replies trainable). */
export function jinjaSegments(source: string, request: JinjaRequest, eosToken: string | null): PromptSegment[] {
  const full = renderJinja(source, request);
  const writer = new SpanWriter(full);
  request.messages.forEach((message, i) => {
    if (message.role !== 'assistant') return;
    const span = spanByPrefixes(source, request, full, i, writer.cursor) ?? spanByText(full, message, writer.cursor, eosToken);
    if (!span) {
      throw new FleetError('invalid_request', `messages[${i}]: cannot locate this assistant reply in the rendered chat template`, {
        param: 'messages',
      });
    }
    writer.to(span.before, speakerBefore(request.messages, i), false);
    writer.to(span.start, 'assistant', false);
    writer.to(span.end, 'assistant', true);
  });
  const n = request.messages.length;
  if (request.addGenerationPrompt) {
    const closed = renderPrefix(source, request, n, false);
    if (closed !== null && full.startsWith(closed)) writer.to(closed.length, speakerBefore(request.messages, n), false);
    writer.to(full.length, 'assistant', false);
  }
  writer.to(full.length, speakerBefore(request.messages, n), false);
  return writer.out;
}
