/**
 * Loading models by Hugging Face repo id (`hf:ORG/NAME[@REV]`): resolve the revision to a commit, download the
 * files a worker needs into a cache laid out like huggingface_hub's (models--ORG--NAME/snapshots/SHA/...),
 * resume partial downloads with HTTP ranges, verify sizes and LFS sha256 checksums, and reuse the cache offline.
 * The hub's answers are checked as hostile input (hub-paths.ts, hub-download.ts); the token goes only over HTTPS
 * (or to a hub on this machine's loopback address).
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { rm, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FleetError } from '../../common/errors';
import type { Logger } from '../../common/log';
import type { WeightVariant } from './files';
import { downloadInto, tempPathFor } from './hub-download';
import { checkRealLocation, planDownload, snapshotTarget, type TreeEntry } from './hub-paths';

export interface HubOptions {
  cacheDir: string;
  /** Hub base URL (HF_ENDPOINT), default https://huggingface.co. */
  endpoint: string;
  token?: string;
  variant: WeightVariant;
  logger?: Logger;
  timeoutMs?: number;
}

export interface HubRef {
  repo: string;
  revision: string;
}

export function parseHubRef(source: string): HubRef | undefined {
  const m = /^hf:([A-Za-z0-9][\w.-]*\/[\w.-]+)(?:@([\w./-]+))?$/.exec(source);
  if (!m || m[2] === '.' || m[2] === '..') return undefined;
  return { repo: m[1], revision: m[2] ?? 'main' };
}

function repoDir(cacheDir: string, repo: string): string {
  return join(cacheDir, 'hub', `models--${repo.replace('/', '--')}`);
}

/** This machine's loopback addresses: localhost, 127.0.0.0/8, ::1. */
const isLoopback = (host: string): boolean => host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

/**
 * The HF token is a credential: it is sent only over https://, or plain http:// to this machine's loopback address
 * (a local mirror or a test hub). Any other http:// endpoint with a token is refused before a request is made.
 */
export function checkTokenTransport(endpoint: string, token: string | undefined): void {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new FleetError('invalid_request', `hub endpoint '${endpoint}' is not a URL`, { param: 'hf-endpoint' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new FleetError('invalid_request', `hub endpoint '${endpoint}' must be https:// (or http://)`, { param: 'hf-endpoint' });
  if (token && url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new FleetError('invalid_request', `refusing to send HF_TOKEN to the plain-http hub mirror ${url.origin}: it would cross the network in clear. Use an https:// mirror, or unset HF_TOKEN for a public mirror`, { param: 'hf-endpoint', code: 'insecure_hub_token' });
  }
}

async function hubFetch(url: string, options: HubOptions, headers: Record<string, string> = {}): Promise<Response> {
  const h: Record<string, string> = { 'user-agent': 'fleetchat', ...headers };
  if (options.token) h.authorization = `Bearer ${options.token}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: h, redirect: 'follow', signal: AbortSignal.timeout(options.timeoutMs ?? 600_000) });
  } catch (err) {
    throw new FleetError('unavailable', `cannot reach the model hub at ${url}: ${(err as Error).message}`, { cause: err });
  }
  if (res.status === 401 || res.status === 403) throw new FleetError('permission_denied', `the hub refused ${url} (${res.status}): set HF_TOKEN for gated or private models`);
  if (res.status === 404) throw new FleetError('not_found', `not found on the hub: ${url}`);
  if (!res.ok && res.status !== 206) throw new FleetError('unavailable', `hub request ${url} failed with HTTP ${res.status}`);
  return res;
}

async function resolveCommit(ref: HubRef, options: HubOptions): Promise<string> {
  const url = `${options.endpoint}/api/models/${ref.repo}/revision/${encodeURIComponent(ref.revision)}`;
  const body = (await (await hubFetch(url, options)).json()) as { sha?: string };
  if (!body.sha || !/^[0-9a-f]{40}$/.test(body.sha)) throw new FleetError('unavailable', `hub answered no commit for ${ref.repo}@${ref.revision}`);
  return body.sha;
}

async function listFiles(ref: HubRef, commit: string, options: HubOptions): Promise<TreeEntry[]> {
  const url = `${options.endpoint}/api/models/${ref.repo}/tree/${commit}?recursive=true`;
  const entries = (await (await hubFetch(url, options)).json()) as TreeEntry[];
  return entries.filter((e) => e.type === 'file');
}

const DOWNLOAD_ATTEMPTS = 4;
/** Failures another attempt would only repeat. */
const NOT_RETRIED = new Set(['checksum_mismatch', 'unsafe_hub_path', 'oversized_download']);

/** Retries an interrupted download (it resumes from the partial file) with a short backoff. */
async function withResume(download: () => Promise<void>, path: string, options: HubOptions): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await download();
      return;
    } catch (err) {
      const retryable = err instanceof FleetError && err.kind === 'unavailable' && !NOT_RETRIED.has(err.code ?? '');
      if (!retryable || attempt >= DOWNLOAD_ATTEMPTS) throw err;
      options.logger?.warn({ file: path, attempt, err: err.message }, 'download interrupted; resuming');
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

/** Writes a small file atomically (own temporary name, then rename), so a reader never sees half of it. */
async function writeAtomic(path: string, text: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const temp = tempPathFor(path);
  await writeFile(temp, text, { flag: 'wx' });
  await rename(temp, path);
}

async function downloadFile(ref: HubRef, commit: string, entry: TreeEntry, snapshot: string, options: HubOptions): Promise<void> {
  const target = snapshotTarget(snapshot, entry.path);
  mkdirSync(dirname(target), { recursive: true });
  checkRealLocation(options.cacheDir, target, entry.path);
  if (existsSync(target) && readSize(target) === entry.size) return;
  const url = `${options.endpoint}/${ref.repo}/resolve/${commit}/${entry.path}`;
  const temp = tempPathFor(target);
  try {
    await withResume(() => downloadInto({
      url, entry, target, temp,
      fetchRange: (headers) => hubFetch(url, options, headers),
      log: (fields, message) => options.logger?.info(fields, message),
    }), entry.path, options);
  } finally {
    await rm(temp, { force: true });
  }
}

function readSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return -1;
  }
}

/** Downloads (or reuses) the snapshot and returns its local directory. */
export async function fetchFromHub(ref: HubRef, options: HubOptions): Promise<string> {
  checkTokenTransport(options.endpoint, options.token);
  const base = repoDir(options.cacheDir, ref.repo);
  const refFile = join(base, 'refs', ref.revision.replace(/\//g, '%2F'));
  let commit: string;
  try {
    commit = await resolveCommit(ref, options);
  } catch (err) {
    const cached = existsSync(refFile) ? readFileSync(refFile, 'utf8').trim() : '';
    const complete = /^[0-9a-f]{40}$/.test(cached) && existsSync(join(base, 'snapshots', cached, `.complete-${options.variant}`));
    if (!complete) throw err;
    options.logger?.warn({ repo: ref.repo, commit: cached, err: (err as Error).message }, 'hub unreachable; using the cached snapshot');
    return join(base, 'snapshots', cached);
  }
  const snapshot = join(base, 'snapshots', commit);
  if (existsSync(join(snapshot, `.complete-${options.variant}`))) return snapshot;
  const plan = planDownload(await listFiles(ref, commit, options), options.variant);
  for (const entry of plan) await downloadFile(ref, commit, entry, snapshot, options);
  await writeAtomic(join(snapshot, `.complete-${options.variant}`), `${new Date().toISOString()}\n`);
  await writeAtomic(refFile, commit);
  return snapshot;
}
