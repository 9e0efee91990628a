/**
 * HTML → markdown for ShareGPT turns, with turndown (+ its GFM plugin for tables, strikethrough, task lists) on
 * the domino DOM that turndown bundles for Node. ChatGPT's code blocks (`<pre>` holding a header with the
 * language and a "Copy code" button, then `<code class="language-x">`) become fenced blocks with the language
 * as info string. Plain text (no tags) is left as it is rather than markdown-escaped.
 *
 * Limits keep hostile input harmless: text over `maxHtmlChars` is refused unparsed, and so is text whose tags alone
 * say it nests deeper than `maxHtmlDepth`; then the depth is measured on the parsed tree itself (without recursion)
 * before turndown — which recurses per level — sees it, so implicitly nested elements (tables: table > tbody > tr >
 * td) cannot slip past. List items are indented in one linear pass (list-indent.ts), and a turn whose markdown
 * would exceed `maxMarkdownChars` is refused; anything that still throws is a conversion error.
 */
import { createDocument, type DominoNode } from '@mixmark-io/domino';
import TurndownService from 'turndown';
import { gfm } from '@joplin/turndown-plugin-gfm';
import { fenceFor, normalizeLanguage, removePageArtifacts, tidyMarkdown } from './code-blocks';
import { markedListItem, resolveIndents, withoutMarkers } from './list-indent';

export interface HtmlLimits {
  maxHtmlChars: number;
  maxHtmlDepth: number;
  /** Largest markdown one turn may become (nested lists multiply indentation). */
  maxMarkdownChars: number;
}

export type ConversionResult =
  | { ok: true; markdown: string }
  | { ok: false; reason: 'html_too_large' | 'html_too_deep' | 'markdown_too_large' | 'html_conversion_error'; detail: string };

/** The subset of domino's Element used by the code-block rule. */
interface DomElement {
  nodeName: string;
  parentNode: DomElement | null;
  nextSibling: DomElement | null;
  children: ArrayLike<DomElement>;
  getAttribute(name: string): string | null;
  textContent: string | null;
  className?: string;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
}

const TAG = /<\/?[a-zA-Z][^>]*>|<!--/;
const SPAN_TAG = /<\/?span\b[^>]*>/gi;

export function looksLikeHtml(text: string): boolean {
  return TAG.test(text);
}

/** Tags that never hold content, or that the parser closes implicitly: they do not add nesting depth. */
const FLAT_TAGS = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr',
  'p', 'li', 'dt', 'dd', 'tr', 'td', 'th', 'option', 'optgroup', 'rb', 'rt', 'rp', 'thead', 'tbody', 'tfoot', 'colgroup']);

/** An upper bound of the element nesting depth of `html`, from its tags alone (no parsing). */
export function estimateHtmlDepth(html: string): number {
  let depth = 0;
  let max = 0;
  for (const m of html.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*?(\/?)>/g)) {
    const name = m[2].toLowerCase();
    if (FLAT_TAGS.has(name) || m[3] === '/') continue;
    if (m[1] === '/') depth = Math.max(0, depth - 1);
    else if (++depth > max) max = depth;
  }
  return max;
}

function languageOf(pre: DomElement, code: DomElement | null): string {
  const fromClass = /(?:^|\s)(?:language|lang)-([^\s]+)/.exec(code?.className ?? '');
  if (fromClass) return normalizeLanguage(fromClass[1]);
  if (!code) return '';
  // ChatGPT's header (<div>python<button>Copy code</button></div>): the text outside the code and the buttons.
  let label = (pre.textContent ?? '').replace(code.textContent ?? '', '');
  for (const button of Array.from(pre.querySelectorAll('button'))) label = label.replace(button.textContent ?? '', '');
  return normalizeLanguage(label);
}

function codeBlock(_content: string, node: unknown): string {
  const pre = node as DomElement;
  const code = pre.querySelector('code');
  const language = languageOf(pre, code);
  let text = code ? (code.textContent ?? '') : (pre.textContent ?? '');
  if (!code) {
    const buttons = Array.from(pre.querySelectorAll('button'), (b) => b.textContent ?? '');
    for (const label of buttons) text = text.replace(label, '');
  }
  text = text.replace(/\n+$/, '');
  const fence = fenceFor(text);
  return `\n\n${fence}${language}\n${text}\n${fence}\n\n`;
}

