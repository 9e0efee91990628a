/**
 * Issue 18, files: a hostile or broken hub mirror (a real HTTP server on 127.0.0.1) cannot write outside the model
 * cache, corrupt a file with a lying 206, or make pods sharing a cache trip over each other's half files; the HF
 * token never goes to a plain-http mirror.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkListedPath } from '../../src/worker/loader/hub-paths';
import { fetchFromHub } from '../../src/worker/loader/hub';
import { hubServer, listen, SHA } from '../support/fake-hub';
import { tinyModel } from '../support/models';

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

/** A temp root with the cache one level below it, so "outside the cache" is a place the test can look at. */
function cacheRoot(): { root: string; cacheDir: string } {
  const root = mkdtempSync(join(tmpdir(), 'fc-hubsec-'));
  roots.push(root);
  const cacheDir = join(root, 'cache');
  mkdirSync(cacheDir);
  return { root, cacheDir };
}

const ref = { repo: 'org/tiny', revision: 'main' };
const snapshotOf = (cacheDir: string) => join(cacheDir, 'hub', 'models--org--tiny', 'snapshots', SHA);

describe('hub downloads against a hostile mirror', () => {
  it('refuses a listed path that climbs out of the snapshot, and writes nothing outside the cache', async () => {
    const { root, cacheDir } = cacheRoot();
    // Starts like the graph's external data (what the plan takes), then climbs 7 levels: root/escape.bin.
    const climb = `onnx/model.onnx_data/${'../'.repeat(7)}escape.bin`;
    const server = hubServer(await tinyModel(), { extraFiles: { [climb]: Buffer.from('pwned') }, log: [] });
    const endpoint = await listen(server);
    try {
      await expect(fetchFromHub(ref, { cacheDir, endpoint, variant: 'auto' })).rejects.toMatchObject({ code: 'unsafe_hub_path', message: expect.stringMatching(/unsafe file path/) });
      expect(existsSync(join(root, 'escape.bin'))).toBe(false);
      expect(readdirSync(root)).toEqual(['cache']);
    } finally {
      server.close();
    }
  });

  it('accepts only plain relative paths and the expected external-data names', async () => {
    for (const bad of ['../x', '/etc/passwd', 'a/../../b', 'a//b', './a', 'a\\..\\b', 'C:/x', 'a\0b']) expect(() => checkListedPath(bad)).toThrow(/unsafe file path/);
    expect(checkListedPath('onnx/model.onnx_data_1')).toBe('onnx/model.onnx_data_1');
    const { cacheDir } = cacheRoot();
    const server = hubServer(await tinyModel(), { extraFiles: { 'onnx/model.onnx_data.sh': Buffer.from('#!/bin/sh') }, log: [] });
    const endpoint = await listen(server);
    try {
      await expect(fetchFromHub(ref, { cacheDir, endpoint, variant: 'auto' })).rejects.toMatchObject({ code: 'unsafe_hub_path' });
    } finally {
      server.close();
    }
  });

  it('does not follow a symlink planted in a shared cache out of it', async () => {
    const { root, cacheDir } = cacheRoot();
    const outside = join(root, 'outside');
    mkdirSync(outside);
    mkdirSync(snapshotOf(cacheDir), { recursive: true });
    symlinkSync(outside, join(snapshotOf(cacheDir), 'onnx'));
    const server = hubServer(await tinyModel(), { log: [] });
    const endpoint = await listen(server);
    try {
      await expect(fetchFromHub(ref, { cacheDir, endpoint, variant: 'auto' })).rejects.toMatchObject({ code: 'unsafe_hub_path', message: expect.stringMatching(/outside the model cache/) });
      expect(readdirSync(outside)).toEqual([]);
    } finally {
      server.close();
    }
  });

  it('refuses a 206 whose Content-Range is not the range asked for, and ends with the right bytes', async () => {
    const dir = await tinyModel();
    const { cacheDir } = cacheRoot();
    const log: string[] = [];
    // tokenizer.json without an LFS sha256 (as on huggingface.co): only the Content-Range check can catch the lie.
    const server = hubServer(dir, { noLfs: ['tokenizer.json'], truncateOnce: { path: 'tokenizer.json', bytes: 200_000 }, wrongRangeOnce: 'tokenizer.json', log });
    const endpoint = await listen(server);
    try {
      const snapshot = await fetchFromHub(ref, { cacheDir, endpoint, variant: 'auto' });
      expect(log.some((l) => /tokenizer\.json bytes=\d+-/.test(l))).toBe(true); // the lying 206 was asked for and answered
      expect(readFileSync(join(snapshot, 'tokenizer.json')).equals(readFileSync(join(dir, 'tokenizer.json')))).toBe(true);
    } finally {
      server.close();
    }
  });

  it('lets several downloads share one cache at once: each finishes with the exact files, no temp file left', async () => {
    const dir = await tinyModel();
    const { cacheDir } = cacheRoot();
    const server = hubServer(dir, { chunkDelayMs: 2, log: [] });
    const endpoint = await listen(server);
    try {
      const snapshots = await Promise.all([1, 2, 3].map(() => fetchFromHub(ref, { cacheDir, endpoint, variant: 'auto' })));
      expect(new Set(snapshots).size).toBe(1);
      for (const f of ['onnx/model.onnx', 'tokenizer.json', 'config.json']) expect(readFileSync(join(snapshots[0], f)).equals(readFileSync(join(dir, f)))).toBe(true);
      const leftovers = readdirSync(snapshots[0], { recursive: true }).map(String).filter((f) => f.endsWith('.incomplete'));
      expect(leftovers).toEqual([]);
    } finally {
      server.close();
    }
  }, 60_000);

  it('never sends the HF token to a plain-http mirror off this machine', async () => {
    const log: string[] = [];
    const server = hubServer(await tinyModel(), { log });
    const external = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    let endpoint = 'http://fleetchat-mirror.invalid';
    if (external) {
      await new Promise<void>((r) => server.listen(0, external, () => r()));
      endpoint = `http://${external}:${(server.address() as { port: number }).port}`;
    }
    try {
      const { cacheDir } = cacheRoot();
      await expect(fetchFromHub(ref, { cacheDir, endpoint, variant: 'auto', token: 'hf_secret' })).rejects.toMatchObject({ code: 'insecure_hub_token', message: expect.stringMatching(/https/) });
      expect(log).toEqual([]);
      // Without a token a public http mirror is fine.
      if (external) expect(existsSync(join(await fetchFromHub(ref, { cacheDir, endpoint, variant: 'auto' }), 'onnx/model.onnx'))).toBe(true);
    } finally {
      server.close();
    }
  });
});
