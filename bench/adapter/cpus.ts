/**
 * BENCH_ENGINE_CPUS: the engine on CPUs of its own, the bench client and every fleetchat process on the others
 * (taskset, util-linux) — how proxies are benchmarked: the backend, the proxy and the load generator each on their own
 * cores, so that what is measured is the proxy. In a deployment the engine never shares the front end's cores (vLLM
 * on a GPU host, a hosted API); on a 2-core machine an unpinned engine computing its next token competes with the
 * processes relaying its first one. Default: the engine on the last `threads` CPUs (at least one left for the rest);
 * `none`: nothing pinned.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus } from 'node:os';

/** A CPU list as taskset takes it ("0", "0-1", "0,2-3") as numbers; throws on anything else or CPUs not here. */
export function parseCpuList(spec: string, available = cpus().length): number[] {
  const out = new Set<number>();
  for (const part of spec.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new Error(`BENCH_ENGINE_CPUS: '${spec}' is not a CPU list (e.g. 0 or 0-1 or 0,2)`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from || to >= available) throw new Error(`BENCH_ENGINE_CPUS: '${part.trim()}' is not within CPUs 0-${available - 1}`);
    for (let c = from; c <= to; c++) out.add(c);
  }
  return [...out].sort((a, b) => a - b);
}

/** The engine's CPUs and the rest (at least one CPU each). */
export function splitCpus(engineSpec: string, available = cpus().length): { engine: number[]; rest: number[] } {
  const engine = parseCpuList(engineSpec, available);
  const rest = Array.from({ length: available }, (_, c) => c).filter((c) => !engine.includes(c));
  if (rest.length === 0) throw new Error(`BENCH_ENGINE_CPUS: '${engineSpec}' leaves no CPU for the bench and fleetchat`);
  return { engine, rest };
}

/** Pins every thread of a process (and the processes and threads it starts later) to `cpus`. */
export function pinProcess(pid: number, list: number[]): void {
  execFileSync('taskset', ['-a', '-p', '-c', list.join(','), String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** BENCH_ENGINE_CPUS as the bench applies it: the default split, `none` (undefined: nothing pinned), or a list. */
export function engineCpusFrom(spec: string | undefined, threads: number, available = cpus().length): { engine: number[]; rest: number[] } | undefined {
  if (spec === 'none') return undefined;
  if (spec !== undefined && spec !== '') return splitCpus(spec, available);
  if (available < 2) return undefined;
  const count = Math.min(Math.max(1, threads), available - 1);
  return splitCpus(`${available - count}-${available - 1}`, available);
}

/** Whether taskset can be run here. */
export function canPin(): boolean {
  return spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status === 0;
}
