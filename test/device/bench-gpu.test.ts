/** `npm run bench:gpu` on a machine without a GPU (CI): it says why it skipped and ends with one JSON line. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

describe('bench:gpu without a GPU', () => {
  it('skips with a message and a JSON line, exit code 0', () => {
    const root = join(__dirname, '../..');
    const r = spawnSync(process.execPath, ['-r', '@swc-node/register', join(root, 'bench/gpu/run.ts')], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^bench:gpu: skipped — no NVIDIA GPU here/);
    expect(JSON.parse(lines[lines.length - 1])).toEqual({ skipped: true, reason: 'no NVIDIA GPU' });
  }, 60_000);
});
