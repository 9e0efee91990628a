import { estimateHtmlDepth, htmlToMarkdown } from '../../src/jobs/data/clean/html-to-markdown';
import { removePageArtifacts, tidyMarkdown } from '../../src/jobs/data/clean/code-blocks';

const limits = { maxHtmlChars: 1_000_000, maxHtmlDepth: 256, maxMarkdownChars: 10_000_000 };

function md(html: string): string {
  const result = htmlToMarkdown(html, limits);
  if (!result.ok) throw new Error(`${result.reason}: ${result.detail}`);
  return result.markdown;
}

/** ChatGPT's code block markup as found in ShareGPT dumps. */
function chatgptCode(lang: string, codeHtml: string, button = '<button class="flex ml-auto gap-2"><svg stroke="currentColor"></svg>Copy code</button>'): string {
  return `<pre><div class="bg-black mb-4 rounded-md"><div class="flex items-center relative text-gray-200 bg-gray-800 px-4 py-2 text-xs font-sans"><span class="">${lang}</span>${button}</div>`
    + `<div class="p-4 overflow-y-auto"><code class="!whitespace-pre hljs language-${lang}">${codeHtml}</code></div></div></pre>`;
}

describe('htmlToMarkdown', () => {
  it('turns a ChatGPT code block into a fenced block with its language and the exact code', () => {
    const html = `<div class="markdown prose"><p>Use this:</p>${chatgptCode('python', '<span class="hljs-keyword">def</span> <span class="hljs-title function_">f</span>(my_var):\n    <span class="hljs-keyword">return</span> my_var * 2\n')}<p>Done.</p></div>`;
    expect(md(html)).toBe('Use this:\n\n```python\ndef f(my_var):\n    return my_var * 2\n```\n\nDone.');
  });

  it.each([
    ['Copy code', '<button>Copy code</button>'],
    ['Copy', '<button><svg></svg>Copy</button>'],
    ['Copy to clipboard', '<button class="x">Copy to clipboard</button>'],
  ])('drops the "%s" button of the code header', (_label, button) => {
    expect(md(chatgptCode('bash', 'ls -la', button))).toBe('```bash\nls -la\n```');
  });

  it('takes the language from the header when the code has no language class', () => {
    expect(md('<pre><div><span>rust</span><button>Copy code</button></div><code>fn main() {}</code></pre>')).toBe('```rust\nfn main() {}\n```');
  });

  it('uses a longer fence when the code itself contains a fence', () => {
    expect(md('<pre><code class="language-markdown">```js\nx\n```</code></pre>')).toBe('````markdown\n```js\nx\n```\n````');
  });

  it('repairs FastChat-style flattened fences: language and "Copy code" inside the fence', () => {
    expect(removePageArtifacts('```pythonCopy code\nprint(1)\n```')).toBe('```python\nprint(1)\n```');
    expect(removePageArtifacts('```\nCopy code\n```\ntext')).toBe('\ntext');
    expect(removePageArtifacts('```css\nCopy code\nbody {}\n```')).toBe('```css\nbody {}\n```');
    expect(removePageArtifacts('```\nCopyright 2023\n```')).toBe('```\nCopyright 2023\n```');
  });

  it('removes the regenerate counter at the start and "Copy N chars / N words"', () => {
    expect(md('2 / 2<p>Hello there</p>')).toBe('Hello there');
    expect(md('<p>Answer Copy12 chars / 3 words here</p>')).toBe('Answer  here');
    expect(md('<p>It takes 1 / 2 cup</p>')).toBe('It takes 1 / 2 cup');
  });

  it('closes a fence left open and keeps code inside fences untouched', () => {
    expect(tidyMarkdown('text\n\n\n\nmore\n```py\na\n\n\n\nb')).toBe('text\n\nmore\n```py\na\n\n\n\nb\n```');
  });

  it('converts tables, lists, emphasis and links', () => {
    const html = '<p><strong>Bold</strong> and <em>it</em> <a href="https://x.org">link</a></p><ol><li>one</li><li>two</li></ol><ul><li>a</li></ul>'
      + '<table><thead><tr><th>k</th><th>v</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>';
    expect(md(html)).toBe('**Bold** and *it* [link](https://x.org)\n\n1. one\n2. two\n\n* a\n\n| k   | v   |\n| --- | --- |\n| 1   | 2   |');
  });

  it('leaves plain text (no tags) as it is, except page artifacts and surrounding space', () => {
    expect(md('  my_var * 2 < 3 && a > b\n\n\n\nnext  ')).toBe('my_var * 2 < 3 && a > b\n\nnext');
  });

  it('refuses HTML nested deeper than the limit before parsing it', () => {
    const result = htmlToMarkdown(`${'<div>'.repeat(300)}x`, limits);
    expect(result).toMatchObject({ ok: false, reason: 'html_too_deep' });
    expect(estimateHtmlDepth('<div><p>a<p>b<br><img src=x><span>c</span></div>')).toBe(2);
  });

  it('refuses HTML longer than the limit', () => {
    expect(htmlToMarkdown(`<p>${'x'.repeat(100)}</p>`, { ...limits, maxHtmlChars: 50 })).toMatchObject({ ok: false, reason: 'html_too_large' });
  });
});
