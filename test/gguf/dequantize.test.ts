/**
 * Dequantisation against ggml's own Python package: test/fixtures/gguf/dequant-reference.gguf was written by
 * scripts/gguf/make-dequant-fixture.py with gguf-py 0.19.0 — for every supported type a tensor `q.<TYPE>` and
 * `q.<TYPE>.expected`, gguf-py's dequantisation of it as F32. Our values must be identical, bit for bit.
 * Also: what the reader says about files it cannot read.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetError } from '../../src/common/errors';
import { openGguf } from '../../src/model/gguf/gguf-file';
import { supportedTypeNames } from '../../src/model/gguf/ggml-types';
import { f32, str, u32, writeGguf } from './support/gguf-writer';

const FIXTURE = join(__dirname, '../fixtures/gguf/dequant-reference.gguf');
const tmp = mkdtempSync(join(tmpdir(), 'fleetchat-gguf-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('GGUF tensor reading', () => {
  it('reads the fixture index: every supported type, ggml dims [512, 3]', async () => {
    const file = await openGguf(FIXTURE);
    try {
      const quantised = [...file.tensors.values()].filter((t) => !t.name.endsWith('.expected'));
      expect(quantised.map((t) => t.typeName).sort()).toEqual(supportedTypeNames().sort());
      for (const t of quantised) expect(t.dims).toEqual([512, 3]);
    } finally {
      file.close();
    }
  });

  it.each(supportedTypeNames())('dequantises %s exactly as gguf-py does', async (type) => {
    const file = await openGguf(FIXTURE);
    try {
      const got = file.readFloat32(`q.${type}`);
      const expected = file.readFloat32(`q.${type}.expected`);
      expect(got.length).toBe(1536);
      let mismatches = 0;
      for (let i = 0; i < got.length; i++) if (!Object.is(got[i], expected[i])) mismatches++;
      expect(mismatches).toBe(0);
      // Guard against a fixture of zeros: the values really vary.
      expect(new Set(expected).size).toBeGreaterThan(8);
    } finally {
      file.close();
    }
  });

  it('names the tensor and the type when a tensor type is not supported', async () => {
    const path = join(tmp, 'q2k.gguf');
    writeGguf(path, { 'general.architecture': str('llama') }, [{ name: 'blk.0.ffn_up.weight', dims: [256, 1], type: 10, data: new Uint8Array(84) }]);
    const file = await openGguf(path);
    try {
      expect(() => file.readFloat32('blk.0.ffn_up.weight')).toThrow(/tensor 'blk\.0\.ffn_up\.weight' has ggml type Q2_K, which the GGUF importer does not read \(supported: F32, F16/);
    } finally {
      file.close();
    }
  });

  it('rejects a file that is not GGUF, a truncated file and a missing file with typed errors', async () => {
    const notGguf = join(tmp, 'not.gguf');
    writeFileSync(notGguf, 'hello, this is not a model');
    await expect(openGguf(notGguf)).rejects.toThrow(/not a readable GGUF file: .*magic/);
    const truncated = join(tmp, 'truncated.gguf');
    copyFileSync(FIXTURE, truncated);
    truncateSync(truncated, readFileSync(FIXTURE).byteLength - 100);
    await expect(openGguf(truncated)).rejects.toThrow(/runs past the end of the file .*truncated/);
    const missing = openGguf(join(tmp, 'missing.gguf'));
    await expect(missing).rejects.toBeInstanceOf(FleetError);
    await expect(openGguf(join(tmp, 'missing.gguf'))).rejects.toMatchObject({ kind: 'not_found' });
  });

  it('reads metadata with its types and refuses a wrong type with the key in the message', async () => {
    const path = join(tmp, 'meta.gguf');
    writeGguf(path, { 'general.architecture': str('llama'), 'llama.block_count': u32(2), 'llama.rope.freq_base': f32(500000) }, []);
    const file = await openGguf(path);
    try {
      expect(file.metadata.integer('llama.block_count')).toBe(2);
      expect(file.metadata.number('llama.rope.freq_base')).toBe(500000);
      expect(() => file.metadata.integer('general.architecture')).toThrow(/'general\.architecture' must be a number/);
      expect(() => file.metadata.string('llama.context_length')).toThrow(/'llama\.context_length' is missing/);
    } finally {
      file.close();
    }
  });
});
