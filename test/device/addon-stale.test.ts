/**
 * A stale native addon (built before the C source gained a function the TypeScript side calls) is refused at load with
 * an error naming what is missing and the rebuild command — not a "lib.runBound is not a function" mid-generation —
 * while the greedy shortcut it offers (argmaxRows) quietly falls back to the sampler.
 */
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetError } from '../../src/common/errors';
import { greedyTokens, loadOrtDeviceAddon } from '../../src/worker/engine/native-session';

/** Runs `check` with FLEETCHAT_ORT_DEVICE_ADDON pointing at a module that has only load, createSession and run. */
function withStaleAddon(check: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'stale-addon-'));
  const stale = join(dir, 'ort_device.js');
  writeFileSync(stale, 'module.exports = { load() { return ""; }, createSession() {}, run() {} };');
  const previous = process.env.FLEETCHAT_ORT_DEVICE_ADDON;
  process.env.FLEETCHAT_ORT_DEVICE_ADDON = stale;
  try {
    check(stale);
  } finally {
    if (previous === undefined) delete process.env.FLEETCHAT_ORT_DEVICE_ADDON;
    else process.env.FLEETCHAT_ORT_DEVICE_ADDON = previous;
    rmSync(dir, { recursive: true, force: true });
  }
}

it('refuses an addon build that lacks functions, naming them and scripts/build-ort-device', () => {
  withStaleAddon((stale) => {
    let error: unknown;
    try {
      loadOrtDeviceAddon();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FleetError);
    const message = (error as Error).message;
    expect(message).toContain(stale);
    expect(message).toMatch(/no assemble, runBound, freeKv, releaseSession, memInfo/);
    expect(message).toContain('scripts/build-ort-device');
  });
});

it('leaves greedy tokens to the sampler (no error) when the addon build is too old for argmaxRows', () => {
  withStaleAddon(() => expect(greedyTokens(new Float32Array([0, 3, 1]), 1, 3)).toBeUndefined());
});
