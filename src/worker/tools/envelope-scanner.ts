/**
 * An incremental scanner for one tool-call envelope, the JSON object a model writes for a call —
 * `{"name": "get_weather", "arguments": {"city": "Paris"}}` (Llama 3 writes `parameters`) — fed one piece of text
 * at a time, as tokens arrive. It reports the function name as soon as its string is complete and the arguments as
 * raw JSON text fragments as soon as they are read, so a stream can send the name first and then argument pieces
 * without waiting for the whole call. Arguments written as a JSON string (some models encode the object) are
 * reported once, decoded. Anything that is not such an object is an error (the caller then treats the text as
 * content).
 */

export type EnvelopeEvent =
  | { readonly type: 'name'; readonly name: string }
  | { readonly type: 'args'; readonly text: string }
  | { readonly type: 'end' }
  | { readonly type: 'error'; readonly why: string };

type Phase = 'key' | 'in-key' | 'colon' | 'value' | 'after-value' | 'done' | 'failed';
type ValueRole = 'name' | 'args' | 'other';

const WS = new Set([' ', '\t', '\n', '\r']);

export class EnvelopeScanner {
  private phase: Phase = 'key';
  private key = '';
  private keyEscape = false;
  private role: ValueRole = 'other';
  private valueStarted = false;
  /** The value's raw text (kept for name, string-typed arguments and other keys only as far as needed). */
  private value = '';
  private depth = 0;
  private inString = false;
  private escape = false;
  private stringValue = false;
  private nameSeen = false;
  private argsSeen = false;
  private readonly argumentKeys: readonly string[];
  /** The character just read ended a number / true / false / null and belongs to the envelope: read it again. */
  private reprocess = false;

  /** Starts after the envelope's opening `{`. */
  constructor(argumentKeys: readonly string[]) {
    this.argumentKeys = argumentKeys;
  }

  get finished(): boolean {
    return this.phase === 'done' || this.phase === 'failed';
  }

  /**
   * Consumes text up to the end of the envelope; returns the events and how many characters it consumed (fewer
   * than `text.length` only when the envelope ended or failed inside it).
   */
  feed(text: string): { events: EnvelopeEvent[]; consumed: number } {
    const events: EnvelopeEvent[] = [];
    let args = '';
    const flushArgs = (): void => {
      if (args !== '') events.push({ type: 'args', text: args });
      args = '';
    };
    let i = 0;
    for (; i < text.length && !this.finished; i++) {
      const c = text[i];
      const out = this.step(c);
      if (out === 'arg-char') args += c;
      else if (out !== undefined) {
        flushArgs();
        events.push(out);
        // A primitive value ends at the character after it, which also belongs to the envelope: step it again.
        if (out.type !== 'error' && this.reprocess) {
          this.reprocess = false;
          i -= 1;
        }
      } else if (this.reprocess) {
        this.reprocess = false;
        i -= 1;
      }
    }
    flushArgs();
    return { events, consumed: i };
  }

  private fail(why: string): EnvelopeEvent {
    this.phase = 'failed';
    return { type: 'error', why };
  }

  private step(c: string): EnvelopeEvent | 'arg-char' | undefined {
    switch (this.phase) {
      case 'key':
        if (WS.has(c)) return undefined;
        if (c === '"') {
          this.phase = 'in-key';
          this.key = '"';
          return undefined;
        }
        if (c === '}') return this.close();
        return this.fail(`expected a key, got ${JSON.stringify(c)}`);
      case 'in-key':
        this.key += c;
        if (this.keyEscape) this.keyEscape = false;
        else if (c === '\\') this.keyEscape = true;
        else if (c === '"') this.phase = 'colon';
        return undefined;
      case 'colon':
        if (WS.has(c)) return undefined;
        if (c !== ':') return this.fail(`expected ':', got ${JSON.stringify(c)}`);
        return this.startValue();
      case 'value':
        return this.valueChar(c);
      case 'after-value':
        if (WS.has(c)) return undefined;
        if (c === ',') {
          this.phase = 'key';
          return undefined;
        }
        if (c === '}') return this.close();
        return this.fail(`expected ',' or '}', got ${JSON.stringify(c)}`);
      default:
        return undefined;
    }
  }

  private startValue(): undefined | EnvelopeEvent {
    let key: string;
    try {
      key = JSON.parse(this.key) as string;
    } catch {
      return this.fail('a key is not a valid JSON string');
    }
    this.role = key === 'name' && !this.nameSeen ? 'name' : this.argumentKeys.includes(key) && !this.argsSeen ? 'args' : 'other';
    if (this.role === 'args') this.argsSeen = true;
    this.phase = 'value';
    this.valueStarted = false;
    this.value = '';
    this.depth = 0;
    this.inString = false;
    this.escape = false;
    this.stringValue = false;
    return undefined;
  }

  private valueChar(c: string): EnvelopeEvent | 'arg-char' | undefined {
    if (!this.valueStarted) {
      if (WS.has(c)) return undefined;
      this.valueStarted = true;
      if (c === '"') {
        this.inString = true;
        this.stringValue = true;
      } else if (c === '{' || c === '[') this.depth = 1;
      else if (c === '}' || c === ']' || c === ',' || c === ':') return this.fail(`expected a value, got ${JSON.stringify(c)}`);
      return this.take(c, false);
    }
    if (this.inString) {
      let closed = false;
      if (this.escape) this.escape = false;
      else if (c === '\\') this.escape = true;
      else if (c === '"') {
        this.inString = false;
        closed = this.depth === 0;
      }
      return this.take(c, closed);
    }
    if (this.depth > 0) {
      if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') this.depth += 1;
      else if (c === '}' || c === ']') this.depth -= 1;
      return this.take(c, this.depth === 0);
    }
    // A number, true, false or null: it ends at the first character that cannot continue it.
    if (/[0-9a-zA-Z.+-]/.test(c)) return this.take(c, false);
    this.reprocess = true;
    return this.endValue();
  }

  /** Records one character of the current value; `last` = the value is complete with it. */
  private take(c: string, last: boolean): EnvelopeEvent | 'arg-char' | undefined {
    const streamed = this.role === 'args' && !this.stringValue;
    if (!streamed && this.value.length < 1 << 20) this.value += c;
    const ended = last ? this.endValue() : undefined;
    // A streamed argument character is reported even when it closes the value (the state has moved on).
    if (streamed) return ended?.type === 'error' ? ended : 'arg-char';
    return ended;
  }

  private endValue(): EnvelopeEvent | undefined {
    this.phase = 'after-value';
    const role = this.role;
    this.role = 'other';
    if (role === 'name') {
      let name: unknown;
      try {
        name = JSON.parse(this.value);
      } catch {
        return this.fail('the name is not a valid JSON value');
      }
      if (typeof name !== 'string') return this.fail('the name is not a string');
      this.nameSeen = true;
      return { type: 'name', name };
    }
    if (role === 'args' && this.stringValue) {
      try {
        return { type: 'args', text: JSON.parse(this.value) as string };
      } catch {
        return this.fail('the arguments are not a valid JSON string');
      }
    }
    return undefined;
  }

  private close(): EnvelopeEvent {
    if (!this.nameSeen) return this.fail('the object has no "name"');
    this.phase = 'done';
    return { type: 'end' };
  }
}
