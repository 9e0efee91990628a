/**
 * findCachedSmolLM2: the default real model. It imports the GGUF that scripts/fetch-smollm2 cached, once, into
 * <cache>/imported/<key> — two processes starting at once end up with one import — and finds nothing when the GGUF
 * is absent or is not the expected file.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCachedSmolLM2, smolLM2GgufPath, smolLM2ImportKey } from '../../src/model/gguf/smollm2';
import { describeWithSmolLM2 } from './support/smollm2';

jest.setTimeout(300_000);

const ROOT = join(__dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'fleetchat-gguf-default-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** findCachedSmolLM2 in its own process (a worker starting up); resolves with what it returned. */
function findInChild(cacheDir: string): Promise<string> {
  const code = `require('./src/model/gguf/smollm2').findCachedSmolLM2(${JSON.stringify(cacheDir)}).then((d) => console.log(JSON.stringify(d ?? null)))`;
  const child = spawn(process.execPath, ['-r', '@swc-node/register', '-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => child.on('exit', (c) => (c === 0 ? resolve(JSON.parse(out.trim()) as string) : reject(new Error(`exit ${c}`)))));
}

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
  it('imports it once with fp32, int8 and int4 graphs, even when two processes start together, and finds it afterwards', async () => {
    const cache = join(tmp, 'real');
    mkdirSync(join(cache, 'smollm2'), { recursive: true });
    symlinkSync(gguf, smolLM2GgufPath(cache));
    const [a, b] = await Promise.all([findInChild(cache), findInChild(cache)]);
    const dir = join(cache, 'imported', smolLM2ImportKey());
    expect(a).toBe(dir);
    expect(b).toBe(dir);
    for (const f of ['model.onnx', 'model_int8.onnx', 'model_q4.onnx']) expect(existsSync(join(dir, 'onnx', f))).toBe(true);
    expect(readdirSync(join(cache, 'imported'))).toEqual([smolLM2ImportKey()]);
    rmSync(smolLM2GgufPath(cache));
    expect(await findCachedSmolLM2(cache)).toBe(dir);
  });
});
