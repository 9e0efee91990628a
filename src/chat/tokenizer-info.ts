/**
 * What prompt rendering needs to know about a model's tokenizer, parsed (no I/O) from the Hugging Face files:
 * tokenizer_config.json, special_tokens_map.json, generation_config.json and chat_template.jinja.
 */

export interface ChatTokenizerInfo {
  /** The default Jinja chat template, when the tokenizer has one. */
  readonly chatTemplate: string | null;
  /** Named templates when `chat_template` is a list (`default`, `tool_use`, …). */
  readonly namedChatTemplates: Readonly<Record<string, string>>;
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  /** Special tokens passed to Jinja templates by name (`bos_token`, `eos_token`, `pad_token`, `unk_token`, …). */
  readonly specialTokens: Readonly<Record<string, string>>;
  /** Whether the tokenizer puts BOS in front of an encoded text (`add_bos_token`, or what its post-processor does). */
  readonly addsBos: boolean;
  readonly bosTokenId: number | null;
  /** Every token id that ends generation (generation_config.json's `eos_token_id` may be a list). */
  readonly eosTokenIds: readonly number[];
}

/** Raw file contents of a model directory (already JSON-parsed), each optional. */
export interface ModelChatFiles {
  tokenizerConfig?: unknown;
  specialTokensMap?: unknown;
  generationConfig?: unknown;
  /** Text of `chat_template.jinja`. */
  chatTemplateJinja?: string;
  /** Parsed `chat_template.json` (`{"chat_template": "..."}`, written by processors). */
  chatTemplateJson?: unknown;
}

const SPECIAL_TOKEN_KEYS = ['bos_token', 'eos_token', 'unk_token', 'pad_token', 'sep_token', 'cls_token', 'mask_token'] as const;

type JsonObject = Record<string, unknown>;

function asObject(value: unknown): JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};
}

/** A token in a config: a string or an AddedToken object `{content: "..."}`. */
function tokenText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  const content = asObject(value).content;
  return typeof content === 'string' ? content : null;
}

function idList(value: unknown): number[] {
  if (Number.isInteger(value)) return [value as number];
  return Array.isArray(value) ? value.filter((v): v is number => Number.isInteger(v)) : [];
}

/** `chat_template` as stored: a string or a list of `{name, template}`. */
function parseChatTemplates(value: unknown): { main: string | null; named: Record<string, string> } {
  if (typeof value === 'string') return { main: value, named: {} };
  const named: Record<string, string> = {};
  if (Array.isArray(value)) {
    for (const entry of value) {
      const { name, template } = asObject(entry);
      if (typeof name === 'string' && typeof template === 'string') named[name] = template;
    }
  }
  return { main: named.default ?? null, named };
}

/** Token string → id from tokenizer_config.json's `added_tokens_decoder`. */
function addedTokenIds(config: JsonObject): Map<string, number> {
  const ids = new Map<string, number>();
  for (const [id, token] of Object.entries(asObject(config.added_tokens_decoder))) {
    const text = tokenText(token);
    if (text !== null && /^\d+$/.test(id)) ids.set(text, Number(id));
  }
  return ids;
}

function specialTokensOf(config: JsonObject, map: JsonObject): Record<string, string> {
  const tokens: Record<string, string> = {};
  for (const key of SPECIAL_TOKEN_KEYS) {
    const text = tokenText(config[key]) ?? tokenText(map[key]);
    if (text !== null) tokens[key] = text;
  }
  return tokens;
}

function chatTemplateSource(files: ModelChatFiles, config: JsonObject): unknown {
  if (files.chatTemplateJinja !== undefined) return files.chatTemplateJinja;
  if (config.chat_template !== undefined) return config.chat_template;
  return asObject(files.chatTemplateJson).chat_template;
}

/** Parses the tokenizer facts rendering needs; unknown or missing fields give empty values, never an error. */
export function parseChatTokenizerInfo(files: ModelChatFiles): ChatTokenizerInfo {
  const config = asObject(files.tokenizerConfig);
  const generation = asObject(files.generationConfig);
  const specialTokens = specialTokensOf(config, asObject(files.specialTokensMap));
  const added = addedTokenIds(config);
  const bosToken = specialTokens.bos_token ?? null;
  const eosToken = specialTokens.eos_token ?? null;
  const { main, named } = parseChatTemplates(chatTemplateSource(files, config));
  const bosFromGeneration = idList(generation.bos_token_id)[0];
  const eosIds = idList(generation.eos_token_id);
  const eosFromConfig = eosToken === null ? undefined : added.get(eosToken);
  if (eosFromConfig !== undefined && !eosIds.includes(eosFromConfig)) eosIds.push(eosFromConfig);
  return {
    chatTemplate: main,
    namedChatTemplates: named,
    bosToken,
    eosToken,
    specialTokens,
    addsBos: config.add_bos_token === true && bosToken !== null,
    bosTokenId: bosFromGeneration ?? (bosToken === null ? null : (added.get(bosToken) ?? null)),
    eosTokenIds: eosIds,
  };
}

/** No tokenizer known (FastChat templates still render; Jinja templates are unavailable). */
export const NO_TOKENIZER_INFO: ChatTokenizerInfo = parseChatTokenizerInfo({});
