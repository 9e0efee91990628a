/**
 * Runs the `fleetchat` CLI as a child whose V8 heap the test can inspect: heap-probe.ts preloaded, over an IPC
 * channel. `heapAfterGc` forces full collections in the child and returns
 * what its heap still holds (the figure that tells retention from garbage; RSS does not).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

export interface HeapFigures {
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  rss: number;
  mallocedMemory: number;
  nativeContexts: number;
}

export function spawnProbedCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ['-r', '@swc-node/register', '-r', join(__dirname, 'heap-probe.ts'), join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, FLEETCHAT_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
}

let nextId = 1;

function ask<T>(child: ChildProcess, message: Record<string, unknown>, pick: (answer: Record<string, unknown>) => T, timeoutMs = 60_000): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`heap probe: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (raw: unknown): void => {
      const answer = raw as Record<string, unknown>;
      if (answer?.id !== id) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      if (typeof answer.error === 'string') reject(new Error(`heap probe: ${answer.error}`));
      else resolve(pick(answer));
    };
    child.on('message', onMessage);
    child.send({ ...message, id });
  });
}

/** Full garbage collections in the child, then its heap figures. */
export function heapAfterGc(child: ChildProcess): Promise<HeapFigures> {
  return ask(child, { type: 'heap' }, (a) => a.heap as HeapFigures);
}

/** Writes a heap snapshot of the child to `path` (for diagnosis; large). */
export function heapSnapshot(child: ChildProcess, path: string): Promise<string> {
  return ask(child, { type: 'snapshot', path }, (a) => a.path as string, 180_000);
}
