/** Generated benchmark models, cached under .cache/bench-models (built once per generator version). */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATOR_VERSION, createTinyModel, type TinyModelOptions } from '../../src/model/tiny/create-tiny-model';

const ROOT = join(__dirname, '../../.cache/bench-models');

export async function benchModel(name: string, options: Omit<TinyModelOptions, 'outDir'>): Promise<string> {
  const dir = join(ROOT, `${name}-v${GENERATOR_VERSION}`);
  if (existsSync(join(dir, 'onnx', 'model.onnx'))) return dir;
  mkdirSync(ROOT, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  await createTinyModel({ ...options, outDir: tmp, safetensors: false });
  renameSync(tmp, dir);
  return dir;
}
