/**
 * `node -r @swc-node/register test/gguf/support/write-f32-gguf.ts IN OUT`: writes OUT, a copy of the GGUF IN with
 * every tensor dequantised to F32 (same names, dims and metadata). Run as a child process: jest's sandbox makes
 * typed-array loops several times slower.
 */
import { gguf } from '@huggingface/gguf';
import { openGguf } from '../../../src/model/gguf/gguf-file';
import { writeGguf, type TypedValue } from './gguf-writer';

async function main(input: string, output: string): Promise<void> {
  const parsed = await gguf(input, { allowLocalFile: true, typedMetadata: true });
  const metadata: Record<string, TypedValue> = {};
  for (const [k, v] of Object.entries(parsed.typedMetadata)) if (!['version', 'tensor_count', 'kv_count'].includes(k)) metadata[k] = v as TypedValue;
  metadata['general.file_type'] = { value: 0, type: 4 };
  const source = await openGguf(input);
  try {
    const tensors = [...source.tensors.values()].map((t) => ({ name: t.name, dims: t.dims, type: 0, data: new Uint8Array(source.readFloat32(t.name).buffer) }));
    writeGguf(output, metadata, tensors);
  } finally {
    source.close();
  }
}

main(process.argv[2], process.argv[3]).catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
