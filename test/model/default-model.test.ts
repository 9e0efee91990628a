/** The embedded default model: generated once, cached under a key, never seen half-written. */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultModelKey, ensureDefaultModel } from '../../src/model/default-model';
import { openDecoder } from './decoder-session';

const tmp = mkdtempSync(join(tmpdir(), 'fleetchat-default-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ensureDefaultModel', () => {
  it('builds on first use, then returns the cached directory without rebuilding', async () => {
    const cache = join(tmp, 'a');
    const dir = await ensureDefaultModel(cache, undefined, { preset: 'tiny' });
    expect(dir).toBe(join(cache, 'generated', defaultModelKey({ preset: 'tiny' })));
    const built = statSync(join(dir, 'onnx', 'model.onnx')).mtimeMs;
    const session = await openDecoder(dir);
    expect(session.inputNames).toContain('past_key_values.1.value');
    await session.release();
    const started = Date.now();
    expect(await ensureDefaultModel(cache, undefined, { preset: 'tiny' })).toBe(dir);
    expect(Date.now() - started).toBeLessThan(100);
    expect(statSync(join(dir, 'onnx', 'model.onnx')).mtimeMs).toBe(built);
  });

  it('two concurrent first uses end with one complete directory and no staging leftovers', async () => {
    const cache = join(tmp, 'b');
    const [one, two] = await Promise.all([ensureDefaultModel(cache, undefined, { preset: 'tiny' }), ensureDefaultModel(cache, undefined, { preset: 'tiny' })]);
    expect(one).toBe(two);
    expect(readdirSync(join(cache, 'generated'))).toEqual([defaultModelKey({ preset: 'tiny' })]);
    expect(readdirSync(one)).toContain('tokenizer.json');
  });

  it('keys differ by preset and seed, and default to the small preset', () => {
    expect(defaultModelKey()).toMatch(/^fleetchat-small-g\d+-[0-9a-f]{12}$/);
    expect(defaultModelKey({ preset: 'tiny' })).not.toBe(defaultModelKey({ preset: 'tiny', seed: 7 }));
    expect(defaultModelKey({ preset: 'tiny' })).toBe(defaultModelKey({ preset: 'tiny' }));
  });
});
