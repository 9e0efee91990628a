/**
 * Turning `--device` into an execution provider: probes what the machine has (GPUs, driver, CUDA libraries,
 * provider files, Vulkan loader), explains every refusal with a typed error, and falls back to the CPU for `auto`.
 */
import { FleetError } from '../../common/errors';
import type { Logger } from '../../common/log';
import { formatDevice, type DeviceKind, type DeviceRequest } from './device-spec';
import { gpuForOrdinal, listGpus, type GpuInfo } from './gpus';
import { loadCudaRuntime, loadVulkanLoader } from './runtime-libs';

/** What the session is created with; plain data (it crosses into the session thread). */
export interface ResolvedDevice {
  kind: DeviceKind;
  deviceId: number;
  /** How it was asked for (`auto`, `cuda:1`, ...). */
  requested: string;
  gpuName: string;
  gpuMemoryBytes: number;
  /** TF32 matrix math on the GPU (changes greedy tokens; off unless allowed). */
  allowTf32: boolean;
  /** `--cuda-graph`: fused graphs' decode steps replayed as CUDA graphs, one per batch bucket (device-kv-pool.ts). */
  cudaGraph?: boolean;
}

export interface DeviceProbe {
  gpus: () => GpuInfo[];
  loadCuda: () => { ok: boolean; missing: string[] };
  loadVulkan: () => { ok: boolean; missing: string[] };
}

export const systemProbe: DeviceProbe = { gpus: listGpus, loadCuda: loadCudaRuntime, loadVulkan: loadVulkanLoader };

export const CPU_DEVICE: ResolvedDevice = { kind: 'cpu', deviceId: 0, requested: 'cpu', gpuName: '', gpuMemoryBytes: 0, allowTf32: false };

function cudaUnavailable(request: DeviceRequest, reasons: string[]): FleetError {
  return new FleetError('unavailable', `--device ${formatDevice(request)}: the CUDA execution provider cannot load: ${reasons.join('; ')}. Install the GPU runtime with scripts/install-gpu-runtime (see README "GPU workers"), or use --device cpu|auto`, { code: 'device_unavailable' });
}

/** Why CUDA cannot run here (empty: it can), loading its libraries as a side effect. */
function cudaProblems(request: DeviceRequest, probe: DeviceProbe): { reasons: string[]; gpu?: GpuInfo } {
  const gpus = probe.gpus();
  const gpu = gpuForOrdinal(gpus, request.deviceId);
  const reasons: string[] = [];
  if (gpus.length === 0) reasons.push('no NVIDIA GPU found (nvidia-smi and /proc/driver/nvidia show none)');
  else if (!gpu) reasons.push(`no GPU ${request.deviceId}: ${gpus.length} visible`);
  const libs = probe.loadCuda();
  if (!libs.ok) reasons.push(...libs.missing);
  return { reasons, gpu };
}

/**
 * Resolves the request. `cuda` and `webgpu` throw `unavailable` (code device_unavailable) naming what is missing;
 * `auto` picks CUDA when it can load and otherwise the CPU, saying why in the log.
 */
export function resolveDevice(request: DeviceRequest, options: { allowTf32: boolean; logger: Logger; probe?: DeviceProbe }): ResolvedDevice {
  const probe = options.probe ?? systemProbe;
  const requested = formatDevice(request);
  const base = { deviceId: request.deviceId, requested, allowTf32: options.allowTf32 };
  if (request.kind === 'cpu') return { ...CPU_DEVICE, requested };
  if (request.kind === 'webgpu') {
    const vulkan = probe.loadVulkan();
    if (!vulkan.ok) throw new FleetError('unavailable', `--device webgpu: the WebGPU execution provider needs Vulkan: ${vulkan.missing.join('; ')}`, { code: 'device_unavailable' });
    const gpu = gpuForOrdinal(probe.gpus(), request.deviceId);
    return { ...base, kind: 'webgpu', gpuName: gpu?.name ?? 'WebGPU adapter', gpuMemoryBytes: gpu?.memoryBytes ?? 0 };
  }
  const { reasons, gpu } = cudaProblems(request, probe);
  if (reasons.length === 0 && gpu) return { ...base, kind: 'cuda', gpuName: gpu.name, gpuMemoryBytes: gpu.memoryBytes };
  if (request.kind === 'cuda') throw cudaUnavailable(request, reasons);
  options.logger.info({ device: 'cpu', reasons }, 'device auto: CUDA is not available here, running on the CPU');
  return { ...CPU_DEVICE, requested };
}

/** onnxruntime-node's `executionProviders` for a resolved device. */
export function executionProvidersFor(device: ResolvedDevice): Array<string | { name: string; deviceId?: number }> {
  if (device.kind === 'cuda') return [{ name: 'cuda', deviceId: device.deviceId }];
  if (device.kind === 'webgpu') return ['webgpu'];
  return ['cpu'];
}

/**
 * TF32 is on by default in cuBLAS and changes greedy tokens; NVIDIA_TF32_OVERRIDE=0 turns it off for the whole
 * process, and must be set before CUDA initialises (the onnxruntime-node binding passes no use_tf32 option).
 */
export function applyTf32Policy(device: ResolvedDevice, env: NodeJS.ProcessEnv = process.env): void {
  if (device.kind !== 'cuda' || device.allowTf32) return;
  if (env.NVIDIA_TF32_OVERRIDE === undefined) env.NVIDIA_TF32_OVERRIDE = '0';
}

/** One line for logs and GetModelInfo: "cuda:0 (NVIDIA H100 80GB HBM3, 80 GiB)". */
export function describeDevice(device: ResolvedDevice): string {
  if (device.kind === 'cpu') return 'cpu';
  const mem = device.gpuMemoryBytes > 0 ? `, ${(device.gpuMemoryBytes / 2 ** 30).toFixed(0)} GiB` : '';
  return `${device.kind}:${device.deviceId} (${device.gpuName}${mem})`;
}
