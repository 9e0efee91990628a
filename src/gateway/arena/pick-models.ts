/** Which models meet in an anonymous battle: two different ones, uniformly at random among the live chat models. */
import { randomInt } from 'node:crypto';
import { FleetError } from '../../common/errors';

/** `randomBelow(n)` returns an integer in [0, n). */
export type RandomBelow = (n: number) => number;

export const cryptoRandomBelow: RandomBelow = (n) => randomInt(n);

/** Returns [modelA, modelB] in random order; throws `unavailable` with fewer than two distinct models. */
export function pickBattleModels(models: readonly string[], randomBelow: RandomBelow = cryptoRandomBelow): [string, string] {
  const distinct = [...new Set(models)];
  if (distinct.length < 2) {
    throw new FleetError('unavailable', `an anonymous battle needs two different chat models; ${distinct.length === 0 ? 'none is' : `only ${distinct[0]} is`} being served`, { code: 'not_enough_models' });
  }
  const first = randomBelow(distinct.length);
  const offset = 1 + randomBelow(distinct.length - 1);
  return [distinct[first], distinct[(first + offset) % distinct.length]];
}
