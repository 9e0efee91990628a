/** Deterministic random tensors by name: each tensor has its own seed (model seed + name), mean and std. */
import { FleetError } from '../../common/errors';
import { WeightSource, WeightTensor } from '../weights/weight-source';
import { randomTensor, tensorSeed } from './seeded-random';

export interface RandomTensorSpec {
  shape: readonly number[];
  mean: number;
  std: number;
}

export class RandomWeights implements WeightSource {
  constructor(private readonly specs: ReadonlyMap<string, RandomTensorSpec>, private readonly seed: number) {}

  has(name: string): boolean {
    return this.specs.has(name);
  }

  get(name: string): WeightTensor {
    const spec = this.specs.get(name);
    if (spec === undefined) throw new FleetError('invalid_request', `weight '${name}' is not part of this model`);
    const count = spec.shape.reduce((a, b) => a * b, 1);
    return { data: randomTensor(count, tensorSeed(this.seed, name), spec.mean, spec.std), shape: spec.shape };
  }
}
