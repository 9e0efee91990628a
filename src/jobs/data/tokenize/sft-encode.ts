/**
 * Tokenizes a conversation with its chat template and masks every token that is not assistant output
 * (labels = -100), by character offsets: the template renders the conversation as segments (role + trainable
 * flag, concatenating to the prompt), the whole prompt is tokenized once, and each token takes the label of
 * the characters it covers — trainable when any of its characters is. Works the same for every FastChat
 * template and every Jinja chat template, with any tokenizer whose decoding rebuilds the text.
 */
import { encodePrompt, renderChat, renderSegments, type LoadedTokenizer, type PromptSegment, type TemplateSelection } from '../../../chat';
import { tokenSpans } from './token-spans';

export const IGNORE_TOKEN_ID = -100;

export interface ChatContext {
  tokenizer: LoadedTokenizer;
  selection: TemplateSelection;
}

export interface ChatMessage {
  role: 'user' | 'assistant' | 'system';
  content: string;
}

export interface EncodedConversation {
  text: string;
  segments: PromptSegment[];
  inputIds: number[];
  labels: number[];
  /** Character span of each token in `text` (empty for a prepended BOS). */
  starts: Int32Array;
  ends: Int32Array;
  /** Character range of each segment in `text`. */
  segmentStarts: number[];
}

export type EncodeOutcome = { ok: true; encoded: EncodedConversation } | { ok: false; reason: string; detail: string };

/** Prefix sums of trainable characters: trainable chars in [a, b) = sums[b] - sums[a]. */
function trainablePrefix(segments: readonly PromptSegment[], length: number): { sums: Int32Array; starts: number[] } {
  const sums = new Int32Array(length + 1);
  const starts: number[] = [];
  let pos = 0;
  for (const seg of segments) {
    starts.push(pos);
    for (let k = 0; k < seg.text.length; k++) sums[pos + k + 1] = sums[pos + k] + (seg.trainable ? 1 : 0);
    pos += seg.text.length;
  }
  return { sums, starts };
}

export function encodeConversation(ctx: ChatContext, messages: readonly ChatMessage[]): EncodeOutcome {
  const request = { messages, addGenerationPrompt: false };
  const rendered = renderChat(ctx.selection, request);
  const segments = renderSegments(ctx.selection, request);
  const text = rendered.text;
  if (segments.map((s) => s.text).join('') !== text) return { ok: false, reason: 'template_segments_mismatch', detail: 'segments do not rebuild the prompt' };
  const inputIds = encodePrompt(ctx.tokenizer, rendered);
  const skip = inputIds.length > 0 && rendered.addBosToken ? 1 : 0;
  const spans = tokenSpans(ctx.tokenizer, inputIds, text, skip);
  if (!spans.ok) return { ok: false, reason: 'token_offsets_unavailable', detail: spans.detail };
  const { sums, starts: segmentStarts } = trainablePrefix(segments, text.length);
  const labels = inputIds.map((id, i) => {
    const a = spans.starts[i];
    const b = spans.ends[i];
    return b > a && sums[b] - sums[a] > 0 ? id : IGNORE_TOKEN_ID;
  });
  return { ok: true, encoded: { text, segments, inputIds, labels, starts: spans.starts, ends: spans.ends, segmentStarts } };
}
