/**
 * NVIDIA GPUs on this machine, read from `nvidia-smi` (the NVIDIA container toolkit mounts it with the `utility`
 * capability) or, without it, from /proc/driver/nvidia (names only). No GPU, no driver: an empty list.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface GpuInfo {
  /** nvidia-smi's index (PCI order). */
  index: number;
  name: string;
  /** Total memory in bytes (0 when unknown). */
  memoryBytes: number;
  usedBytes: number;
  /** GPU utilisation in percent (-1 when unknown). */
  utilization: number;
}

const MIB = 1024 * 1024;

function fromNvidiaSmi(): GpuInfo[] | undefined {
  let out: string;
  try {
    out = execFileSync('nvidia-smi', ['--query-gpu=index,name,memory.total,memory.used,utilization.gpu', '--format=csv,noheader,nounits'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
  const gpus: GpuInfo[] = [];
  for (const line of out.split('\n')) {
    const parts = line.split(',').map((p) => p.trim());
    if (parts.length < 5 || !/^\d+$/.test(parts[0])) continue;
    const num = (s: string): number => (/^\d+(\.\d+)?$/.test(s) ? Number(s) : -1);
    gpus.push({ index: Number(parts[0]), name: parts[1], memoryBytes: Math.max(0, num(parts[2])) * MIB, usedBytes: Math.max(0, num(parts[3])) * MIB, utilization: num(parts[4]) });
  }
  return gpus;
}

function fromProc(root = '/proc/driver/nvidia/gpus'): GpuInfo[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .sort()
    .map((bus, index) => {
      let name = 'NVIDIA GPU';
      try {
        const m = /^Model:\s*(.+)$/m.exec(readFileSync(join(root, bus, 'information'), 'utf8'));
        if (m) name = m[1].trim();
      } catch {
        // unreadable: keep the generic name
      }
      return { index, name, memoryBytes: 0, usedBytes: 0, utilization: -1 };
    });
}

export function listGpus(): GpuInfo[] {
  return fromNvidiaSmi() ?? fromProc();
}

/** The GPU that CUDA ordinal `deviceId` refers to, honouring CUDA_VISIBLE_DEVICES given as indices. */
export function gpuForOrdinal(gpus: GpuInfo[], deviceId: number, visible = process.env.CUDA_VISIBLE_DEVICES): GpuInfo | undefined {
  if (visible !== undefined && visible.trim() !== '') {
    const ids = visible.split(',').map((s) => s.trim());
    if (ids.every((s) => /^\d+$/.test(s))) {
      const index = Number(ids[deviceId]);
      return gpus.find((g) => g.index === index);
    }
    // UUIDs or MIG names: the container sees only those devices, in order.
    return gpus[deviceId];
  }
  return gpus[deviceId];
}
