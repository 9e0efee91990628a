/**
 * `import-gguf --safetensors` (what bench:gpu's transformers peer loads): model.safetensors holds the dequantised
 * weights under Hugging Face names, without lm_head.weight when the embeddings are tied, and a Hugging Face import of
 * that directory (config.json + model.safetensors, as transformers reads them) computes the same logits as the ONNX
 * graph imported from the GGUF itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importGguf } from '../../src/model/gguf/import-gguf';
import { importHf } from '../../src/model/hf/import-hf';
import { llamaWeightShapes } from '../../src/model/llama/llama-weights';
import { SafetensorsFile } from '../../src/model/weights/safetensors';
import { logitsAt, openDecoder, relativeError, runSequence } from '../model/decoder-session';
import { writeSyntheticGguf } from './support/synthetic-gguf';

jest.setTimeout(120_000);

const tmp = mkdtempSync(join(tmpdir(), 'fleetchat-gguf-st-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it('a tied llama GGUF: model.safetensors round-trips through the Hugging Face importer to the same logits', async () => {
  const file = join(tmp, 'tied.gguf');
  const config = writeSyntheticGguf(file, { arch: 'llama', tied: true, bias: true, seed: 7 });
  const imported = await importGguf({ file, outDir: join(tmp, 'from-gguf'), safetensors: true });
  expect(imported.safetensorsBytes).toBeGreaterThan(0);
  const st = new SafetensorsFile(join(imported.dir, 'model.safetensors'));
  expect([...st.entries.keys()].sort()).toEqual(llamaWeightShapes(config).map((t) => t.name).sort());
  expect(st.has('lm_head.weight')).toBe(false);
  expect(st.get('model.embed_tokens.weight').shape).toEqual([config.vocabSize, config.hiddenSize]);

  const hf = await importHf({ dir: imported.dir, outDir: join(tmp, 'from-safetensors') });
  expect(hf.config).toEqual(imported.config);
  const [a, b] = await Promise.all([openDecoder(imported.dir, { intraOpNumThreads: 1 }), openDecoder(hf.dir, { intraOpNumThreads: 1 })]);
  try {
    const tokens = [464, 2068, 7586, 21831, 40, 716];
    const [ra, rb] = [await runSequence(a, config, tokens), await runSequence(b, config, tokens)];
    for (let s = 0; s < tokens.length; s++) expect(relativeError(logitsAt(rb, 0, s), logitsAt(ra, 0, s))).toBeLessThan(1e-5);
  } finally {
    await a.release();
    await b.release();
  }
});
