/**
 * Training segments for Jinja chat templates, found by rendering prefixes of the conversation (templates are
 * opaque code, so the only way to know where a reply starts and ends is to render up to it). For assistant
 * message i:
 *   before = render(messages[:i]),  header = render(messages[:i], add_generation_prompt),  reply = render(messages[:i+1]);
 * [header, reply) is trainable: the reply plus whatever the template closes it with (e.g. `<|im_end|>\n`).
 * A template may rewrite a turn once later turns exist (Qwen3 drops the thinking block of past turns), so a
 * rendering that is not a prefix of the full one is not used; the reply is then located by its text, and the EOS
 * token right after it is included. The segments always concatenate to the full rendering.
 */
import { FleetError } from '../common/errors';
import { type JinjaRequest, renderJinja } from './jinja';
import type { PromptSegment, SegmentRole } from './segments';

interface ReplySpan {
  /** End of the material before this assistant turn. */
  before: number;
  /** Where the trainable reply starts (after the assistant header). */
  start: number;
  end: number;
}

class ReplyLocator {
  readonly full: string;

  constructor(
    private readonly source: string,
    private readonly request: JinjaRequest,
    private readonly eosToken: string | null,
  ) {
    this.full = renderJinja(source, request);
  }

  /** Length of the rendering of the first `count` messages, if it is a prefix of the full one ending at or after `min`. */
  private prefixEnd(count: number, addGenerationPrompt: boolean, min: number | null): number | null {
    if (min === null || count === 0) return null;
    let text: string;
    try {
      text = renderJinja(this.source, { ...this.request, messages: this.request.messages.slice(0, count), addGenerationPrompt });
    } catch {
      return null;
    }
    return this.full.startsWith(text) && text.length >= min ? text.length : null;
  }

  /** Where message `i`'s text (or its trimmed text) appears after `from`; an EOS token right after it counts. */
  private textSpan(i: number, from: number): { start: number; end: number } | null {
    const content = this.request.messages[i].content ?? '';
    for (const text of [content, content.trim()]) {
      const start = text === '' ? -1 : this.full.indexOf(text, from);
      if (start < 0) continue;
      const end = start + text.length;
      const eos = this.eosToken && this.full.startsWith(this.eosToken, end) ? this.eosToken.length : 0;
      return { start, end: end + eos };
    }
    return null;
  }

  reply(i: number, cursor: number): ReplySpan | null {
    const before = this.prefixEnd(i, false, cursor);
    const header = this.prefixEnd(i, true, before ?? cursor);
    const end = this.prefixEnd(i + 1, false, header);
    if (header !== null && end !== null) return { before: before ?? header, start: header, end };
    const found = this.textSpan(i, header ?? before ?? cursor);
    if (!found) return null;
    return { before: before ?? found.start, start: header ?? found.start, end: found.end };
  }

  /** End of the conversation before the generation prompt, if the template renders it as a prefix. */
  closedEnd(cursor: number): number | null {
    return this.prefixEnd(this.request.messages.length, false, cursor);
  }
}

/** Appends slices of the full text as segments, merging neighbours of the same role and mask. */
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

/** The role of the material just before message `i` (the previous message's speaker). */
function speakerBefore(request: JinjaRequest, i: number): SegmentRole {
  return request.messages[i - 1]?.role ?? 'system';
}

/** The Jinja rendering of `request` cut into segments (assistant replies trainable). */
export function jinjaSegments(source: string, request: JinjaRequest, eosToken: string | null): PromptSegment[] {
  const locator = new ReplyLocator(source, request, eosToken);
  const writer = new SpanWriter(locator.full);
  request.messages.forEach((message, i) => {
    if (message.role !== 'assistant') return;
    const span = locator.reply(i, writer.cursor);
    if (!span) {
      throw new FleetError('invalid_request', `messages[${i}]: cannot locate this assistant reply in the rendered chat template`, {
        param: 'messages',
      });
    }
    writer.to(span.before, speakerBefore(request, i), false);
    writer.to(span.start, 'assistant', false);
    writer.to(span.end, 'assistant', true);
  });
  const n = request.messages.length;
  if (request.addGenerationPrompt) {
    const closed = locator.closedEnd(writer.cursor);
    if (closed !== null) writer.to(closed, speakerBefore(request, n), false);
    writer.to(locator.full.length, 'assistant', false);
  }
  writer.to(locator.full.length, speakerBefore(request, n), false);
  return writer.out;
}
