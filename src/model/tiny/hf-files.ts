/** The JSON files of a Hugging Face model directory, written the same way every time (stable key order, newline). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function writeJson(dir: string, name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
  return path;
}

export interface GenerationIds {
  bosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number | null;
}

export function generationConfig(ids: GenerationIds): Record<string, unknown> {
  return {
    bos_token_id: ids.bosTokenId,
    eos_token_id: ids.eosTokenIds.length === 1 ? ids.eosTokenIds[0] : ids.eosTokenIds,
    pad_token_id: ids.padTokenId,
    do_sample: false,
    transformers_version: '4.46.0',
  };
}

export function specialTokensMap(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token', 'additional_special_tokens']) {
    if (config[key] !== undefined && config[key] !== null) out[key] = config[key];
  }
  return out;
}
