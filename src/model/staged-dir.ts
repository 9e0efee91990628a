/**
 * Building a cache directory atomically: the content is written into a uniquely named staging directory beside the
 * target and renamed into place, so a reader never sees a half-written model and two processes building the same
 * entry at once both end with the complete one (the loser's rename conflicts and its staging copy is removed).
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

function isRenameConflict(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM';
}

/** Runs `build(stagingDir)` and moves the result to `dir`; returns `dir`. */
export async function buildStagedDir(dir: string, build: (staging: string) => Promise<void>): Promise<string> {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const staging = join(parent, `.${basename(dir)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2, 8)}`);
  try {
    await build(staging);
    try {
      renameSync(staging, dir);
    } catch (err) {
      if (!(isRenameConflict(err) && existsSync(dir))) throw err;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return dir;
}
