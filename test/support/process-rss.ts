/** Resident memory of a child process, as the kernel reports it (Linux /proc), in bytes. */
import { readFileSync } from 'node:fs';

export function processRss(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}
