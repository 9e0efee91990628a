/**
 * ensureDefaultModel: the embedded default model of the product, generated on first use and cached. The cache entry
 * is keyed by the generator version and a hash of everything that decides its bytes (shape, seed, tokenizer package
 * and version); it is built in a temporary directory and renamed into place, so no process ever sees half a model,
 * and when two processes race the loser's copy is simply discarded.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createTinyModel, GENERATOR_VERSION, resolveTinyShape } from './create-tiny-model';
import { TinyPresetName } from './presets';
import { tokenizerPackageName } from './tokenizer-files';

/** `fleetchat up` without --model serves this preset. */
export const DEFAULT_MODEL_PRESET: TinyPresetName = 'small';

export interface DefaultModelOptions {
  preset?: TinyPresetName;
  seed?: number;
}

function packageVersion(name: string): string {
  try {
    const path = require.resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(path, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The cache directory name of a default-model build: stable across runs, different when its bytes would differ. */
export function defaultModelKey(options: DefaultModelOptions = {}): string {
  const preset = options.preset ?? DEFAULT_MODEL_PRESET;
  const shape = resolveTinyShape({ preset, seed: options.seed });
  const tokenizer = tokenizerPackageName(shape.vocabFrom);
  const identity = JSON.stringify({ generator: GENERATOR_VERSION, shape, tokenizer, tokenizerVersion: packageVersion(tokenizer) });
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, 12);
  return `fleetchat-${preset}-g${GENERATOR_VERSION}-${hash}`;
}

function isRenameConflict(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM';
}

/** Returns the directory of the default model (`<cacheDir>/generated/<key>`), generating it first if it is not there yet. */
export async function ensureDefaultModel(cacheDir: string, options: DefaultModelOptions = {}): Promise<string> {
  const parent = join(cacheDir, 'generated');
  const dir = join(parent, defaultModelKey(options));
  if (existsSync(dir)) return dir;
  mkdirSync(parent, { recursive: true });
  const staging = join(parent, `.${defaultModelKey(options)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2, 8)}`);
  try {
    await createTinyModel({ outDir: staging, preset: options.preset ?? DEFAULT_MODEL_PRESET, seed: options.seed });
    try {
      renameSync(staging, dir);
    } catch (err) {
      if (!(isRenameConflict(err) && existsSync(dir))) throw err;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return dir;
}
