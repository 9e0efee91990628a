/**
 * ensureDefaultModel: the embedded default model of the product, generated on first use and cached. The cache entry
 * is keyed by the generator version and a hash of everything that decides its bytes (shape, seed, tokenizer
 * files); it is built in a temporary directory and renamed into place, so no process ever sees half a model,
 * and when two processes race the loser's copy is simply discarded. The served copy has no model.safetensors (the
 * worker does not need it): `fleetchat model create-tiny --preset small` writes the identical model with it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../common/log';
import { createTinyModel, GENERATOR_VERSION, resolveTinyShape } from './tiny/create-tiny-model';
import { TinyPresetName } from './tiny/presets';
import { tokenizerPackageName } from './tiny/tokenizer-files';
import { buildStagedDir } from './staged-dir';

/** The name the worker serves the default model under. */
export const DEFAULT_MODEL_NAME = 'fleetchat-tiny-chat';

/** `fleetchat up` without --model serves this preset. */
export const DEFAULT_MODEL_PRESET: TinyPresetName = 'small';

export interface DefaultModelOptions {
  preset?: TinyPresetName;
  seed?: number;
}

/** A digest of the tokenizer files the generator copies (their package may be upgraded under us). */
function tokenizerDigest(packageName: string): string {
  const hash = createHash('sha256');
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) {
    try {
      hash.update(readFileSync(require.resolve(`${packageName}/models/${file}`)));
    } catch {
      hash.update(`missing ${file}`);
    }
  }
  return hash.digest('hex');
}

/** The cache directory name of a default-model build: stable across runs, different when its bytes would differ. */
export function defaultModelKey(options: DefaultModelOptions = {}): string {
  const preset = options.preset ?? DEFAULT_MODEL_PRESET;
  const shape = resolveTinyShape({ preset, seed: options.seed });
  const tokenizer = tokenizerPackageName(shape.vocabFrom);
  const identity = JSON.stringify({ generator: GENERATOR_VERSION, shape, tokenizer, tokenizerFiles: tokenizerDigest(tokenizer) });
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, 12);
  return `fleetchat-${preset}-g${GENERATOR_VERSION}-${hash}`;
}

/** Returns the directory of the default model (`<cacheDir>/generated/<key>`), generating it first if it is not there yet. */
export async function ensureDefaultModel(cacheDir: string, logger?: Logger, options: DefaultModelOptions = {}): Promise<string> {
  const parent = join(cacheDir, 'generated');
  const dir = join(parent, defaultModelKey(options));
  if (existsSync(dir)) return dir;
  const preset = options.preset ?? DEFAULT_MODEL_PRESET;
  logger?.info({ dir, preset }, 'generating the embedded default model (first run only)');
  return buildStagedDir(dir, async (staging) => {
    const made = await createTinyModel({ outDir: staging, preset, seed: options.seed, safetensors: false });
    logger?.info({ dir, parameters: made.parameterCount, elapsedMs: made.elapsedMs }, 'embedded default model generated');
  });
}
