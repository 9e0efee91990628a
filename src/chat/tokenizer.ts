/**
 * Tokenizer loading shared by the worker and the jobs: a Hugging Face model directory (tokenizer.json +
 * tokenizer_config.json, plus special_tokens_map.json / generation_config.json / chat_template.jinja when present)
 * over @huggingface/tokenizers.
 */
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { FleetError } from '../common/errors';
import { parseJsonFile, readModelChatDir, readOptionalText } from './model-files';
import type { ChatTokenizerInfo } from './tokenizer-info';

export interface EncodeOptions {
  /** Let the tokenizer's post-processor add its special tokens (BOS…). Default false. */
  readonly addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  readonly skipSpecialTokens?: boolean;
}

export interface LoadedTokenizer {
  readonly modelDir: string;
  /** Facts for prompt rendering, with ids resolved against the vocabulary; pass as `tokenizerConfig` to selectTemplate. */
  readonly chat: ChatTokenizerInfo;
  /** The default Jinja chat template, when the tokenizer has one. */
  readonly chatTemplate: string | null;
  readonly bosTokenId: number | null;
  /** Every id that ends generation (generation_config.json's list and the tokenizer's eos_token). */
  readonly eosTokenIds: readonly number[];
  readonly padTokenId: number | null;
  readonly specialTokenIds: ReadonlySet<number>;
  /** `base_model_name_or_path` when the directory is a PEFT adapter. */
  readonly peftBaseModel?: string;
  encode(text: string, options?: EncodeOptions): number[];
  /** Exact inverse of encode (no clean-up of tokenization spaces). */
  decode(ids: readonly number[], options?: DecodeOptions): string;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
}

class HfTokenizer implements LoadedTokenizer {
  readonly chatTemplate: string | null;
  readonly specialTokenIds: ReadonlySet<number>;

  constructor(
    readonly modelDir: string,
    private readonly tokenizer: Tokenizer,
    readonly chat: ChatTokenizerInfo,
    readonly padTokenId: number | null,
    readonly peftBaseModel?: string,
  ) {
    this.chatTemplate = chat.chatTemplate;
    const added = [...tokenizer.get_added_tokens_decoder().values()];
    this.specialTokenIds = new Set(added.filter((t) => t.special).map((t) => t.id));
  }

  get bosTokenId(): number | null {
    return this.chat.bosTokenId;
  }

  get eosTokenIds(): readonly number[] {
    return this.chat.eosTokenIds;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? false }).ids;
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false, clean_up_tokenization_spaces: false });
  }

  tokenToId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokenizer.id_to_token(id);
  }
}

/** Whether encoding with special tokens puts BOS first (what the tokenizer's post-processor really does). */
function probeAddsBos(tokenizer: Tokenizer, bosId: number | null): boolean {
  if (bosId === null) return false;
  const withSpecial = tokenizer.encode('a', { add_special_tokens: true }).ids;
  const plain = tokenizer.encode('a', { add_special_tokens: false }).ids;
  return withSpecial[0] === bosId && plain[0] !== bosId;
}

/** Resolves the token strings of the configs against the vocabulary. */
function resolveIds(tokenizer: Tokenizer, info: ChatTokenizerInfo): ChatTokenizerInfo {
  const idOf = (token: string | null): number | null => (token === null ? null : (tokenizer.token_to_id(token) ?? null));
  const bosTokenId = idOf(info.bosToken) ?? info.bosTokenId;
  const eos = idOf(info.eosToken);
  const eosTokenIds = eos === null || info.eosTokenIds.includes(eos) ? [...info.eosTokenIds] : [...info.eosTokenIds, eos];
  return { ...info, bosTokenId, eosTokenIds, addsBos: probeAddsBos(tokenizer, bosTokenId) };
}

/** Loads `tokenizer.json` and its configs from a model directory. */
export async function loadTokenizer(modelDir: string): Promise<LoadedTokenizer> {
  const path = join(modelDir, 'tokenizer.json');
  const text = await readOptionalText(path);
  if (text === undefined) throw new FleetError('not_found', `no tokenizer.json in ${modelDir}`, { param: 'model' });
  const dir = await readModelChatDir(modelDir);
  const config = typeof dir.files.tokenizerConfig === 'object' && dir.files.tokenizerConfig !== null ? dir.files.tokenizerConfig : {};
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(parseJsonFile(path, text) as object, config);
  } catch (err) {
    if (err instanceof FleetError) throw err;
    throw new FleetError('invalid_request', `${path} cannot be loaded: ${(err as Error).message}`, { cause: err });
  }
  const chat = resolveIds(tokenizer, dir.info);
  const pad = chat.specialTokens.pad_token;
  const padTokenId = pad === undefined ? null : (tokenizer.token_to_id(pad) ?? null);
  return new HfTokenizer(modelDir, tokenizer, chat, padTokenId, dir.peftBaseModel);
}

/** Token ids of a rendered prompt: the text without added special tokens, BOS in front only when asked. */
export function encodePrompt(tokenizer: LoadedTokenizer, rendered: { readonly text: string; readonly addBosToken: boolean }): number[] {
  const ids = tokenizer.encode(rendered.text, { addSpecialTokens: false });
  return rendered.addBosToken && tokenizer.bosTokenId !== null ? [tokenizer.bosTokenId, ...ids] : ids;
}
