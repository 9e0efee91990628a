/** The package version, read once from package.json. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function findVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(join(__dirname, rel), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'fleetchat' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // try the next candidate (source tree vs dist/)
    }
  }
  return '0.0.0';
}

export const VERSION = findVersion();
