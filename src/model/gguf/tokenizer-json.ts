/**
 * tokenizer.json rebuilt from a GGUF vocabulary, for @huggingface/tokenizers (and transformers):
 *   gpt2  -> byte-level BPE: the GGUF's vocabulary and merges, the pre-tokenizer named by tokenizer.ggml.pre,
 *            a ByteLevel decoder;
 *   llama -> SentencePiece-style BPE (Llama-2 / Mistral layout): spaces become '▁' with one prepended, merges derived
 *            from the scores (the pair whose result scores highest merges first), byte fallback through <0xNN> tokens.
 * Control, user-defined and unknown tokens become added tokens (control and unknown ones special), so they are
 * matched whole in the text; BOS / EOS are added by a TemplateProcessing post-processor when the GGUF asks for it.
 */
import { FleetError } from '../../common/errors';
import type { GgufVocab } from './gguf-vocab';
import { TokenType } from './gguf-vocab';
import { byteLevelPreTokenizer } from './pre-tokenizers';
import { spmMerges } from './spm-merges';

export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

export function addedTokens(v: GgufVocab): AddedTokenJson[] {
  const out: AddedTokenJson[] = [];
  v.types.forEach((type, id) => {
    if (type !== TokenType.CONTROL && type !== TokenType.USER_DEFINED && type !== TokenType.UNKNOWN) return;
    out.push({ id, content: v.tokens[id], single_word: false, lstrip: false, rstrip: false, normalized: false, special: type !== TokenType.USER_DEFINED });
  });
  return out;
}

/** token -> id; a token text that appears twice keeps its first id (the later one stays reachable by id only). */
function vocabObject(tokens: readonly string[]): Record<string, number> {
  const vocab: Record<string, number> = Object.create(null) as Record<string, number>;
  tokens.forEach((t, id) => {
    if (!(t in vocab)) vocab[t] = id;
  });
  return vocab;
}

function postProcessor(v: GgufVocab): Record<string, unknown> | null {
  const bos = v.addBos && v.bosId !== undefined ? v.tokens[v.bosId] : undefined;
  const eos = v.addEos && v.eosId !== undefined ? v.tokens[v.eosId] : undefined;
  if (bos === undefined && eos === undefined) return null;
  const special = (token: string): Record<string, unknown> => ({ SpecialToken: { id: token, type_id: 0 } });
  const seq = (id: string): Record<string, unknown> => ({ Sequence: { id, type_id: 0 } });
  const wrap = (inner: Array<Record<string, unknown>>): Array<Record<string, unknown>> => [
    ...(bos === undefined ? [] : [special(bos)]), ...inner, ...(eos === undefined ? [] : [special(eos)]),
  ];
  const specialTokens: Record<string, unknown> = {};
  for (const [token, id] of [[bos, v.bosId], [eos, v.eosId]] as Array<[string | undefined, number | undefined]>) {
    if (token !== undefined && id !== undefined) specialTokens[token] = { id: token, ids: [id], tokens: [token] };
  }
  return { type: 'TemplateProcessing', single: wrap([seq('A')]), pair: wrap([seq('A'), ...wrap([seq('B')])]), special_tokens: specialTokens };
}

function splitMerge(merge: string, index: number): [string, string] {
  const space = merge.indexOf(' ', 1);
  if (space < 0) throw new FleetError('invalid_request', `tokenizer.ggml.merges[${index}] '${merge}' is not "left right"`, { code: 'invalid_gguf' });
  return [merge.slice(0, space), merge.slice(space + 1)];
}

function bpeTokenizer(v: GgufVocab): Record<string, unknown> {
  const { preTokenizer, ignoreMerges } = byteLevelPreTokenizer(v.pre);
  return {
    normalizer: null,
    pre_tokenizer: preTokenizer,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: ignoreMerges,
      vocab: vocabObject(v.tokens), merges: v.merges.map(splitMerge),
    },
  };
}

function spmTokenizer(v: GgufVocab): Record<string, unknown> {
  if (v.scores === undefined) throw new FleetError('invalid_request', 'a llama (SentencePiece) tokenizer needs tokenizer.ggml.scores', { code: 'invalid_gguf' });
  const normalizers: Array<Record<string, unknown>> = [{ type: 'Replace', pattern: { String: ' ' }, content: '▁' }];
  if (v.addSpacePrefix) normalizers.unshift({ type: 'Prepend', prepend: '▁' });
  const decoders: Array<Record<string, unknown>> = [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }];
  if (v.addSpacePrefix) decoders.push({ type: 'Strip', content: ' ', start: 1, stop: 0 });
  return {
    normalizer: { type: 'Sequence', normalizers },
    pre_tokenizer: null,
    decoder: { type: 'Sequence', decoders },
    model: {
      type: 'BPE', dropout: null, unk_token: v.unkId === undefined ? null : v.tokens[v.unkId], continuing_subword_prefix: null,
      end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false,
      vocab: vocabObject(v.tokens), merges: spmMerges(v.tokens, v.types, v.scores),
    },
  };
}

export function buildTokenizerJson(v: GgufVocab): Record<string, unknown> {
  const body = v.model === 'gpt2' ? bpeTokenizer(v) : spmTokenizer(v);
  return { version: '1.0', truncation: null, padding: null, added_tokens: addedTokens(v), ...body, post_processor: postProcessor(v) };
}
