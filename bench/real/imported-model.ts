/** The SmolLM2 GGUF imported once per graph kind for the benchmarks (cached under .cache/bench-models). */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importGguf, IMPORTER_VERSION } from '../../src/model/gguf/import-gguf';
import type { KvCacheFormat } from '../../src/model/llama/decoder-graph';
import type { GraphKind } from '../../src/model/llama/fused-decoder-graph';
import { GENERATOR_VERSION } from '../../src/model/tiny/create-tiny-model';

const ROOT = join(__dirname, '../..');

/**
 * The model directory of `gguf` imported with `graph` (fp32, int8, int4; fused: int8, int4; fused with a float16 KV
 * cache, `kvCache` fp16: int4), imported on first use.
 */
export async function importedModel(gguf: string, graph: GraphKind, kvCache: KvCacheFormat = 'fp32'): Promise<string> {
  const dir = join(ROOT, `.cache/bench-models/smollm2-${graph}${kvCache === 'fp16' ? '-f16kv' : ''}-i${IMPORTER_VERSION}-g${GENERATOR_VERSION}`);
  if (existsSync(join(dir, 'import.json'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  mkdirSync(join(ROOT, '.cache/bench-models'), { recursive: true });
  try {
    const weightFormats = kvCache === 'fp16' ? ['int4' as const] : graph === 'fused' ? ['int8' as const, 'int4' as const] : ['fp32' as const, 'int8' as const, 'int4' as const];
    const r = await importGguf({ file: gguf, outDir: tmp, weightFormats, overwrite: true, graph, kvCache });
    writeFileSync(join(tmp, 'import.json'), JSON.stringify(r));
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}
