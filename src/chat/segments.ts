/**
 * Prompt segments: a rendered prompt cut into consecutive pieces, each attributed to a role and marked
 * trainable or not, so a supervised fine-tuning pipeline can mask non-assistant tokens by character offsets.
 *
 * Definition (the same for every FastChat separator style):
 * - `system`: the system prompt and the separator that follows it;
 * - `user`: everything a user turn contributes (role tag, text, separators);
 * - `assistant`, trainable = false: the assistant's role tag / header (what the prompt supplies before the model
 *   speaks) and the open slot at the end of a generation prompt;
 * - `assistant`, trainable = true: an assistant reply's text plus the end separator / stop string that closes
 *   it (`</s>`, `<|im_end|>\n`, …) — what FastChat's train.py leaves unmasked — except for the template's own
 *   few-shot example replies, which are never trainable.
 * The concatenation of all segments' texts equals the rendered prompt exactly.
 */
/** `tool` appears only with Jinja templates (FastChat templates have no tool role). */
export type SegmentRole = 'system' | 'user' | 'assistant' | 'tool';

export interface PromptSegment {
  readonly text: string;
  readonly role: SegmentRole;
  readonly trainable: boolean;
}

interface MutableSegment {
  text: string;
  role: SegmentRole;
  trainable: boolean;
}

/** Collects the pieces a separator style emits; styles say what a piece is, the builder decides the mask. */
export class SegmentBuilder {
  private readonly parts: MutableSegment[] = [];

  /**
   * @param roleOf the speaker of message `index`
   * @param firstTrainable messages before this index (few-shot examples) are never trainable
   */
  constructor(
    private readonly roleOf: (index: number) => 'user' | 'assistant',
    private readonly firstTrainable: number,
  ) {}

  /** The system prompt and its separator. */
  system(text: string): void {
    this.push({ text, role: 'system', trainable: false });
  }

  /** A role tag or other framing the prompt supplies for message `index`. */
  header(index: number, text: string): void {
    this.push({ text, role: this.roleOf(index), trainable: false });
  }

  /** Message `index`'s text, or the separator that ends it: trainable when it is a real assistant reply. */
  reply(index: number, text: string): void {
    const role = this.roleOf(index);
    this.push({ text, role, trainable: role === 'assistant' && index >= this.firstTrainable });
  }

  /** Python `prompt.rstrip(chars)` applied across segment boundaries (the YUAN2 style strips `<`, `n`, `>`). */
  rstripChars(chars: string): void {
    const strip = new Set(chars);
    while (this.parts.length > 0) {
      const last = this.parts[this.parts.length - 1];
      let end = last.text.length;
      while (end > 0 && strip.has(last.text[end - 1])) end -= 1;
      last.text = last.text.slice(0, end);
      if (end > 0) return;
      this.parts.pop();
    }
  }

  text(): string {
    return this.parts.map((p) => p.text).join('');
  }

  /** Non-empty segments, adjacent pieces of the same role and mask merged. */
  segments(): PromptSegment[] {
    const out: MutableSegment[] = [];
    for (const part of this.parts) {
      if (part.text === '') continue;
      const prev = out[out.length - 1];
      if (prev && prev.role === part.role && prev.trainable === part.trainable) prev.text += part.text;
      else out.push({ ...part });
    }
    return out;
  }

  private push(part: MutableSegment): void {
    this.parts.push(part);
  }
}
