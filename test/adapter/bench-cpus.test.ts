/** bench:adapter's BENCH_ENGINE_CPUS: CPU lists read as taskset reads them, and a real process pinned. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { engineCpusFrom, parseCpuList, pinProcess, splitCpus } from '../../bench/adapter/cpus';

describe('bench:adapter CPU pinning', () => {
  it('reads CPU lists and refuses what taskset would not take or what leaves nothing for the front end', () => {
    expect(parseCpuList('0', 4)).toEqual([0]);
    expect(parseCpuList('2-3,0', 4)).toEqual([0, 2, 3]);
    expect(splitCpus('1-2', 4)).toEqual({ engine: [1, 2], rest: [0, 3] });
    expect(() => parseCpuList('a', 4)).toThrow(/not a CPU list/);
    expect(() => parseCpuList('3-1', 4)).toThrow(/not within/);
    expect(() => parseCpuList('4', 4)).toThrow(/not within CPUs 0-3/);
    expect(() => splitCpus('0-1', 2)).toThrow(/leaves no CPU/);
  });

  it('by default gives the engine the last CPUs it has threads for, leaving at least one; none pins nothing', () => {
    expect(engineCpusFrom(undefined, 1, 2)).toEqual({ engine: [1], rest: [0] });
    expect(engineCpusFrom('', 2, 8)).toEqual({ engine: [6, 7], rest: [0, 1, 2, 3, 4, 5] });
    expect(engineCpusFrom(undefined, 4, 2)).toEqual({ engine: [1], rest: [0] });
    expect(engineCpusFrom(undefined, 1, 1)).toBeUndefined();
    expect(engineCpusFrom('none', 1, 4)).toBeUndefined();
    expect(engineCpusFrom('0', 1, 4)).toEqual({ engine: [0], rest: [1, 2, 3] });
  });

  it('pins every thread of a running process', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      pinProcess(child.pid ?? -1, [0]);
      expect(readFileSync(`/proc/${child.pid}/status`, 'utf8')).toMatch(/^Cpus_allowed_list:\s+0$/m);
    } finally {
      child.kill();
    }
  });
});
