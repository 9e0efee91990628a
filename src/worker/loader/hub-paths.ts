/**
 * What a worker takes from a hub repository's listing, and where it may write it. The listing comes from the hub
 * (or a mirror), so it is hostile input: only the expected file names are taken, and every path must stay inside
 * the snapshot directory — no `..`, no absolute paths, no backslashes, and no symlink in the cache that leads out.
 */
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { FleetError } from '../../common/errors';
import { candidateOnnxFiles, type WeightVariant } from './files';

export interface TreeEntry {
  type: string;
  path: string;
  size: number;
  lfs?: { oid: string; size: number };
}

export const REQUIRED = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];
export const OPTIONAL = ['generation_config.json', 'special_tokens_map.json', 'chat_template.jinja', 'chat_template.json'];

/** The longest listed path accepted (the hub's own limit is far below). */
const MAX_PATH_CHARS = 512;

function refused(path: string, why: string): FleetError {
  return new FleetError('unavailable', `the hub listed an unsafe file path ${JSON.stringify(path.slice(0, 200))}: ${why}; refusing it`, { code: 'unsafe_hub_path' });
}

/** A relative path of plain segments (`a/b.json`), or a FleetError saying why not. */
export function checkListedPath(path: string): string {
  if (typeof path !== 'string' || path.length === 0 || path.length > MAX_PATH_CHARS) throw refused(String(path), `not a path of 1..${MAX_PATH_CHARS} characters`);
  if (path.includes('\0') || path.includes('\\')) throw refused(path, 'it contains a NUL or a backslash');
  if (isAbsolute(path) || /^[A-Za-z]:/.test(path)) throw refused(path, 'it is absolute');
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') throw refused(path, `it has a '${segment || '(empty)'}' segment`);
  }
  return path;
}

/** The external-data files of an ONNX graph, as optimum and onnx name them: `model.onnx_data`, `model.onnx_data_1`, `model.onnx.data`. */
function isExternalDataOf(onnx: string, path: string): boolean {
  if (!path.startsWith(onnx)) return false;
  return /^(?:_data|\.data)(?:_[0-9]{1,4})?$/.test(path.slice(onnx.length));
}

function checkEntry(entry: TreeEntry): TreeEntry {
  checkListedPath(entry.path);
  if (!Number.isSafeInteger(entry.size) || entry.size < 0) throw refused(entry.path, `its size ${String(entry.size)} is not a byte count`);
  if (entry.lfs !== undefined && !/^[0-9a-f]{64}$/.test(String(entry.lfs.oid))) throw refused(entry.path, 'its LFS oid is not a sha256');
  return entry;
}

/** The files a worker needs from a repo's listing: metadata, tokenizer, one ONNX graph and its external data. */
export function planDownload(files: TreeEntry[], variant: WeightVariant): TreeEntry[] {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const missing = REQUIRED.filter((p) => !byPath.has(p));
  if (missing.length > 0) throw new FleetError('not_found', `repository lacks ${missing.join(', ')}`, { code: 'model_file_missing' });
  const onnx = candidateOnnxFiles(variant).find((p) => byPath.has(p));
  if (!onnx) throw new FleetError('not_found', `repository has no ONNX graph for weights '${variant}' (looked for ${candidateOnnxFiles(variant).join(', ')})`, { code: 'model_file_missing' });
  const data = files.filter((f) => f.path.startsWith(onnx) && f.path !== onnx);
  for (const f of data) {
    if (!isExternalDataOf(onnx, f.path)) throw refused(f.path, `only ${onnx}_data[_N] and ${onnx}.data[_N] are expected next to the graph`);
  }
  const wanted = [...REQUIRED, ...OPTIONAL.filter((p) => byPath.has(p))].map((p) => byPath.get(p) as TreeEntry);
  return wanted.concat([byPath.get(onnx) as TreeEntry, ...data]).map(checkEntry);
}

/**
 * The file a listed path is written to: inside `snapshot`, and (once its directory exists) not reached through a
 * symlink that leads out of the cache.
 */
export function snapshotTarget(snapshot: string, path: string): string {
  const target = join(snapshot, checkListedPath(path));
  const rel = relative(snapshot, target);
  if (rel.startsWith('..') || isAbsolute(rel)) throw refused(path, 'it resolves outside the snapshot');
  return target;
}

/** After the target's directory was created: its real location must still be inside the cache's real location. */
export function checkRealLocation(cacheDir: string, target: string, path: string): void {
  const root = realpathSync(cacheDir);
  const dir = realpathSync(dirname(target));
  if (dir !== root && !dir.startsWith(root + sep)) throw refused(path, `its directory is a link to ${dir}, outside the model cache`);
}
