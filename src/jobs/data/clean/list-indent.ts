/**
 * List items in one linear pass. turndown builds markdown bottom-up, so indenting a list item's continuation lines in
 * its own replacement re-writes every nested item's lines once per level: quadratic in the nesting depth (13.7 KB
 * of nested lists took 5.5 s). Instead, an item wraps its body in two private-use markers — OPEN followed by one
 * character holding the indent width, and CLOSE — and `resolveIndents` replaces them at the end, indenting each
 * non-empty continuation line by the sum of the widths of the items around it, and stops at an output cap.
 */
const OPEN = '\uE000';
const CLOSE = '\uE001';
const WIDTH_BASE = 0xe100;
const MARKERS = /[\uE000\uE001]/g;

/** Input text must not carry the markers: they are replaced by U+FFFD (they are private-use, never meaningful). */
export function withoutMarkers(text: string): string {
  return text.replace(MARKERS, '\uFFFD');
}

function trimNewlines(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text.charCodeAt(start) === 10) start++;
  while (end > start && text.charCodeAt(end - 1) === 10) end--;
  return text.slice(start, end);
}

/** `prefix` + the item's body, its continuation lines to be indented by prefix.length (see resolveIndents). */
export function markedListItem(prefix: string, content: string, hasNext: boolean): string {
  return `${prefix}${OPEN}${String.fromCharCode(WIDTH_BASE + prefix.length)}${trimNewlines(content)}${CLOSE}${hasNext ? '\n' : ''}`;
}

/**
 * Replaces the markers: a newline inside items gets the items' total indent unless the next character is another
 * newline or the item ends there. Returns undefined when the result would exceed `maxChars`.
 */
export function resolveIndents(marked: string, maxChars: number): string | undefined {
  if (!marked.includes(OPEN)) return marked.length > maxChars ? undefined : marked;
  const widths: number[] = [];
  let indent = 0;
  let length = 0;
  const parts: string[] = [];
  let from = 0;
  const flush = (to: number): void => {
    if (to > from) {
      parts.push(marked.slice(from, to));
      length += to - from;
    }
  };
  for (let i = 0; i < marked.length; i++) {
    const c = marked.charCodeAt(i);
    if (c === 0xe000) {
      flush(i);
      const width = marked.charCodeAt(i + 1) - WIDTH_BASE;
      widths.push(width);
      indent += width;
      i += 1;
      from = i + 1;
    } else if (c === 0xe001) {
      flush(i);
      indent -= widths.pop() ?? 0;
      from = i + 1;
    } else if (c === 10 && indent > 0) {
      const next = marked.charCodeAt(i + 1);
      if (next !== 10 && next !== 0xe001 && i + 1 < marked.length) {
        flush(i + 1);
        parts.push(' '.repeat(indent));
        length += indent;
        from = i + 1;
      }
    }
    if (length > maxChars) return undefined;
  }
  flush(marked.length);
  return length > maxChars ? undefined : parts.join('');
}
