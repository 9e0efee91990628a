/**
 * The embedded default model: generated on first use with the `small` preset into the cache, atomically
 * (built in a temporary directory, then renamed), keyed by the generator version so upgrades rebuild it.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../common/log';
import { GENERATOR_VERSION, createTinyModel } from './tiny/create-tiny-model';
import type { TinyPresetName } from './tiny/presets';

export const DEFAULT_MODEL_NAME = 'fleetchat-tiny-chat';

export async function ensureDefaultModel(cacheDir: string, logger?: Logger, preset: TinyPresetName = 'small'): Promise<string> {
  const dir = join(cacheDir, 'models', `${DEFAULT_MODEL_NAME}-${preset}-v${GENERATOR_VERSION}`);
  if (existsSync(join(dir, 'onnx', 'model.onnx'))) return dir;
  mkdirSync(join(cacheDir, 'models'), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  logger?.info({ dir, preset }, 'generating the embedded default model (first run only)');
  try {
    await createTinyModel({ outDir: tmp, preset, safetensors: false });
    if (existsSync(join(dir, 'onnx', 'model.onnx'))) return dir; // another process won the race
    renameSync(tmp, dir);
  } finally {
    if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}
