/** Options of `fleetchat jobs elo` (flags and FLEETCHAT_* environment variables, one schema). */
import { InvalidArgumentError } from 'commander';
import {
  boolOption, enumOption, intOption, optionalStringOption, type ConfigOf, type OptionSpec,
} from '../../common/config';
import type { Anchor } from '../../arena/rating/elo-scale';

/** `MODEL=RATING` (the last `=` splits, so model names may contain `=`). */
export function parseAnchor(raw: string): Anchor {
  const split = raw.lastIndexOf('=');
  const model = split > 0 ? raw.slice(0, split).trim() : '';
  const rating = split > 0 ? Number(raw.slice(split + 1)) : Number.NaN;
  if (model === '' || raw.slice(split + 1).trim() === '' || !Number.isFinite(rating)) {
    throw new InvalidArgumentError(`expected MODEL=RATING such as mixtral-8x7b-instruct-v0.1=1114, got '${raw}'`);
  }
  return { model, rating };
}

const anchorOption: OptionSpec<Anchor | undefined> = {
  flag: '--anchor',
  placeholder: '<model=rating>',
  description: 'pin this model\'s rating (default: mixtral-8x7b-instruct-v0.1=1114 when present, else mean 1000)',
  default: undefined,
  parse: (raw) => parseAnchor(raw),
};

export const ELO_JOB_SCHEMA = {
  battles: optionalStringOption({ flag: '--battles', placeholder: '<file>', description: 'FastChat battle log (JSON array or JSON lines)' }),
  db: optionalStringOption({ flag: '--db', placeholder: '<path|url>', description: 'arena database to read the votes from instead: a SQLite file or postgres://user@host/db (password from PGPASSWORD)' }),
  out: optionalStringOption({ flag: '--out', placeholder: '<dir>', description: 'output directory (created when missing); required' }),
  styleControl: boolOption({ flag: '--style-control', description: 'also rate with answer length and markdown (headers, lists, bold) as Bradley-Terry covariates, as lmarena', default: false }),
  includeNamed: boolOption({ flag: '--include-named', description: 'also rate battles where the judge saw the model names', default: false }),
  anchor: anchorOption,
  bootstrap: intOption({ flag: '--bootstrap', description: 'bootstrap rounds for the 95% intervals (0: none)', default: 100, min: 0, max: 100_000 }),
  seed: intOption({ flag: '--seed', description: 'seed of the bootstrap resampling', default: 42, min: 0, max: 2 ** 31 - 1 }),
  logLevel: enumOption({ flag: '--log-level', description: 'log level', default: 'info', choices: ['debug', 'info', 'warn', 'error', 'silent'] as const }),
};

export type EloJobConfig = ConfigOf<typeof ELO_JOB_SCHEMA>;
