/** tokenizer_config.json and the special token ids of a model imported from GGUF. */
import type { GgufVocab } from './gguf-vocab';
import { endOfGenerationIds } from './gguf-vocab';
import { addedTokens } from './tokenizer-json';

export interface ImportedTokenIds {
  bosTokenId: number | null;
  /** End of generation: eos first, then eot / eom and end-of-turn control tokens. */
  eosTokenIds: number[];
  padTokenId: number | null;
}

export function importedTokenIds(v: GgufVocab): ImportedTokenIds {
  return { bosTokenId: v.bosId ?? null, eosTokenIds: endOfGenerationIds(v), padTokenId: v.padId ?? null };
}

function chatTemplate(v: GgufVocab): string | Array<{ name: string; template: string }> | undefined {
  const named = Object.entries(v.namedTemplates).map(([name, template]) => ({ name, template }));
  if (named.length === 0) return v.chatTemplate;
  return [...(v.chatTemplate === undefined ? [] : [{ name: 'default', template: v.chatTemplate }]), ...named];
}

export function tokenizerConfig(v: GgufVocab, modelMaxLength: number): Record<string, unknown> {
  const text = (id: number | undefined): string | null => (id === undefined ? null : v.tokens[id]);
  const decoder: Record<string, unknown> = {};
  for (const t of addedTokens(v)) {
    const { id, ...rest } = t;
    decoder[String(id)] = rest;
  }
  const template = chatTemplate(v);
  return {
    add_bos_token: v.addBos,
    add_eos_token: v.addEos,
    added_tokens_decoder: decoder,
    bos_token: text(v.bosId),
    eos_token: text(v.eosId),
    unk_token: text(v.unkId),
    pad_token: text(v.padId),
    ...(template === undefined ? {} : { chat_template: template }),
    clean_up_tokenization_spaces: false,
    model_max_length: modelMaxLength,
    tokenizer_class: v.model === 'llama' ? 'LlamaTokenizerFast' : 'PreTrainedTokenizerFast',
    ...(v.model === 'llama' ? { legacy: true, add_prefix_space: v.addSpacePrefix } : {}),
  };
}

export function specialTokensMapOf(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token']) if (typeof config[key] === 'string') out[key] = config[key];
  return out;
}
