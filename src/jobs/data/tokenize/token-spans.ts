/**
 * Character spans of tokens. @huggingface/tokenizers gives ids without offsets, so the spans come from
 * incremental decoding (the technique streaming detokenizers use): each token's text is what decoding a short
 * window ending at it adds to decoding the window without it. A token that ends inside a UTF-8 character decodes
 * to U+FFFD and contributes nothing until the character completes; it then shares the span of the token that
 * completes it. The spans are only trusted when their concatenation rebuilds the encoded text exactly.
 */

export interface SpanTokenizer {
  decode(ids: readonly number[]): string;
}

export type TokenSpans = { ok: true; starts: Int32Array; ends: Int32Array } | { ok: false; detail: string };

/** Tokens of context before each token; enough for every decoder's look-behind (spaces, byte fallback). */
const WINDOW = 6;
const REPLACEMENT = '\uFFFD';

/**
 * Span [starts[i], ends[i]) of every token of `ids` inside `text` (the text those ids encode). Tokens listed in
 * `skip` (a BOS the caller prepended) get an empty span at 0 and are not decoded.
 */
export function tokenSpans(tokenizer: SpanTokenizer, ids: readonly number[], text: string, skip = 0): TokenSpans {
  const starts = new Int32Array(ids.length);
  const ends = new Int32Array(ids.length);
  let pos = 0;
  let pendingFrom = skip;
  for (let i = skip; i < ids.length; i++) {
    const from = Math.max(skip, Math.min(pendingFrom, i) - WINDOW);
    const before = from < pendingFrom ? tokenizer.decode(ids.slice(from, pendingFrom)) : '';
    const after = tokenizer.decode(ids.slice(from, i + 1));
    if (!after.startsWith(before)) return { ok: false, detail: `decoding is not incremental at token ${i}` };
    const piece = after.slice(before.length);
    // A token ending inside a multi-byte character: wait for the token that completes it.
    if (piece.endsWith(REPLACEMENT) && text[pos + piece.length - 1] !== REPLACEMENT && i + 1 < ids.length) continue;
    if (!text.startsWith(piece, pos)) return { ok: false, detail: `token ${i} decodes to ${JSON.stringify(piece.slice(0, 20))}, text has ${JSON.stringify(text.slice(pos, pos + 20))}` };
    for (let k = pendingFrom; k <= i; k++) {
      starts[k] = pos;
      ends[k] = pos + piece.length;
    }
    pos += piece.length;
    pendingFrom = i + 1;
  }
  if (pendingFrom < ids.length) return { ok: false, detail: 'the last tokens do not decode to complete characters' };
  if (pos !== text.length) return { ok: false, detail: `tokens decode to ${pos} of ${text.length} characters` };
  return { ok: true, starts, ends };
}
