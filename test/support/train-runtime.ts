/**
 * The trainer's Python runtime for tests: scripts/install-train-runtime builds it once into the cache (PyTorch +
 * transformers + peft from PyPI, minutes the first time, about 3 GB) and prints its python; later calls return at
 * once. CI runs the script before the tests, so the suites that need it never skip.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');
let cached: string | undefined;

export function trainRuntime(): string {
  if (cached !== undefined) return cached;
  process.stderr.write('train tests: ensuring the trainer runtime (scripts/install-train-runtime; cached under ~/.cache/fleetchat/train-venv)\n');
  cached = execFileSync(join(ROOT, 'scripts/install-train-runtime'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 20 * 60_000 }).trim();
  return cached;
}

export const COMPAT_SCRIPT = join(ROOT, 'scripts/compat/hf_logits.py');
