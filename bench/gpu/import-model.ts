/**
 * Imports a GGUF (SmolLM2) for bench:gpu on the machine that runs it (a child process, so run.ts works from sources
 * or from a bundle): the same options as `fleetchat model import-gguf`, as one JSON argument.
 *
 *   node import-model.js '{"file": "smollm2.gguf", "outDir": DIR, "graph": "fused", "weightFormats": ["fp16"], "safetensors": false}'
 */
import { importGguf } from '../../src/model/gguf/import-gguf';
import type { ImportGgufOptions } from '../../src/model/gguf/import-gguf';

const options = JSON.parse(process.argv[2] ?? '{}') as ImportGgufOptions;
importGguf({ ...options, overwrite: true })
  .then((r) => process.stdout.write(`${JSON.stringify({ dir: r.dir, parameters: r.parameterCount, tensor_types: r.tensorTypes, safetensors_bytes: r.safetensorsBytes, elapsed_ms: r.elapsedMs })}\n`))
  .catch((err: unknown) => {
    process.stderr.write(`import-model: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
