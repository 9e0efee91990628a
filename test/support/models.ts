/**
 * Generated models shared by test suites: built once per machine into .cache/test-models (keyed by the
 * generator version and the options), atomically, so parallel jest workers can share them.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATOR_VERSION, createTinyModel, type TinyModelOptions } from '../../src/model/tiny/create-tiny-model';

const ROOT = join(__dirname, '../../.cache/test-models');

export async function generatedModel(name: string, options: Omit<TinyModelOptions, 'outDir'> = { preset: 'tiny' }): Promise<string> {
  const dir = join(ROOT, `${name}-v${GENERATOR_VERSION}`);
  if (existsSync(join(dir, 'onnx', 'model.onnx'))) return dir;
  mkdirSync(ROOT, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await createTinyModel({ ...options, outDir: tmp });
    if (!existsSync(join(dir, 'onnx', 'model.onnx'))) renameSync(tmp, dir);
  } finally {
    if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

/** The tiny model's weights in a graph without `num_logits_to_keep` (the older optimum export interface). */
export function tinyModelUntrimmed(): Promise<string> {
  return generatedModel('tiny-untrimmed', { preset: 'tiny', logitsToKeepInput: false });
}

/** The tiny LLaMA-architecture chat model (GPT-2 vocabulary plus ChatML tokens). */
export function tinyModel(): Promise<string> {
  return generatedModel('tiny', { preset: 'tiny' });
}
