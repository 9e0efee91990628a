/**
 * The measured stack of scripts/chat-path-files.ts: controller, worker and gateway of a source tree (`root`), each its
 * own process (launch.ts) running the tree's compiled build (dist/, as `npm start` does) with NODE_V8_COVERAGE and
 * the coverage hook preloaded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../test/support/free-port';
export { freePort };

export type ProcessName = 'controller' | 'worker' | 'gateway';

export interface MeasuredProcess {
  name: ProcessName;
  child: ChildProcess;
  coverageDir: string;
  exited: Promise<number | null>;
}


export function startProcess(root: string, workDir: string, name: ProcessName, args: string[]): MeasuredProcess {
  const coverageDir = join(workDir, 'coverage', name);
  mkdirSync(coverageDir, { recursive: true });
  const hook = join(__dirname, 'coverage-hook.cjs');
  const child = spawn(process.execPath, ['-r', hook, '-r', '@swc-node/register', join(__dirname, 'launch.ts'), root, name, ...args], {
    cwd: root,
    env: { ...process.env, NODE_V8_COVERAGE: coverageDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(join(workDir, `${name}.log`));
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, child, coverageDir, exited };
}

export function coverageFiles(p: MeasuredProcess): string[] {
  return readdirSync(p.coverageDir).filter((f) => f.endsWith('.json')).sort();
}

/**
 * Asks every process (and its threads) to write its coverage and reset the counters; returns each process's new
 * files once their number stops growing (the session thread writes its own).
 */
export async function snapshot(processes: MeasuredProcess[]): Promise<Map<ProcessName, string[]>> {
  const before = new Map(processes.map((p) => [p.name, new Set(coverageFiles(p))]));
  for (const p of processes) p.child.kill('SIGUSR2');
  const fresh = (p: MeasuredProcess): string[] => coverageFiles(p).filter((f) => !before.get(p.name)?.has(f));
  const deadline = Date.now() + 30_000;
  let last = -1;
  let stableSince = Date.now();
  for (;;) {
    const counts = processes.map((p) => fresh(p).length);
    const total = counts.reduce((a, b) => a + b, 0);
    if (total !== last) {
      last = total;
      stableSince = Date.now();
    }
    if (counts.every((c) => c > 0) && Date.now() - stableSince > 500) break;
    if (Date.now() > deadline) throw new Error(`coverage snapshot timed out (new files per process: ${counts.join(', ')})`);
    await sleep(50);
  }
  return new Map(processes.map((p) => [p.name, fresh(p).map((f) => join(p.coverageDir, f))]));
}

export async function stopAll(processes: MeasuredProcess[]): Promise<void> {
  for (const p of [...processes].reverse()) {
    if (p.child.exitCode !== null) continue;
    p.child.kill('SIGTERM');
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
    await p.exited;
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
