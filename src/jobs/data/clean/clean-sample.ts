/**
 * FastChat's clean_sharegpt rules for one conversation (fastchat/data/clean_sharegpt.py, clean_html_one_sample),
 * applied in the same order: too short → leading non-human turn removed → trailing human turn removed → roles
 * must alternate → blocked words (in the raw text) → HTML to markdown → stop at the first empty answer →
 * an even number of turns → at least `minChars` characters. Every turn removed is reported as a change.
 */
import type { ResultEvent } from '../record-result';
import { GPT, HUMAN, type ShareGptTurn } from '../sharegpt';
import { htmlToMarkdown, type HtmlLimits } from './html-to-markdown';

export interface CleanOptions extends HtmlLimits {
  /** Case-insensitive words that drop a conversation (FastChat: openai, chatgpt). */
  blockedWords: string[];
  /** Conversations with fewer characters after cleaning are dropped (FastChat: 16). */
  minChars: number;
}

export type CleanOutcome =
  | { kind: 'kept'; conversations: Array<{ from: string; value: string }>; changes: ResultEvent[] }
  | { kind: 'dropped'; reason: string; detail?: string };

/** Python's str.isprintable() for one character: not in Unicode categories C* or Z*, except the ASCII space. */
function isPrintable(ch: string): boolean {
  return ch === ' ' || !/[\p{C}\p{Z}]/u.test(ch);
}

/** Length in code points, as Python's len() counts (only needed up to small thresholds). */
function codePointCount(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

function findBlockedWord(text: string, words: readonly string[]): string | undefined {
  if (words.length === 0) return undefined;
  const lower = text.toLowerCase();
  return words.find((w) => lower.includes(w));
}

function trimRoles(turns: ShareGptTurn[], changes: ResultEvent[]): ShareGptTurn[] | undefined {
  let list = turns;
  if (list.length <= 1) return undefined;
  if (list[0].from !== HUMAN) {
    changes.push({ action: 'changed', reason: 'leading_non_human_removed', detail: `first turn was from '${list[0].from}'` });
    list = list.slice(1);
  }
  if (list.length <= 1) return undefined;
  if (list[list.length - 1].from === HUMAN) {
    changes.push({ action: 'changed', reason: 'trailing_human_removed' });
    list = list.slice(0, -1);
  }
  return list.length <= 1 ? undefined : list;
}

export function cleanConversation(turns: ShareGptTurn[], options: CleanOptions): CleanOutcome {
  const changes: ResultEvent[] = [];
  const list = trimRoles(turns, changes);
  if (!list) return { kind: 'dropped', reason: 'too_short', detail: 'fewer than two turns' };
  let chars = 0;
  let outChars = 0;
  const cleaned: Array<{ from: string; value: string }> = [];
  for (let i = 0; i < list.length; i++) {
    const { from, value } = list[i];
    const expected = i % 2 === 0 ? HUMAN : GPT;
    if (from !== expected) return { kind: 'dropped', reason: 'wrong_format', detail: `turn ${i} is from '${from}', expected '${expected}'` };
    const blocked = findBlockedWord(value, options.blockedWords);
    if (blocked !== undefined) return { kind: 'dropped', reason: 'blocked_words', detail: `turn ${i} contains '${blocked}'` };
    const converted = htmlToMarkdown(value, { ...options, maxMarkdownChars: options.maxMarkdownChars - outChars });
    if (!converted.ok) return { kind: 'dropped', reason: converted.reason, detail: `turn ${i}: ${converted.detail}` };
    const text = converted.markdown;
    outChars += text.length;
    if (outChars > options.maxMarkdownChars) return { kind: 'dropped', reason: 'markdown_too_large', detail: `turn ${i}: the conversation's markdown exceeds --max-markdown-chars ${options.maxMarkdownChars}` };
    if (text.length === 0 || !isPrintable(String.fromCodePoint(text.codePointAt(0) ?? 0))) {
      changes.push({ action: 'changed', reason: 'truncated_at_empty_turn', detail: `turn ${i} of ${list.length} is empty after cleaning` });
      break;
    }
    if (chars < options.minChars) chars += codePointCount(text);
    cleaned.push({ from, value: text });
  }
  if (cleaned.length % 2 === 1) {
    changes.push({ action: 'changed', reason: 'odd_turn_removed' });
    cleaned.pop();
  }
  if (chars < options.minChars || cleaned.length === 0) return { kind: 'dropped', reason: 'too_short', detail: `${chars} characters after cleaning` };
  return { kind: 'kept', conversations: cleaned, changes };
}
