/**
 * Inputs of bench:train: a model directory, FastChat's dummy conversations and the long ShareGPT-like ones, both
 * as ShareGPT JSON (FastChat's trainer reads it) and as prepare-sft JSON Lines (fleetchat's trainer and the naive
 * packed Trainer read them), tokenized by the real CLI.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { longConversations } from './long-conversations';

export const ROOT = join(__dirname, '../..');
export const DUMMY = join(ROOT, 'test/fixtures/fastchat/dummy_conversation.json');

export function cli(args: string[]): string {
  const r = spawnSync(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, FLEETCHAT_LOG_LEVEL: 'warn' }, maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`fleetchat ${args.slice(0, 2).join(' ')} failed:\n${r.stderr.slice(-3000)}`);
  return r.stdout;
}

export interface BenchData {
  name: 'dummy' | 'long';
  sharegpt: string;
  sft: string;
}

/** Both datasets under `dir`, tokenized with `modelDir`'s tokenizer; long conversations of at most `maxWords`. */
export function prepareData(dir: string, modelDir: string, maxLength: number, longCount: number, maxWords: number): BenchData[] {
  mkdirSync(dir, { recursive: true });
  const dummy = join(dir, 'dummy.json');
  copyFileSync(DUMMY, dummy);
  const long = join(dir, 'long.json');
  writeFileSync(long, JSON.stringify(longConversations(longCount, 7, maxWords)));
  const out: BenchData[] = [];
  for (const [name, sharegpt] of [['dummy', dummy], ['long', long]] as const) {
    const sft = join(dir, `${name}.sft.jsonl`);
    cli(['jobs', 'prepare-sft', '--in', sharegpt, '--out', sft, '--model-name-or-path', modelDir, '--max-length', String(maxLength), '--on-overflow', 'drop', '--threads', '0']);
    out.push({ name, sharegpt, sft });
  }
  return out;
}

/** Σn²/Σn of the samples' lengths: the mean attention span per token when attention stays inside each sample. */
export function attentionSpan(sftPath: string): number {
  let sum = 0;
  let sumSq = 0;
  for (const line of readFileSync(sftPath, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const n = (JSON.parse(line) as { input_ids: number[] }).input_ids.length;
    sum += n;
    sumSq += n * n;
  }
  return sum > 0 ? sumSq / sum : 0;
}
