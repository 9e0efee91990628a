/**
 * The secret behind judge pseudonyms. Given explicitly, it is used as is; otherwise a random one is created once
 * next to the database (`<db>.judge-secret`, mode 0600), so a judge keeps one pseudonym across gateway restarts.
 * A `:memory:` database gets a random secret per process. The database's directory is created when missing (a
 * fresh `--cache-dir`), as the store itself does.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { FleetError } from '../../common/errors';
import { JUDGE_SECRET_NAME } from '../../arena/judge-id';

const MIN_CHARS = 16;

export { JUDGE_SECRET_NAME };

export function judgeSecretPath(dbPath: string): string | undefined {
  return dbPath === ':memory:' ? undefined : `${dbPath}.judge-secret`;
}

function readSecret(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FleetError('unavailable', `cannot read the judge secret ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Creates the file only when absent (`wx`), so two gateways starting together agree on one secret. */
function createSecret(path: string): string {
  const secret = randomBytes(32).toString('hex');
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${secret}\n`, { flag: 'wx', mode: 0o600 });
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readSecret(path) ?? secret;
    throw new FleetError('unavailable', `cannot write the judge secret ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export function loadJudgeSecret(given: string, dbPath: string): string {
  if (given !== '') {
    if (given.length < MIN_CHARS) throw new FleetError('invalid_request', `--judge-secret must have at least ${MIN_CHARS} characters`, { param: 'judge-secret' });
    return given;
  }
  const path = judgeSecretPath(dbPath);
  if (path === undefined) return randomBytes(32).toString('hex');
  const existing = readSecret(path);
  if (existing !== undefined && existing.length >= MIN_CHARS) return existing;
  if (existing !== undefined) throw new FleetError('invalid_request', `the judge secret in ${path} is shorter than ${MIN_CHARS} characters`, { param: 'judge-secret' });
  return createSecret(path);
}
