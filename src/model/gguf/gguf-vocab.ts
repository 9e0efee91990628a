/** The tokenizer a GGUF file carries (`tokenizer.ggml.*`, `tokenizer.chat_template*`), read and checked. */
import { FleetError } from '../../common/errors';
import type { GgufMetadata } from './gguf-metadata';

/** llama.cpp's token types (llama_token_type). */
export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export type VocabModel = 'gpt2' | 'llama';

export interface GgufVocab {
  model: VocabModel;
  /** `tokenizer.ggml.pre` (BPE pre-tokenizer name); undefined when absent. */
  pre: string | undefined;
  tokens: string[];
  types: number[];
  /** SentencePiece scores (llama vocabularies); undefined when absent. */
  scores: number[] | undefined;
  /** BPE merges as "left right" (gpt2 vocabularies). */
  merges: string[];
  bosId: number | undefined;
  eosId: number | undefined;
  /** End-of-turn / end-of-message tokens, when the file names them. */
  eotId: number | undefined;
  eomId: number | undefined;
  unkId: number | undefined;
  padId: number | undefined;
  addBos: boolean;
  addEos: boolean;
  /** SentencePiece: prepend a space to the text (default true). */
  addSpacePrefix: boolean;
  /** The default chat template and any named ones (`tokenizer.chat_template.<name>`). */
  chatTemplate: string | undefined;
  namedTemplates: Record<string, string>;
}

const SUPPORTED_MODELS: readonly string[] = ['gpt2', 'llama'];

function optionalId(m: GgufMetadata, key: string, size: number): number | undefined {
  const id = m.optionalNumber(key);
  if (id === undefined || id < 0 || id === 0xffffffff) return undefined;
  if (!Number.isInteger(id) || id >= size) throw new FleetError('invalid_request', `GGUF metadata '${key}' = ${id} is outside the vocabulary of ${size} tokens`, { code: 'invalid_gguf' });
  return id;
}

function namedTemplates(m: GgufMetadata): Record<string, string> {
  const out: Record<string, string> = {};
  const prefix = 'tokenizer.chat_template.';
  for (const key of m.keys()) {
    if (key.startsWith(prefix) && key.length > prefix.length) out[key.slice(prefix.length)] = m.string(key);
  }
  return out;
}

export function readGgufVocab(m: GgufMetadata): GgufVocab {
  const model = m.string('tokenizer.ggml.model');
  if (!SUPPORTED_MODELS.includes(model)) {
    throw new FleetError('invalid_request', `tokenizer model '${model}' is not supported (supported: gpt2 — byte-level BPE —, llama — SentencePiece)`, { code: 'unsupported_tokenizer' });
  }
  const tokens = m.stringArray('tokenizer.ggml.tokens');
  const types = m.optionalNumberArray('tokenizer.ggml.token_type') ?? tokens.map(() => TokenType.NORMAL);
  const scores = m.optionalNumberArray('tokenizer.ggml.scores');
  if (types.length !== tokens.length || (scores !== undefined && scores.length !== tokens.length)) {
    throw new FleetError('invalid_request', `tokenizer.ggml.token_type / scores do not have one entry per token (${tokens.length} tokens)`, { code: 'invalid_gguf' });
  }
  const merges = m.optionalStringArray('tokenizer.ggml.merges') ?? [];
  if (model === 'gpt2' && merges.length === 0) throw new FleetError('invalid_request', 'a gpt2 (BPE) tokenizer needs tokenizer.ggml.merges', { code: 'invalid_gguf' });
  const size = tokens.length;
  return {
    model: model as VocabModel,
    pre: m.optionalString('tokenizer.ggml.pre'),
    tokens,
    types,
    scores,
    merges,
    bosId: optionalId(m, 'tokenizer.ggml.bos_token_id', size),
    eosId: optionalId(m, 'tokenizer.ggml.eos_token_id', size),
    eotId: optionalId(m, 'tokenizer.ggml.eot_token_id', size),
    eomId: optionalId(m, 'tokenizer.ggml.eom_token_id', size),
    unkId: optionalId(m, 'tokenizer.ggml.unknown_token_id', size),
    padId: optionalId(m, 'tokenizer.ggml.padding_token_id', size),
    addBos: m.optionalBoolean('tokenizer.ggml.add_bos_token') ?? model === 'llama',
    addEos: m.optionalBoolean('tokenizer.ggml.add_eos_token') ?? false,
    addSpacePrefix: m.optionalBoolean('tokenizer.ggml.add_space_prefix') ?? model === 'llama',
    chatTemplate: m.optionalString('tokenizer.chat_template'),
    namedTemplates: namedTemplates(m),
  };
}

/** Texts llama.cpp treats as end-of-generation when they are control tokens (besides the eos/eot/eom ids). */
const END_OF_GENERATION_TEXTS = ['<|eot_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '<|eom_id|>', '<EOT>', '_<EOT>', '<｜end▁of▁sentence｜>'];

/** Every token that ends generation: eos, eot, eom, then control tokens llama.cpp recognises by their text. */
export function endOfGenerationIds(v: GgufVocab): number[] {
  const ids: number[] = [];
  for (const id of [v.eosId, v.eotId, v.eomId]) if (id !== undefined) ids.push(id);
  v.tokens.forEach((t, id) => {
    if (v.types[id] === TokenType.CONTROL && END_OF_GENERATION_TEXTS.includes(t)) ids.push(id);
  });
  return [...new Set(ids)];
}
