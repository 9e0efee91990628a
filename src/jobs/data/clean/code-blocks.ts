/**
 * Markdown post-processing for ShareGPT answers: the artifacts of ChatGPT's web page that survive HTML
 * conversion (FastChat's clean_sharegpt rules, in all the variants seen in dumps), and fences repaired.
 * Pure string functions.
 */

/** The code-block header button texts ChatGPT's page has had over time. */
const COPY_LABEL = String.raw`(?:Copy code|Copy to clipboard|Copied!|Copy(?=[ 	]*
))`;

/** "```python Copy code def f(): …```" — language and button text flattened into the fence (FastChat's case). */
const FLATTENED_FENCE = new RegExp(String.raw`\`\`\`[ \t]*([\w+#.-]*)[ \t]*\n?[ \t]*(?:${COPY_LABEL}[ \t]*)+\n?`, 'g');
/** A fence whose only content is the button text: "```\nCopy code\n```". */
const EMPTY_COPY_BLOCK = new RegExp(String.raw`\`\`\`[\w+#.-]*[ \t]*\n?[ \t]*(?:${COPY_LABEL}[ \t]*)+\n?[ \t]*\`\`\``, 'g');
/** "Copy123 chars / 45 words". */
const COPY_CHARS = /Copy\d+ chars \/ \d+ words/g;
/** The "2 / 2" regenerate counter at the very start of a turn. */
const REGENERATE_COUNTER = /^\d+ \/ \d+/;
const FENCE_LINE = /^[ \t]*(`{3,}|~{3,})/;

/** Removes the page artifacts FastChat removes: regenerate counters, copy buttons, char counters. */
export function removePageArtifacts(markdown: string): string {
  let text = markdown.replace(REGENERATE_COUNTER, '');
  if (text.includes('Copy')) {
    text = text.replace(COPY_CHARS, '').replace(EMPTY_COPY_BLOCK, '');
    text = text.replace(FLATTENED_FENCE, (_m, lang: string) => `\`\`\`${normalizeLanguage(lang)}\n`);
  }
  return text;
}

/** A code language label as a fence info string: lower case, no spaces, only characters fences allow. */
export function normalizeLanguage(label: string): string {
  const cleaned = label.trim().toLowerCase().replace(/\s+/g, '-');
  return /^[\w+#.-]{1,32}$/.test(cleaned) ? cleaned : '';
}

/**
 * Repairs fences and spacing: a fence left open is closed at the end, runs of blank lines outside code are
 * reduced to one, and the text is trimmed. Code inside fences is never touched.
 */
export function tidyMarkdown(markdown: string): string {
  const lines = markdown.split('\n');
  const out: string[] = [];
  let fence: string | undefined;
  let blank = 0;
  for (const line of lines) {
    const m = FENCE_LINE.exec(line);
    if (fence === undefined && m) fence = m[1];
    else if (fence !== undefined && m && m[1][0] === fence[0] && m[1].length >= fence.length && line.trim() === m[1]) fence = undefined;
    else if (fence === undefined && line.trim() === '') {
      blank++;
      if (blank > 1) continue;
      out.push('');
      continue;
    }
    blank = 0;
    out.push(line);
  }
  if (fence !== undefined) out.push(fence);
  return out.join('\n').trim();
}

/** The shortest fence that no backtick run inside `code` can close. */
export function fenceFor(code: string): string {
  let longest = 0;
  for (const m of code.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  return '`'.repeat(Math.max(3, longest + 1));
}
