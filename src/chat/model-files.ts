/**
 * Reads the small files of a Hugging Face model directory that prompt rendering needs (thin I/O; parsing is in
 * tokenizer-info.ts): tokenizer_config.json, special_tokens_map.json, generation_config.json,
 * chat_template.jinja / chat_template.json, and adapter_config.json for PEFT adapters.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FleetError } from '../common/errors';
import { type ChatTokenizerInfo, type ModelChatFiles, parseChatTokenizerInfo } from './tokenizer-info';

/** A file's text, or undefined when it does not exist. */
export async function readOptionalText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FleetError('internal', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Parses a JSON file's text; malformed JSON is a clear error naming the file. */
export function parseJsonFile(path: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new FleetError('invalid_request', `${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

async function readOptionalJson(path: string): Promise<unknown> {
  const text = await readOptionalText(path);
  return text === undefined ? undefined : parseJsonFile(path, text);
}

export interface ModelChatDir {
  readonly files: ModelChatFiles;
  readonly info: ChatTokenizerInfo;
  /** `base_model_name_or_path` when the directory is a PEFT adapter. */
  readonly peftBaseModel?: string;
}

function peftBaseOf(adapterConfig: unknown): string | undefined {
  if (typeof adapterConfig !== 'object' || adapterConfig === null) return undefined;
  const base = (adapterConfig as Record<string, unknown>).base_model_name_or_path;
  return typeof base === 'string' && base !== '' ? base : undefined;
}

/** Reads a model directory's chat-related files (all optional). */
export async function readModelChatDir(modelDir: string): Promise<ModelChatDir> {
  const [tokenizerConfig, specialTokensMap, generationConfig, chatTemplateJinja, chatTemplateJson, adapterConfig] = await Promise.all([
    readOptionalJson(join(modelDir, 'tokenizer_config.json')),
    readOptionalJson(join(modelDir, 'special_tokens_map.json')),
    readOptionalJson(join(modelDir, 'generation_config.json')),
    readOptionalText(join(modelDir, 'chat_template.jinja')),
    readOptionalJson(join(modelDir, 'chat_template.json')),
    readOptionalJson(join(modelDir, 'adapter_config.json')),
  ]);
  const files: ModelChatFiles = { tokenizerConfig, specialTokensMap, generationConfig, chatTemplateJinja, chatTemplateJson };
  return { files, info: parseChatTokenizerInfo(files), peftBaseModel: peftBaseOf(adapterConfig) };
}
