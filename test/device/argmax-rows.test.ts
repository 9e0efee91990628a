/**
 * The addon's argmaxRows (each row's greedy token, computed natively in the session thread so that a greedy row
 * skips the JavaScript scan of its 50k logits) must pick exactly what the sampler's argmax picks: the first of ties,
 * never a NaN unless the first logit is one, ±0 and ±Infinity as JavaScript compares them, at the last position.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { greedyTokens, loadOrtDeviceAddon } from '../../src/worker/engine/native-session';
import { argmax } from '../../src/worker/sampling/logits';

/** A deterministic generator (mulberry32), so that a failure reproduces. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('argmaxRows (native greedy token per row)', () => {
  beforeAll(() => {
    execFileSync(join(__dirname, '../../scripts/build-ort-device'), { stdio: 'pipe' });
  }, 120_000);

  it('equals the sampler argmax on rows with ties, NaN, signed zeros and infinities, at the last position of each row', () => {
    const rand = random(7);
    const special = [NaN, 0, -0, Infinity, -Infinity];
    let checked = 0;
    for (let trial = 0; trial < 500; trial++) {
      const vocab = 1 + Math.floor(rand() * 200);
      const rows = 1 + Math.floor(rand() * 4);
      const perRow = 1 + Math.floor(rand() * 3);
      const logits = new Float32Array(rows * perRow * vocab);
      for (let i = 0; i < logits.length; i++) {
        const r = rand();
        logits[i] = r < 0.2 ? special[Math.floor(rand() * special.length)] : Math.round((rand() - 0.5) * 6); // many ties
      }
      const got = greedyTokens(logits, perRow, vocab);
      expect(got).toBeDefined();
      for (let row = 0; row < rows; row++) {
        const at = (row * perRow + perRow - 1) * vocab;
        expect([trial, row, got?.[row]]).toEqual([trial, row, argmax(logits.subarray(at, at + vocab))]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(500);
  });

  it('on a language-model-sized row (50,259 logits) finds the single largest wherever it is', () => {
    const vocab = 50_259;
    const logits = new Float32Array(3 * vocab).map((_, i) => Math.sin(i) * 3);
    const peaks = [0, 31_337, vocab - 1];
    peaks.forEach((p, row) => (logits[row * vocab + p] = 100));
    expect([...(greedyTokens(logits, 1, vocab) ?? [])]).toEqual(peaks);
  });

  it('refuses a shape larger than the logits', () => {
    expect(() => loadOrtDeviceAddon().argmaxRows(new Float32Array(10), 2, 1, 6)).toThrow(/exceeds the logits/);
  });
});
