/**
 * findCachedSmolLM2: the default real model. It imports the GGUF that scripts/fetch-smollm2 cached, once, into
 * <cache>/imported/<key>, and finds nothing when the GGUF is absent or is not the expected file.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCachedSmolLM2, smolLM2GgufPath, smolLM2ImportKey } from '../../src/worker/model/gguf/smollm2';
import { describeWithSmolLM2 } from './support/smollm2';

jest.setTimeout(300_000);

const tmp = mkdtempSync(join(tmpdir(), 'fleetchat-gguf-default-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('findCachedSmolLM2 without a usable GGUF', () => {
  it('returns undefined when the cache has no SmolLM2 GGUF', async () => {
    expect(await findCachedSmolLM2(join(tmp, 'empty'))).toBeUndefined();
  });

  it('ignores a file with the wrong checksum and imports nothing', async () => {
    const cache = join(tmp, 'wrong');
    mkdirSync(join(cache, 'smollm2'), { recursive: true });
    writeFileSync(smolLM2GgufPath(cache), 'GGUF not really');
    expect(await findCachedSmolLM2(cache)).toBeUndefined();
    expect(existsSync(join(cache, 'imported'))).toBe(false);
  });
});

describeWithSmolLM2('findCachedSmolLM2 with the cached GGUF', (gguf) => {
  it('imports it once, atomically, with fp32, int8 and int4 graphs, and finds the import afterwards', async () => {
    const cache = join(tmp, 'real');
    mkdirSync(join(cache, 'smollm2'), { recursive: true });
    symlinkSync(gguf, smolLM2GgufPath(cache));
    const [a, b] = await Promise.all([findCachedSmolLM2(cache), findCachedSmolLM2(cache)]);
    const dir = join(cache, 'imported', smolLM2ImportKey());
    expect(a).toBe(dir);
    expect(b).toBe(dir);
    for (const f of ['model.onnx', 'model_int8.onnx', 'model_q4.onnx']) expect(existsSync(join(dir, 'onnx', f))).toBe(true);
    expect(readdirSync(join(cache, 'imported'))).toEqual([smolLM2ImportKey()]);
    rmSync(smolLM2GgufPath(cache));
    expect(await findCachedSmolLM2(cache)).toBe(dir);
  });
});
