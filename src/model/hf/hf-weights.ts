/**
 * A WeightSource over a Hugging Face checkpoint's safetensors: `model.safetensors`, or the shards named by
 * `model.safetensors.index.json` (weight_map: tensor -> file). Tensors are read (as float32) when asked for.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FleetError } from '../../common/errors';
import { SafetensorsFile } from '../weights/safetensors';
import type { WeightSource, WeightTensor } from '../weights/weight-source';

export class HfCheckpointWeights implements WeightSource {
  private readonly files = new Map<string, SafetensorsFile>();
  private readonly owner = new Map<string, string>();

  constructor(readonly dir: string) {
    const index = join(dir, 'model.safetensors.index.json');
    const single = join(dir, 'model.safetensors');
    if (existsSync(index)) {
      let map: Record<string, string>;
      try {
        map = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map?: Record<string, string> }).weight_map ?? {};
      } catch (err) {
        throw new FleetError('invalid_request', `${index}: not JSON (${(err as Error).message})`, { code: 'invalid_checkpoint' });
      }
      for (const [tensor, file] of Object.entries(map)) {
        if (file.includes('/') || file.includes('..')) throw new FleetError('invalid_request', `${index}: shard '${file}' is not a file of ${dir}`, { code: 'invalid_checkpoint' });
        this.owner.set(tensor, file);
      }
    } else if (existsSync(single)) {
      const file = new SafetensorsFile(single);
      this.files.set('model.safetensors', file);
      for (const name of file.entries.keys()) this.owner.set(name, 'model.safetensors');
    } else {
      throw new FleetError('invalid_request', `${dir}: no model.safetensors (or model.safetensors.index.json); pytorch_model.bin checkpoints are not read — save with safe_serialization`, { code: 'invalid_checkpoint' });
    }
  }

  names(): string[] {
    return [...this.owner.keys()];
  }

  has(name: string): boolean {
    return this.owner.has(name);
  }

  get(name: string): WeightTensor {
    const fileName = this.owner.get(name);
    if (fileName === undefined) throw new FleetError('invalid_request', `${this.dir}: weight '${name}' is missing`, { code: 'invalid_checkpoint' });
    let file = this.files.get(fileName);
    if (file === undefined) {
      file = new SafetensorsFile(join(this.dir, fileName));
      this.files.set(fileName, file);
    }
    return file.get(name);
  }
}
