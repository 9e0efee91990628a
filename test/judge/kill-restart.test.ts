/**
 * The real thing: `fleetchat jobs gen-judgment` as a process, killed with SIGKILL in the middle of a
 * run, then run again — the judgment file ends complete, each judgment once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { judgeTexts, readLines, scratchBench } from './bench-dir';
import { startFakeOpenAI, type FakeServer } from './fake-openai-server';

const ROOT = join(__dirname, '../..');

function fleetchat(args: string[]): ChildProcess {
  return spawn(process.execPath, ['-r', '@swc-node/register', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', SWC_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
}

function lineCount(path: string): number {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').length : 0;
}

describe('fleetchat jobs gen-judgment killed and restarted', () => {
  let fake: FakeServer;
  let bench: ReturnType<typeof scratchBench>;
  beforeAll(async () => {
    bench = scratchBench();
    fake = await startFakeOpenAI({ judgeTexts: judgeTexts(), delayMs: 60 });
  });
  afterAll(async () => {
    await fake.close();
    bench.remove();
  });

  test('SIGKILL after a few judgments, rerun: 21 judgments, none twice', async () => {
    const out = join(bench.dir, 'model_judgment', 'judge-model_pair.jsonl');
    const args = ['jobs', 'gen-judgment', '--mode', 'pairwise-all', '--bench-dir', bench.dir, '--judge-model', 'judge-model', '--judge-base-url', fake.baseUrl, '--parallel', '2', '--log-level', 'warn'];
    const first = fleetchat(args);
    const firstExit = exited(first);
    const deadline = Date.now() + 30_000;
    while (lineCount(out) < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    first.kill('SIGKILL');
    const killed = await firstExit;
    expect(killed.signal).toBe('SIGKILL');
    const written = lineCount(out);
    expect(written).toBeGreaterThanOrEqual(4);
    expect(written).toBeLessThan(21);

    const second = await exited(fleetchat(args));
    expect(second).toMatchObject({ code: 0 });
    const records = readLines(out);
    expect(records).toHaveLength(21);
    expect(new Set(records.map((r) => JSON.stringify([r.question_id, r.model_1, r.model_2, r.turn, r.judge]))).size).toBe(21);
  });
});
