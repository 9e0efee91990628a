import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchFromHub, parseHubRef } from '../../src/worker/loader/hub';
import { resolveModelSource } from '../../src/worker/loader/source';
import { tinyModel } from '../support/models';
import { hubServer, listen } from '../support/fake-hub';

describe('loading models by Hugging Face repo id', () => {
  it('parses references', () => {
    expect(parseHubRef('hf:org/name')).toEqual({ repo: 'org/name', revision: 'main' });
    expect(parseHubRef('hf:HuggingFaceTB/SmolLM2-135M-Instruct@v1.0')).toEqual({ repo: 'HuggingFaceTB/SmolLM2-135M-Instruct', revision: 'v1.0' });
    expect(parseHubRef('hf:noslash')).toBeUndefined();
  });

  it('downloads, verifies, resumes an interrupted file, and reuses the cache offline', async () => {
    const dir = await tinyModel();
    const cacheDir = mkdtempSync(join(tmpdir(), 'fc-hub-'));
    const log: string[] = [];
    const server = hubServer(dir, { truncateOnce: { path: 'onnx/model.onnx', bytes: 100_000 }, log });
    const endpoint = await listen(server);
    const options = { cacheDir, endpoint, variant: 'auto' as const };
    // The graph's first download breaks off midway; the loader resumes it with a Range request.
    const snapshot = await fetchFromHub({ repo: 'org/tiny', revision: 'main' }, options);
    expect(log.some((l) => /resolve\/a+\/onnx\/model\.onnx bytes=\d+-/.test(l))).toBe(true);
    expect(readFileSync(join(snapshot, 'onnx/model.onnx')).equals(readFileSync(join(dir, 'onnx/model.onnx')))).toBe(true);
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) expect(existsSync(join(snapshot, f))).toBe(true);
    expect(existsSync(join(snapshot, 'model.safetensors'))).toBe(false); // only what a worker needs
    server.close();
    // Offline: the hub is gone, the cached snapshot is used.
    const offline = await resolveModelSource('hf:org/tiny', { cacheDir, hfEndpoint: endpoint, weights: 'auto' });
    expect(offline).toBe(snapshot);
  }, 60_000);

  it('refuses a file whose checksum does not match', async () => {
    const dir = await tinyModel();
    const server = hubServer(dir, { corrupt: 'tokenizer.json', log: [] });
    const endpoint = await listen(server);
    try {
      await expect(fetchFromHub({ repo: 'org/tiny', revision: 'main' }, { cacheDir: mkdtempSync(join(tmpdir(), 'fc-hub-')), endpoint, variant: 'auto' })).rejects.toMatchObject({ code: 'checksum_mismatch' });
    } finally {
      server.close();
    }
  });

  it('sends the token, and explains 401 and unknown repositories', async () => {
    const dir = await tinyModel();
    const server = hubServer(dir, { requireToken: 'hf_secret', log: [] });
    const endpoint = await listen(server);
    const cacheDir = mkdtempSync(join(tmpdir(), 'fc-hub-'));
    try {
      await expect(fetchFromHub({ repo: 'org/tiny', revision: 'main' }, { cacheDir, endpoint, variant: 'auto' })).rejects.toMatchObject({ kind: 'permission_denied', message: expect.stringMatching(/HF_TOKEN/) });
      const ok = await fetchFromHub({ repo: 'org/tiny', revision: 'main' }, { cacheDir, endpoint, variant: 'auto', token: 'hf_secret' });
      expect(existsSync(join(ok, 'onnx/model.onnx'))).toBe(true);
      await expect(fetchFromHub({ repo: 'org/missing', revision: 'main' }, { cacheDir, endpoint, variant: 'auto', token: 'hf_secret' })).rejects.toMatchObject({ kind: 'not_found' });
      await expect(fetchFromHub({ repo: 'org/tiny', revision: 'main' }, { cacheDir, endpoint, variant: 'q4', token: 'hf_secret' })).rejects.toMatchObject({ code: 'model_file_missing' });
    } finally {
      server.close();
    }
  });

  it('explains a missing directory and a corrupt graph', async () => {
    await expect(resolveModelSource('/no/such/dir', { cacheDir: '/tmp', hfEndpoint: 'http://127.0.0.1:1', weights: 'auto' })).rejects.toMatchObject({ kind: 'not_found' });
    const { loadGenerationRuntime } = await import('../../src/worker/loader/load');
    const { cpSync } = await import('node:fs');
    const bad = mkdtempSync(join(tmpdir(), 'fc-bad-'));
    cpSync(await tinyModel(), bad, { recursive: true });
    writeFileSync(join(bad, 'onnx/model.onnx'), 'this is not protobuf');
    const { silentLogger } = await import('../../src/common/log');
    await expect(loadGenerationRuntime({ dir: bad, source: bad, modelNames: [], threads: 1, weights: 'auto', maxConcurrency: 1, maxQueue: 1, maxPrefillTokens: 1, logger: silentLogger() })).rejects.toMatchObject({ code: 'corrupt_graph' });
    const cfg = JSON.parse(readFileSync(join(bad, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(bad, 'config.json'), JSON.stringify({ ...cfg, model_type: 'mamba', architectures: ['MambaForCausalLM'] }));
    await expect(loadGenerationRuntime({ dir: bad, source: bad, modelNames: [], threads: 1, weights: 'auto', maxConcurrency: 1, maxQueue: 1, maxPrefillTokens: 1, logger: silentLogger() })).rejects.toMatchObject({ code: 'unsupported_architecture' });
  });
});
