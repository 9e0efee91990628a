/**
 * Loading models by Hugging Face repo id (`hf:ORG/NAME[@REV]`): resolve the revision to a commit, download the
 * files a worker needs into a cache laid out like huggingface_hub's (models--ORG--NAME/snapshots/SHA/...),
 * resume partial downloads with HTTP ranges, verify sizes and LFS sha256 checksums, and reuse the cache offline.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { FleetError } from '../../common/errors';
import type { Logger } from '../../common/log';
import { candidateOnnxFiles, type WeightVariant } from './files';

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

interface TreeEntry {
  type: string;
  path: string;
  size: number;
  lfs?: { oid: string; size: number };
}

const REQUIRED = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];
const OPTIONAL = ['generation_config.json', 'special_tokens_map.json', 'chat_template.jinja', 'chat_template.json'];

export function parseHubRef(source: string): HubRef | undefined {
  const m = /^hf:([A-Za-z0-9][\w.-]*\/[\w.-]+)(?:@([\w./-]+))?$/.exec(source);
  if (!m) return undefined;
  return { repo: m[1], revision: m[2] ?? 'main' };
}

function repoDir(cacheDir: string, repo: string): string {
  return join(cacheDir, 'hub', `models--${repo.replace('/', '--')}`);
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

/** The files a worker needs from a repo's listing: metadata, tokenizer, one ONNX graph and its external data. */
export function planDownload(files: TreeEntry[], variant: WeightVariant): TreeEntry[] {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const missing = REQUIRED.filter((p) => !byPath.has(p));
  if (missing.length > 0) throw new FleetError('not_found', `repository lacks ${missing.join(', ')}`, { code: 'model_file_missing' });
  const onnx = candidateOnnxFiles(variant).find((p) => byPath.has(p));
  if (!onnx) throw new FleetError('not_found', `repository has no ONNX graph for weights '${variant}' (looked for ${candidateOnnxFiles(variant).join(', ')})`, { code: 'model_file_missing' });
  const data = files.filter((f) => f.path.startsWith(`${onnx}_data`) || f.path.startsWith(`${onnx}.data`));
  return [...REQUIRED, ...OPTIONAL.filter((p) => byPath.has(p))].map((p) => byPath.get(p) as TreeEntry).concat([byPath.get(onnx) as TreeEntry, ...data]);
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

async function downloadFile(ref: HubRef, commit: string, entry: TreeEntry, target: string, options: HubOptions): Promise<void> {
  if (existsSync(target) && statSync(target).size === entry.size) return;
  mkdirSync(dirname(target), { recursive: true });
  const partial = `${target}.incomplete`;
  const have = existsSync(partial) ? statSync(partial).size : 0;
  const url = `${options.endpoint}/${ref.repo}/resolve/${commit}/${entry.path}`;
  const res = await hubFetch(url, options, have > 0 && have < entry.size ? { range: `bytes=${have}-` } : {});
  const append = res.status === 206 && have > 0;
  options.logger?.info({ file: entry.path, bytes: entry.size, resumeFrom: append ? have : 0 }, 'downloading');
  if (!res.body) throw new FleetError('unavailable', `empty response for ${url}`);
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(partial, { flags: append ? 'a' : 'w' }));
  } catch (err) {
    const kept = existsSync(partial) ? statSync(partial).size : 0;
    throw new FleetError('unavailable', `download of ${entry.path} was interrupted (${(err as Error).message}); it resumes from ${kept} bytes`, { cause: err });
  }
  const size = statSync(partial).size;
  if (size !== entry.size) throw new FleetError('unavailable', `download of ${entry.path} is incomplete (${size} of ${entry.size} bytes); run again to resume`);
  if (entry.lfs) {
    const digest = await sha256Of(partial);
    if (digest !== entry.lfs.oid) {
      renameSync(partial, `${partial}.corrupt`);
      throw new FleetError('unavailable', `checksum mismatch for ${entry.path}: expected sha256 ${entry.lfs.oid}, got ${digest}`, { code: 'checksum_mismatch' });
    }
  }
  renameSync(partial, target);
}

const DOWNLOAD_ATTEMPTS = 4;

/** Retries an interrupted download (it resumes from the partial file) with a short backoff. */
async function withResume(download: () => Promise<void>, path: string, options: HubOptions): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await download();
      return;
    } catch (err) {
      const retryable = err instanceof FleetError && err.kind === 'unavailable' && err.code !== 'checksum_mismatch';
      if (!retryable || attempt >= DOWNLOAD_ATTEMPTS) throw err;
      options.logger?.warn({ file: path, attempt, err: err.message }, 'download interrupted; resuming');
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

/** Downloads (or reuses) the snapshot and returns its local directory. */
export async function fetchFromHub(ref: HubRef, options: HubOptions): Promise<string> {
  const base = repoDir(options.cacheDir, ref.repo);
  const refFile = join(base, 'refs', ref.revision.replace(/\//g, '%2F'));
  let commit: string;
  try {
    commit = await resolveCommit(ref, options);
  } catch (err) {
    const cached = existsSync(refFile) ? readFileSync(refFile, 'utf8').trim() : '';
    const complete = cached && existsSync(join(base, 'snapshots', cached, `.complete-${options.variant}`));
    if (!complete) throw err;
    options.logger?.warn({ repo: ref.repo, commit: cached, err: (err as Error).message }, 'hub unreachable; using the cached snapshot');
    return join(base, 'snapshots', cached);
  }
  const snapshot = join(base, 'snapshots', commit);
  if (existsSync(join(snapshot, `.complete-${options.variant}`))) return snapshot;
  const plan = planDownload(await listFiles(ref, commit, options), options.variant);
  for (const entry of plan) await withResume(() => downloadFile(ref, commit, entry, join(snapshot, entry.path), options), entry.path, options);
  writeFileSync(join(snapshot, `.complete-${options.variant}`), `${new Date().toISOString()}\n`);
  mkdirSync(dirname(refFile), { recursive: true });
  writeFileSync(refFile, commit);
  return snapshot;
}
