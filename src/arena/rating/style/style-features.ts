/**
 * The style of an answer, as lmarena's style control measures it (`count_markdown_elements` after removing code
 * blocks): its length, and its markdown headers (h1–h6), list items (ordered and unordered) and bold spans (`**` and
 * `__`), summed over a side's assistant turns. The length is `conv_metadata.sum_assistant_{a,b}_tokens` when the
 * record has it (FastChat's cleaned logs), else the characters of the answers (the features are normalised as
 * (a − b) / (a + b), so the unit cancels).
 */
import { isJsonObject, type JsonValue } from '../../json-value';

/** Per battle: [lenA, lenB, headersA, headersB, listsA, listsB, boldA, boldB]. */
export const STYLE_FEATURES = ['length', 'headers', 'lists', 'bold'] as const;
export const STYLE_WIDTH = STYLE_FEATURES.length * 2;

const CODE_BLOCK = /```[^`]*```/g;
const HEADER = /^#{1,6}\s/gm;
const ORDERED = /^\s*\d+\.\s/gm;
const UNORDERED = /^\s*[-*+]\s/gm;
const BOLD_STARS = /\*\*[^*\n]+\*\*/g;
const BOLD_UNDERSCORES = /__[^_\n]+__/g;

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

export interface AnswerStyle {
  length: number;
  headers: number;
  lists: number;
  bold: number;
}

export function answerStyle(text: string): AnswerStyle {
  const plain = text.replace(CODE_BLOCK, '');
  return {
    length: text.length,
    headers: count(plain, HEADER),
    lists: count(plain, ORDERED) + count(plain, UNORDERED),
    bold: count(plain, BOLD_STARS) + count(plain, BOLD_UNDERSCORES),
  };
}

function assistantText(conversation: JsonValue | undefined): string | undefined {
  if (!Array.isArray(conversation)) return undefined;
  const parts: string[] = [];
  for (const message of conversation) {
    if (isJsonObject(message) && message.role === 'assistant' && typeof message.content === 'string') parts.push(message.content);
  }
  return parts.join('\n');
}

function metadataTokens(meta: JsonValue | undefined, side: 'a' | 'b'): number | undefined {
  if (!isJsonObject(meta)) return undefined;
  const value = meta[`sum_assistant_${side}_tokens`];
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** The 8 style numbers of a battle record, or undefined when it carries no answers to measure. */
export function battleStyle(record: { conversation_a?: JsonValue; conversation_b?: JsonValue; conv_metadata?: JsonValue }): Float64Array | undefined {
  const a = assistantText(record.conversation_a);
  const b = assistantText(record.conversation_b);
  if (a === undefined || b === undefined) return undefined;
  const sa = answerStyle(a);
  const sb = answerStyle(b);
  const lenA = metadataTokens(record.conv_metadata, 'a') ?? sa.length;
  const lenB = metadataTokens(record.conv_metadata, 'b') ?? sb.length;
  return Float64Array.from([lenA, lenB, sa.headers, sb.headers, sa.lists, sb.lists, sa.bold, sb.bold]);
}

/**
 * lmarena's normalisation: per feature the ratio (a − b) / (a + b) (0 when both are 0), then standardised over the
 * battles (mean 0, population standard deviation 1; a constant feature stays 0). Returns [n × 4] row-major.
 */
export function normalisedStyle(raw: Float64Array, n: number): Float64Array {
  const k = STYLE_FEATURES.length;
  const x = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < k; f++) {
      const a = raw[i * STYLE_WIDTH + 2 * f];
      const b = raw[i * STYLE_WIDTH + 2 * f + 1];
      x[i * k + f] = a + b === 0 ? 0 : (a - b) / (a + b);
    }
  }
  for (let f = 0; f < k; f++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[i * k + f];
    mean /= Math.max(1, n);
    let variance = 0;
    for (let i = 0; i < n; i++) variance += (x[i * k + f] - mean) ** 2;
    const std = Math.sqrt(variance / Math.max(1, n));
    for (let i = 0; i < n; i++) x[i * k + f] = std > 0 ? (x[i * k + f] - mean) / std : 0;
  }
  return x;
}
