/**
 * The tokenizer files of a model imported from GGUF: tokenizer.json, tokenizer_config.json and
 * special_tokens_map.json, checked to load in @huggingface/tokenizers before anything is written.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { FleetError } from '../../common/errors';
import { writeJson } from '../tiny/hf-files';
import type { GgufMetadata } from './gguf-metadata';
import { readGgufVocab } from './gguf-vocab';
import { importedTokenIds, specialTokensMapOf, tokenizerConfig, type ImportedTokenIds } from './tokenizer-config';
import { buildTokenizerJson } from './tokenizer-json';

export interface WrittenTokenizer extends ImportedTokenIds {
  /** Number of tokens in the GGUF vocabulary. */
  tokenCount: number;
}

export function writeGgufTokenizer(metadata: GgufMetadata, dir: string, modelMaxLength: number): WrittenTokenizer {
  const vocab = readGgufVocab(metadata);
  const ids = importedTokenIds(vocab);
  if (ids.eosTokenIds.length === 0) throw new FleetError('invalid_request', 'the GGUF tokenizer names no end-of-sequence token', { code: 'invalid_gguf' });
  const tokenizerJson = buildTokenizerJson(vocab);
  const config = tokenizerConfig(vocab, modelMaxLength);
  try {
    new Tokenizer(tokenizerJson, config);
  } catch (err) {
    throw new FleetError('internal', `the tokenizer rebuilt from the GGUF vocabulary does not load: ${(err as Error).message}`, { cause: err });
  }
  writeJson(dir, 'tokenizer_config.json', config);
  writeJson(dir, 'special_tokens_map.json', specialTokensMapOf(config));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson));
  return { ...ids, tokenCount: vocab.tokens.length };
}
