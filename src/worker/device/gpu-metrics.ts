/**
 * GPU gauges of a worker on a GPU, read from nvidia-smi when Prometheus scrapes (at most once a second):
 * fleetchat_worker_gpu_memory_{used,total}_bytes and fleetchat_worker_gpu_utilization_ratio, labelled by GPU.
 */
import { Gauge, type Registry } from '../../common/metrics';
import { gpuForOrdinal, listGpus, type GpuInfo } from './gpus';
import type { ResolvedDevice } from './execution-provider';

export function registerGpuMetrics(registry: Registry, device: ResolvedDevice, read: () => GpuInfo[] = listGpus): void {
  if (device.kind === 'cpu') return;
  let cached: { at: number; gpu: GpuInfo | undefined } = { at: 0, gpu: undefined };
  const gpu = (): GpuInfo | undefined => {
    const now = Date.now();
    if (now - cached.at > 1000) cached = { at: now, gpu: gpuForOrdinal(read(), device.deviceId) };
    return cached.gpu;
  };
  const labels = { gpu: device.gpuName || 'gpu', device: `${device.kind}:${device.deviceId}` };
  const gauge = (name: string, help: string, value: (g: GpuInfo) => number): void => {
    new Gauge({
      name, help, labelNames: ['gpu', 'device'], registers: [registry],
      collect() {
        const g = gpu();
        if (g && value(g) >= 0) this.set(labels, value(g));
      },
    });
  };
  gauge('fleetchat_worker_gpu_memory_used_bytes', 'GPU memory in use (all processes on the GPU)', (g) => g.usedBytes);
  gauge('fleetchat_worker_gpu_memory_total_bytes', 'GPU memory', (g) => g.memoryBytes);
  gauge('fleetchat_worker_gpu_utilization_ratio', 'GPU utilisation over the last sample period (0-1)', (g) => (g.utilization < 0 ? -1 : g.utilization / 100));
}
