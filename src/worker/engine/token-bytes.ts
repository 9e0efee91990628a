/**
 * The exact bytes of a vocabulary entry, for logprobs' `bytes` field: byte-level BPE vocabularies (GPT-2,
 * Llama-3, Qwen) store bytes as printable characters; SentencePiece vocabularies (Llama-2, Mistral, SmolLM)
 * use `▁` for spaces and `<0xNN>` byte-fallback tokens.
 */
export type VocabEncoding = 'byte-level' | 'sentencepiece' | 'plain';

let byteDecoder: Map<string, number> | undefined;

/** Inverse of GPT-2's bytes_to_unicode table. */
function byteLevelTable(): Map<string, number> {
  if (byteDecoder) return byteDecoder;
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table = new Map<string, number>();
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (printable.includes(b)) table.set(String.fromCharCode(b), b);
    else table.set(String.fromCharCode(256 + extra++), b);
  }
  byteDecoder = table;
  return table;
}

const utf8 = new TextEncoder();

export function tokenBytes(token: string, encoding: VocabEncoding): Uint8Array {
  if (encoding === 'byte-level') {
    const table = byteLevelTable();
    const out: number[] = [];
    for (const ch of token) {
      const b = table.get(ch);
      if (b === undefined) return utf8.encode(token); // an added token stored as plain text
      out.push(b);
    }
    return Uint8Array.from(out);
  }
  if (encoding === 'sentencepiece') {
    const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(token);
    if (m) return Uint8Array.of(parseInt(m[1], 16));
    return utf8.encode(token.replace(/\u2581/g, ' '));
  }
  return utf8.encode(token);
}

interface DecoderJson {
  type?: string;
  decoders?: DecoderJson[];
}

/** Reads the vocabulary encoding from tokenizer.json's `decoder` section. */
export function vocabEncodingOf(tokenizerJson: { decoder?: DecoderJson | null }): VocabEncoding {
  const types = new Set<string>();
  const walk = (d: DecoderJson | null | undefined): void => {
    if (!d) return;
    if (d.type) types.add(d.type);
    for (const child of d.decoders ?? []) walk(child);
  };
  walk(tokenizerJson.decoder);
  if (types.has('ByteLevel')) return 'byte-level';
  if (types.has('Metaspace') || types.has('ByteFallback') || types.has('Replace')) return 'sentencepiece';
  return 'plain';
}
