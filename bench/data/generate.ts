/**
 * A ShareGPT-like HTML dump for benchmarks: conversations of 1–6 rounds, plain-text questions, answers in
 * ChatGPT's page markup (paragraphs, lists, tables, code blocks with the language header and "Copy code"
 * button, highlight.js spans), a few blocked words and duplicates. Deterministic for a seed; streamed to disk.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { seededRandom } from '../support/stats';

const WORDS = ('the a of to and in is for on with that this as it be are by from or at an use value function data model list '
  + 'return string number example result file user server request time memory thread stream token python javascript type error '
  + 'simple first second each other which when your can will should also more into than then only new code line loop').split(' ');
const LANGS = ['python', 'javascript', 'bash', 'sql', 'typescript', 'go', 'rust', 'java'];
const KEYWORDS = ['def', 'return', 'for', 'if', 'const', 'let', 'import', 'fn', 'while', 'class'];

class Gen {
  constructor(private readonly r: () => number) {}
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)];
  }
  int(a: number, b: number): number {
    return a + Math.floor(this.r() * (b - a + 1));
  }
  sentence(): string {
    const n = this.int(6, 18);
    const w = Array.from({ length: n }, () => this.pick(WORDS));
    w[0] = w[0][0].toUpperCase() + w[0].slice(1);
    return `${w.join(' ')}.`;
  }
  paragraph(): string {
    return Array.from({ length: this.int(1, 4) }, () => this.sentence()).join(' ');
  }
  inline(): string {
    const s = this.paragraph().split(' ');
    const i = this.int(0, s.length - 1);
    s[i] = this.r() < 0.5 ? `<code>${s[i]}_${this.int(1, 9)}</code>` : `<strong>${s[i]}</strong>`;
    return s.join(' ');
  }
  codeLine(): string {
    const kw = this.pick(KEYWORDS);
    return `<span class="hljs-keyword">${kw}</span> ${this.pick(WORDS)}_${this.int(0, 99)} = <span class="hljs-title function_">${this.pick(WORDS)}</span>(<span class="hljs-number">${this.int(0, 999)}</span>, <span class="hljs-string">"${this.pick(WORDS)}"</span>)`;
  }
  codeBlock(): string {
    const lang = this.pick(LANGS);
    const lines = Array.from({ length: this.int(3, 25) }, () => `${'    '.repeat(this.int(0, 2))}${this.codeLine()}`).join('\n');
    return `<pre><div class="bg-black mb-4 rounded-md"><div class="flex items-center relative text-gray-200 bg-gray-800 px-4 py-2 text-xs font-sans"><span class="">${lang}</span>`
      + `<button class="flex ml-auto gap-2"><svg stroke="currentColor" fill="none" stroke-width="2" viewBox="0 0 24 24" class="h-4 w-4"><path d="M16 4h2"></path></svg>Copy code</button></div>`
      + `<div class="p-4 overflow-y-auto"><code class="!whitespace-pre hljs language-${lang}">${lines}\n</code></div></div></pre>`;
  }
  block(): string {
    const k = this.r();
    if (k < 0.45) return `<p>${this.inline()}</p>`;
    if (k < 0.6) return `<ol>${Array.from({ length: this.int(2, 6) }, () => `<li><p>${this.inline()}</p></li>`).join('')}</ol>`;
    if (k < 0.7) return `<ul>${Array.from({ length: this.int(2, 5) }, () => `<li>${this.sentence()}</li>`).join('')}</ul>`;
    if (k < 0.75) {
      const row = (tag: string) => `<tr>${Array.from({ length: 3 }, () => `<${tag}>${this.pick(WORDS)}</${tag}>`).join('')}</tr>`;
      return `<table><thead>${row('th')}</thead><tbody>${Array.from({ length: this.int(2, 5) }, () => row('td')).join('')}</tbody></table>`;
    }
    return this.codeBlock();
  }
  answer(): string {
    const blocks = Array.from({ length: this.int(1, 7) }, () => this.block()).join('');
    return `<div class="markdown prose w-full break-words dark:prose-invert light">${blocks}</div>`;
  }
  question(): string {
    return Array.from({ length: this.int(1, 3) }, () => this.sentence()).join('\n');
  }
  conversation(i: number): object {
    const rounds = this.int(1, 6);
    const turns: Array<{ from: string; value: string }> = [];
    for (let r = 0; r < rounds; r++) {
      turns.push({ from: 'human', value: r === 0 && this.r() < 0.02 ? `Are you ChatGPT? ${this.question()}` : this.question() });
      turns.push({ from: 'gpt', value: this.answer() });
    }
    return { id: `bench_${i}`, conversations: turns };
  }
}

/** Writes about `targetBytes` of ShareGPT JSON to `path`; returns the number of conversations. */
export async function generateShareGptHtml(path: string, targetBytes: number, seed = 1): Promise<number> {
  const gen = new Gen(seededRandom(seed));
  const out = createWriteStream(path);
  let bytes = 0;
  let n = 0;
  const write = async (text: string): Promise<void> => {
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('[\n');
  let previous: object | undefined;
  while (bytes < targetBytes) {
    // About 1% repeats the previous conversation under a new id (a value duplicate).
    const conv = previous && gen.int(0, 99) === 0 ? { ...previous, id: `bench_${n}` } : gen.conversation(n);
    previous = conv;
    await write(`${n === 0 ? '' : ',\n'}${JSON.stringify(conv, null, 2)}`);
    n++;
  }
  await write('\n]');
  out.end();
  await once(out, 'finish');
  return n;
}