/** List items as "- item" / "3. item", continuation lines indented under the text. */
function listItem(content: string, node: unknown, options: TurndownService.Options): string {
  const item = node as DomElement;
  const parent = item.parentNode;
  let prefix = `${options.bulletListMarker ?? '*'} `;
  if (parent?.nodeName === 'OL') {
    // CommonMark list numbers have at most 9 digits.
    const start = Number(parent.getAttribute('start') ?? '1');
    const first = Number.isSafeInteger(start) && start >= 0 && start <= 999_999_999 ? start : 1;
    prefix = `${first + Array.prototype.indexOf.call(parent.children, item)}. `;
  }
  return markedListItem(prefix, content, item.nextSibling !== null);
}

/** The element nesting depth of a parsed tree, walked without recursion; stops counting past `limit`. */
export function treeDepth(root: DominoNode, limit: number): number {
  let max = 0;
  let depth = 1;
  let node = root.firstChild;
  while (node !== null) {
    if (node.nodeType === 1 && depth > max && (max = depth) > limit) return max;
    if (node.nodeType === 1 && node.firstChild !== null) {
      node = node.firstChild;
      depth++;
      continue;
    }
    while (node !== null && node !== root && node.nextSibling === null) {
      node = node.parentNode;
      depth--;
    }
    node = node === null || node === root ? null : node.nextSibling;
  }
  return max;
}

function createService(): TurndownService {
  const service = new TurndownService({
    headingStyle: 'atx',
    codeBlockStyle: 'fenced',
    bulletListMarker: '*',
    emDelimiter: '*',
    strongDelimiter: '**',
    hr: '---',
  });
  service.use(gfm);
  service.remove(['button', 'svg', 'script', 'style', 'noscript', 'template', 'head', 'title']);
  service.addRule('chatgptCodeBlock', { filter: 'pre', replacement: codeBlock });
  service.addRule('compactListItem', { filter: 'li', replacement: listItem });
  return service;
}

let service: TurndownService | undefined;

/** Converts one turn's HTML to markdown and removes ChatGPT page artifacts. */
export function htmlToMarkdown(value: string, limits: HtmlLimits): ConversionResult {
  if (!looksLikeHtml(value)) return { ok: true, markdown: tidyMarkdown(removePageArtifacts(value.trim())) };
  if (value.length > limits.maxHtmlChars) {
    return { ok: false, reason: 'html_too_large', detail: `${value.length} characters of HTML > --max-html-chars ${limits.maxHtmlChars}` };
  }
  const depth = estimateHtmlDepth(value);
  if (depth > limits.maxHtmlDepth) return { ok: false, reason: 'html_too_deep', detail: `nesting depth ${depth} > --max-html-depth ${limits.maxHtmlDepth}` };
  try {
    service ??= createService();
    // Spans carry no markdown meaning; highlight.js wraps every token of code in one, so dropping them first
    // makes the DOM several times smaller (FastChat drops their opening tags too).
    const html = withoutMarkers(value.replace(SPAN_TAG, ''));
    // Parsed as turndown parses a string (inside its own root element), then measured before turndown recurses.
    const root = createDocument(`<x-turndown id="turndown-root">${html}</x-turndown>`).getElementById('turndown-root');
    if (root === null) return { ok: false, reason: 'html_conversion_error', detail: 'the parser lost the root element' };
    const treeDepthFound = treeDepth(root, limits.maxHtmlDepth);
    if (treeDepthFound > limits.maxHtmlDepth) return { ok: false, reason: 'html_too_deep', detail: `parsed nesting depth ${treeDepthFound} > --max-html-depth ${limits.maxHtmlDepth}` };
    const markdown = resolveIndents(service.turndown(root), limits.maxMarkdownChars);
    if (markdown === undefined) return { ok: false, reason: 'markdown_too_large', detail: `the markdown would exceed --max-markdown-chars ${limits.maxMarkdownChars}` };
    return { ok: true, markdown: tidyMarkdown(removePageArtifacts(markdown.trim())) };
  } catch (err) {
    return { ok: false, reason: 'html_conversion_error', detail: err instanceof Error ? err.message.slice(0, 200) : String(err) };
  }
}
