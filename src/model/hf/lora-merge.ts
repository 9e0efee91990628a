/**
 * A PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors) merged into its base as a WeightSource:
 * W' = W + scale · B·A for every adapted linear layer, scale = lora_alpha / r (lora_alpha / √r with use_rslora), as
 * peft's merge_and_unload computes it. DoRA and other adapter kinds are refused.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FleetError } from '../../common/errors';
import { SafetensorsFile } from '../weights/safetensors';
import type { WeightSource, WeightTensor } from '../weights/weight-source';

interface AdapterConfig {
  peft_type?: string;
  r?: number;
  lora_alpha?: number;
  use_rslora?: boolean;
  use_dora?: boolean;
  fan_in_fan_out?: boolean;
  base_model_name_or_path?: string | null;
}

export function isLoraAdapter(dir: string): boolean {
  return existsSync(join(dir, 'adapter_config.json'));
}

export function readAdapterConfig(dir: string): AdapterConfig {
  const path = join(dir, 'adapter_config.json');
  let cfg: AdapterConfig;
  try {
    cfg = JSON.parse(readFileSync(path, 'utf8')) as AdapterConfig;
  } catch (err) {
    throw new FleetError('invalid_request', `${path}: unreadable (${(err as Error).message})`, { code: 'invalid_adapter' });
  }
  if (cfg.peft_type !== undefined && cfg.peft_type !== 'LORA') throw new FleetError('invalid_request', `${path}: peft_type ${cfg.peft_type} is not LORA`, { code: 'invalid_adapter' });
  if (cfg.use_dora === true) throw new FleetError('invalid_request', `${path}: DoRA adapters are not supported (merge it with peft first)`, { code: 'invalid_adapter' });
  if (cfg.fan_in_fan_out === true) throw new FleetError('invalid_request', `${path}: fan_in_fan_out adapters are not supported`, { code: 'invalid_adapter' });
  if (typeof cfg.r !== 'number' || cfg.r <= 0 || typeof cfg.lora_alpha !== 'number') throw new FleetError('invalid_request', `${path}: r and lora_alpha must be numbers`, { code: 'invalid_adapter' });
  return cfg;
}

const PREFIX = 'base_model.model.';

export class LoraMergedWeights implements WeightSource {
  private readonly adapter: SafetensorsFile;
  private readonly scale: number;
  /** base weight name -> [lora_A name, lora_B name] */
  private readonly pairs = new Map<string, [string, string]>();

  constructor(private readonly base: WeightSource, adapterDir: string) {
    const cfg = readAdapterConfig(adapterDir);
    const file = join(adapterDir, 'adapter_model.safetensors');
    if (!existsSync(file)) throw new FleetError('invalid_request', `${adapterDir}: adapter_model.safetensors is missing`, { code: 'invalid_adapter' });
    this.adapter = new SafetensorsFile(file);
    this.scale = cfg.use_rslora === true ? cfg.lora_alpha! / Math.sqrt(cfg.r!) : cfg.lora_alpha! / cfg.r!;
    for (const name of this.adapter.entries.keys()) {
      const m = /^(.*)\.lora_A(?:\.[^.]+)?\.weight$/.exec(name);
      if (!m) continue;
      const module = m[1].startsWith(PREFIX) ? m[1].slice(PREFIX.length) : m[1];
      const bName = name.replace('.lora_A', '.lora_B');
      if (!this.adapter.has(bName)) throw new FleetError('invalid_request', `${file}: ${name} has no matching lora_B`, { code: 'invalid_adapter' });
      const target = `${module}.weight`;
      if (!base.has(target)) throw new FleetError('invalid_request', `${file}: adapter for '${target}', which the base model does not have (wrong --lora-base?)`, { code: 'invalid_adapter' });
      this.pairs.set(target, [name, bName]);
    }
    if (this.pairs.size === 0) throw new FleetError('invalid_request', `${file}: no lora_A / lora_B tensors`, { code: 'invalid_adapter' });
  }

  get adaptedLayers(): number {
    return this.pairs.size;
  }

  has(name: string): boolean {
    return this.base.has(name);
  }

  get(name: string): WeightTensor {
    const w = this.base.get(name);
    const pair = this.pairs.get(name);
    if (pair === undefined) return w;
    const a = this.adapter.get(pair[0]); // [r, in]
    const b = this.adapter.get(pair[1]); // [out, r]
    const [out, inF] = w.shape;
    const r = a.shape[0];
    if (a.shape[1] !== inF || b.shape[0] !== out || b.shape[1] !== r) {
      throw new FleetError('invalid_request', `LoRA for ${name}: A [${a.shape.join(', ')}] · B [${b.shape.join(', ')}] does not fit [${w.shape.join(', ')}]`, { code: 'invalid_adapter' });
    }
    const merged = new Float32Array(w.data);
    const row = new Float64Array(inF);
    for (let o = 0; o < out; o++) {
      row.fill(0);
      for (let k = 0; k < r; k++) {
        const coef = b.data[o * r + k];
        if (coef === 0) continue;
        const aRow = k * inF;
        for (let i = 0; i < inF; i++) row[i] += coef * a.data[aRow + i];
      }
      const base = o * inF;
      for (let i = 0; i < inF; i++) merged[base + i] += this.scale * row[i];
    }
    return { data: merged, shape: w.shape };
  }
}
