/**
 * One file from the hub into the cache, safe when several pods share the cache: each download writes its own
 * temporary file (`<target>.<pid>.<random>.incomplete`, created exclusively, never followed through a link), resumes
 * it with a Range request after an interruption, checks a 206's `Content-Range` against the range asked for, never
 * accepts more bytes than the listing promised, verifies size and LFS sha256, and renames it into place atomically.
 * Two pods fetching the same file both finish with the same bytes in place; neither sees the other's half file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { FleetError } from '../../common/errors';
import type { TreeEntry } from './hub-paths';

export interface FileDownload {
  url: string;
  entry: TreeEntry;
  target: string;
  /** This download's own temporary file (see tempPathFor). */
  temp: string;
  fetchRange(headers: Record<string, string>): Promise<Response>;
  log(fields: Record<string, unknown>, message: string): void;
}

export function tempPathFor(target: string): string {
  return `${target}.${process.pid}.${randomBytes(6).toString('hex')}.incomplete`;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

function rangeMismatch(d: FileDownload, asked: string, got: string): FleetError {
  return new FleetError('unavailable', `the hub answered ${d.entry.path} with Content-Range '${got.slice(0, 100)}' for '${asked}' (${d.entry.size} bytes): refusing it; the download restarts from the beginning`, { code: 'content_range_mismatch' });
}

/**
 * Where the body of `res` starts in the file: 0 for a 200, the range's start for a 206 whose Content-Range is exactly
 * `bytes <have>-<size-1>/<size>`. Anything else is refused.
 */
export function bodyStart(d: FileDownload, res: Response, have: number): number {
  if (res.status !== 206) return 0;
  const asked = have > 0 ? `bytes=${have}-` : '(no range)';
  const header = res.headers.get('content-range') ?? '';
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header.trim());
  if (!m) throw rangeMismatch(d, asked, header);
  const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (start !== have || end !== d.entry.size - 1 || total !== d.entry.size) throw rangeMismatch(d, asked, header);
  return start;
}

/** Passes at most `limit` bytes; more is a hostile or broken mirror. */
function byteLimit(limit: number, path: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, callback) {
      seen += chunk.length;
      if (seen > limit) callback(new FleetError('unavailable', `the hub sent more than the ${limit} bytes listed for ${path}`, { code: 'oversized_download' }));
      else callback(null, chunk);
    },
  });
}

/** Downloads (or finishes) one file; the temporary file survives an interruption so the next attempt resumes it. */
export async function downloadInto(d: FileDownload): Promise<void> {
  const { entry, temp } = d;
  const have = existsSync(temp) ? statSync(temp).size : 0;
  const res = await d.fetchRange(have > 0 && have < entry.size ? { range: `bytes=${have}-` } : {});
  let start: number;
  try {
    start = bodyStart(d, res, have > 0 && have < entry.size ? have : 0);
  } catch (err) {
    await res.body?.cancel().catch(() => undefined);
    await rm(temp, { force: true });
    throw err;
  }
  d.log({ file: entry.path, bytes: entry.size, resumeFrom: start }, 'downloading');
  if (!res.body) throw new FleetError('unavailable', `empty response for ${d.url}`);
  // 'wx': the temporary name is this process's own; a file or link already there is someone else's.
  const flags = start > 0 ? 'a' : existsSync(temp) ? 'w' : 'wx';
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), byteLimit(entry.size - start, entry.path), createWriteStream(temp, { flags }));
  } catch (err) {
    if (err instanceof FleetError && err.code === 'oversized_download') {
      await rm(temp, { force: true });
      throw err;
    }
    const kept = existsSync(temp) ? statSync(temp).size : 0;
    throw new FleetError('unavailable', `download of ${entry.path} was interrupted (${(err as Error).message}); it resumes from ${kept} bytes`, { cause: err });
  }
  const size = statSync(temp).size;
  if (size !== entry.size) throw new FleetError('unavailable', `download of ${entry.path} is incomplete (${size} of ${entry.size} bytes)`);
  if (entry.lfs) {
    const digest = await sha256Of(temp);
    if (digest !== entry.lfs.oid) {
      await rm(temp, { force: true });
      throw new FleetError('unavailable', `checksum mismatch for ${entry.path}: expected sha256 ${entry.lfs.oid}, got ${digest}`, { code: 'checksum_mismatch' });
    }
  }
  await rename(temp, d.target);
}
