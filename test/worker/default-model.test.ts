import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/common/log';
import { chooseDefaultModel, DEFAULT_HUB_REPO } from '../../src/cli/default-model-choice';
import { DEFAULT_MODEL_NAME } from '../../src/model/default-model';
import { hubServer, listen } from '../support/fake-hub';
import { tinyModel } from '../support/models';

describe('the default model', () => {
  it('falls back to the generated model when nothing better is cached and the hub does not answer', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'fc-default-'));
    const choice = await chooseDefaultModel({ cacheDir, hfEndpoint: 'http://127.0.0.1:9', weights: 'auto', logger: silentLogger(), hubProbeMs: 1000 });
    expect(choice).toMatchObject({ name: DEFAULT_MODEL_NAME, source: 'generated' });
    expect(choice.dir.startsWith(cacheDir)).toBe(true);
  }, 60_000);

  it('fetches SmolLM2 from the hub when the hub answers', async () => {
    const server = hubServer(await tinyModel(), { repo: DEFAULT_HUB_REPO, log: [] });
    const endpoint = await listen(server);
    try {
      const cacheDir = mkdtempSync(join(tmpdir(), 'fc-default-'));
      const choice = await chooseDefaultModel({ cacheDir, hfEndpoint: endpoint, weights: 'fp32', logger: silentLogger() });
      expect(choice).toMatchObject({ name: 'SmolLM2-135M-Instruct', source: `hf:${DEFAULT_HUB_REPO}` });
      expect(choice.dir).toContain('models--HuggingFaceTB--SmolLM2-135M-Instruct');
    } finally {
      server.close();
    }
  });
});
