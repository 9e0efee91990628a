/**
 * Where the trainer's Python runtime and program live. The runtime is a virtual environment that
 * `scripts/install-train-runtime` builds from PyPI (PyTorch, transformers, peft; pinned in python/requirements.txt);
 * fleetchat never installs it behind the user's back.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { FleetError } from '../../common/errors';

export const INSTALL_SCRIPT = 'scripts/install-train-runtime';

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.FLEETCHAT_CACHE_DIR ?? join(homedir(), '.cache', 'fleetchat');
}

/** The python to run the trainer with: --python, else the cached venv. Throws a FleetError naming the install script. */
export function trainPython(explicit: string, env: NodeJS.ProcessEnv = process.env): string {
  const python = explicit !== '' ? explicit : join(cacheDir(env), 'train-venv', 'bin', 'python');
  if (!existsSync(python)) {
    const what = explicit !== '' ? `--python ${explicit} does not exist` : `the trainer's Python runtime is not installed (${python} is missing)`;
    throw new FleetError('unavailable', `${what}: run ${INSTALL_SCRIPT} (PyTorch + transformers + peft into ${join(cacheDir(env), 'train-venv')}; ` +
      'about 3 GB, a few minutes the first time)', { code: 'train_runtime_missing', param: 'python' });
  }
  return python;
}

/** The folder holding the `fleetchat_train` package (from the sources, or from dist/ next to them). */
export function trainerDir(): string {
  const candidates = [join(__dirname, 'python'), resolve(__dirname, '../../../../src/jobs/train/python')];
  const found = candidates.find((d) => existsSync(join(d, 'fleetchat_train', '__main__.py')));
  if (found === undefined) throw new FleetError('internal', `the trainer program (fleetchat_train) is not installed next to ${__dirname}`);
  return found;
}
