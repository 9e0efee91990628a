/**
 * Files that appear whole or not at all, safe when several jobs (pods sharing a volume, or two runs in one process)
 * write the same output: each write goes to its own temporary name next to the target (`<file>.<pid>.<random>.tmp`,
 * created exclusively, so nothing planted at a guessable name is followed or overwritten), is flushed to disk (fsync)
 * and renamed into place; the directory is then fsynced so the rename survives a crash. The last rename wins whole.
 * Used by the record writer (streamed records) and by jobs that write whole files (the Elo outputs).
 */
import { randomBytes } from 'node:crypto';
import { open as openFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A fresh temporary name next to `path`, unique to this process and call. */
export function temporaryPathFor(path: string): string {
  return `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

/** Writes `content` to `path` through an exclusive temporary file, fsync, rename, directory fsync. */
export async function writeFileAtomically(path: string, content: string | Uint8Array): Promise<void> {
  const temporary = temporaryPathFor(path);
  const handle = await openFile(temporary, 'wx', 0o644);
  try {
    try {
      await handle.writeFile(content, typeof content === 'string' ? 'utf8' : undefined);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
  await syncDirectory(dirname(path));
}

/** Makes a rename in `dir` durable (best effort: some filesystems refuse fsync on a directory). */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await openFile(dir, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // not supported here
  } finally {
    await handle.close();
  }
}
