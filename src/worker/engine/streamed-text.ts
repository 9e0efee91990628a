/**
 * The text a sequence streams, from its tokens to what the client may see:
 *  - incremental detokenization: a growing list of token ids becomes text deltas without ever splitting a
 *    multi-byte UTF-8 character (a decode that ends in U+FFFD waits for the next token) and with the right spacing
 *    for SentencePiece-style tokenizers (a few prompt tokens are decoded as left context);
 *  - stop-string matching on those deltas: text that could still turn out to be the beginning of a stop string is
 *    held back, so a partial stop string never reaches the client; once a stop string appears, the text before it
 *    (plus the stop string when asked) is released and generation ends.
 */
export interface TextDecoderLike {
  decode(ids: number[], options: { skipSpecialTokens: boolean }): string;
  /**
   * A token's text when appending it can never change the text before it (byte-level vocabularies: a non-special token
   * whose bytes are whole UTF-8 characters — decode(a + [t]) = decode(a) + text when decode(a) is complete); undefined
   * otherwise. Lets the detokenizer skip decoding windows for most tokens.
   */
  appendText?(id: number): string | undefined;
}

/**
 * `appendText` for a byte-level vocabulary (a tokenizer whose decoder is ByteLevel alone): a non-special token's text
 * when its bytes are whole UTF-8 characters (its text, encoded again, gives back its bytes), cached per token.
 */
export function wholeCharacterTexts(info: (id: number) => { text: string; bytes: Uint8Array }, special: ReadonlySet<number>): (id: number) => string | undefined {
  const cache = new Map<number, string | null>();
  const utf8 = new TextEncoder();
  return (id) => {
    let text = cache.get(id);
    if (text === undefined) {
      const { text: alone, bytes } = info(id);
      const encoded = utf8.encode(alone);
      const whole = !special.has(id) && !alone.includes(REPLACEMENT) && encoded.length === bytes.length && encoded.every((b, i) => b === bytes[i]);
      text = whole ? alone : null;
      if (cache.size < 200_000) cache.set(id, text);
    }
    return text ?? undefined;
  };
}

const CONTEXT_TOKENS = 5;
const REPLACEMENT = '\uFFFD';

export class IncrementalDetokenizer {
  private readonly ids: number[];
  private prefixOffset = 0;
  private readOffset: number;

  constructor(
    private readonly decoder: TextDecoderLike,
    promptIds: ArrayLike<number>,
    private readonly skipSpecialTokens: boolean,
  ) {
    const start = Math.max(0, promptIds.length - CONTEXT_TOKENS);
    this.ids = Array.from({ length: promptIds.length - start }, (_, i) => promptIds[start + i]);
    this.readOffset = this.ids.length;
  }

  /** Adds one token; returns the text it completes (possibly empty). */
  push(tokenId: number): string {
    const held = this.readOffset < this.ids.length; // an incomplete character waits for more tokens
    this.ids.push(tokenId);
    const text = held ? undefined : this.decoder.appendText?.(tokenId);
    if (text === undefined) return this.release(false);
    // What release() would return, without decoding: the windows move on the same way.
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    return text;
  }

  /** At the end: whatever is left, even an incomplete character. */
  flush(): string {
    return this.release(true);
  }

  private release(final: boolean): string {
    const opts = { skipSpecialTokens: this.skipSpecialTokens };
    const prefix = this.decoder.decode(this.ids.slice(this.prefixOffset, this.readOffset), opts);
    const full = this.decoder.decode(this.ids.slice(this.prefixOffset), opts);
    if (full.length <= prefix.length) return '';
    if (!final && full.endsWith(REPLACEMENT)) return '';
    const delta = full.slice(prefix.length);
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    return delta;
  }
}

export interface StopResult {
  /** Text safe to stream now. */
  emit: string;
  /** The stop string that ended generation, if one matched. */
  matched?: string;
}

export class StopStringMatcher {
  private pending = '';
  private readonly stops: string[];

  constructor(stops: string[], private readonly includeStop = false) {
    this.stops = stops.filter((s) => s.length > 0);
  }

  push(delta: string): StopResult {
    const buffer = this.pending + delta;
    if (this.stops.length === 0) {
      this.pending = '';
      return { emit: buffer };
    }
    const hit = this.earliestStop(buffer);
    if (hit) {
      this.pending = '';
      const end = hit.index + (this.includeStop ? hit.stop.length : 0);
      return { emit: buffer.slice(0, end), matched: hit.stop };
    }
    const hold = this.heldSuffixLength(buffer);
    this.pending = buffer.slice(buffer.length - hold);
    return { emit: buffer.slice(0, buffer.length - hold) };
  }

  /** Releases held text at the end of generation (no stop string followed it). */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest;
  }

  private earliestStop(buffer: string): { index: number; stop: string } | undefined {
    let best: { index: number; stop: string } | undefined;
    for (const stop of this.stops) {
      const index = buffer.indexOf(stop);
      if (index >= 0 && (best === undefined || index < best.index || (index === best.index && stop.length > best.stop.length))) {
        best = { index, stop };
      }
    }
    return best;
  }

  /** Length of the longest suffix of `buffer` that is a proper prefix of some stop string. */
  private heldSuffixLength(buffer: string): number {
    let hold = 0;
    for (const stop of this.stops) {
      const max = Math.min(stop.length - 1, buffer.length);
      for (let len = max; len > hold; len--) {
        if (buffer.endsWith(stop.slice(0, len))) {
          hold = len;
          break;
        }
      }
    }
    return hold;
  }
}
