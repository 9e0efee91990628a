/**
 * `--device`: what a user without a GPU sees. This machine (and CI) has no GPU, no NVIDIA driver, no CUDA libraries
 * and no Vulkan loader, so `cuda` and `webgpu` must be refused with a typed error that names what is missing, and
 * `auto` must run on the CPU and say so. The GPU path itself is measured by `npm run bench:gpu` on a GPU machine.
 */
import { Metadata } from '@grpc/grpc-js';
import { PassThrough } from 'node:stream';
import { parseConfig } from '../../src/common/config';
import { FleetError } from '../../src/common/errors';
import { WorkerClient } from '../../src/common/gen/worker';
import { createClient, unary } from '../../src/common/grpc/client';
import { createLogger, silentLogger } from '../../src/common/log';
import { parseDevice } from '../../src/worker/device/device-spec';
import { applyTf32Policy, resolveDevice, type DeviceProbe } from '../../src/worker/device/execution-provider';
import { openOnDevice } from '../../src/worker/device/open-on-device';
import { openDecoderSession } from '../../src/worker/engine/session';
import { startWorker, workerOptions } from '../../src/worker/main';
import { runCli } from '../support/cli';
import { tinyModel } from '../support/models';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { graphBytes, gpuKvBudgetBytes } from '../../src/worker/device/kv-budget';
import { registerGpuMetrics } from '../../src/worker/device/gpu-metrics';
import { createRegistry } from '../../src/common/metrics';

function logLines(): { logger: ReturnType<typeof createLogger>; lines: () => Array<Record<string, unknown>> } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (d: Buffer) => chunks.push(d.toString()));
  return {
    logger: createLogger({ level: 'info', stream }),
    lines: () => chunks.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('--device parsing', () => {
  it('accepts auto, cpu, cuda, cuda:N and webgpu, and names the choices otherwise', () => {
    expect(parseDevice('auto')).toEqual({ kind: 'auto', deviceId: 0 });
    expect(parseDevice('CUDA:3')).toEqual({ kind: 'cuda', deviceId: 3 });
    expect(parseDevice('webgpu')).toEqual({ kind: 'webgpu', deviceId: 0 });
    expect(() => parseDevice('gpu')).toThrow(/expected auto\|cpu\|cuda\[:N\]\|webgpu, got 'gpu'/);
  });
});

describe('--device on a machine without a GPU', () => {
  it('`fleetchat worker --device cuda` exits with an error naming the missing driver, CUDA libraries and provider', async () => {
    const dir = await tinyModel();
    const r = await runCli(['worker', '--model', dir, '--device', 'cuda', '--controller', '', '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--threads', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^fleetchat: unavailable: --device cuda: the CUDA execution provider cannot load/m);
    expect(r.stderr).toMatch(/libcuda\.so\.1 \(the NVIDIA driver\) not found/);
    expect(r.stderr).toMatch(/libcudart\.so\.13, libcublasLt\.so\.13, libcublas\.so\.13, libcurand\.so\.10 not found/);
    expect(r.stderr).toMatch(/libonnxruntime_providers_cuda\.so not found beside the onnxruntime binding/);
    expect(r.stderr).toMatch(/scripts\/install-gpu-runtime/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 60_000);

  it('`--device webgpu` names the missing Vulkan loader', () => {
    expect(() => resolveDevice(parseDevice('webgpu'), { allowTf32: false, logger: silentLogger() })).toThrow(/--device webgpu: .*libvulkan\.so\.1 \(the Vulkan loader\) not found/);
  });

  it('`--device auto` runs on the CPU, says why in the log, and GetModelInfo states the execution provider', async () => {
    const dir = await tinyModel();
    const { logger, lines } = logLines();
    const worker = await startWorker(parseConfig(workerOptions, ['--model', dir, '--model-names', 'tiny', '--device', 'auto', '--controller', '', '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--threads', '1']), logger);
    const client = createClient(WorkerClient, worker.address);
    try {
      const info = await unary(client.getModelInfo.bind(client), {}, new Metadata(), 2000);
      expect(info).toMatchObject({ executionProvider: 'cpu', device: 'cpu', gpuName: '', gpuMemoryBytes: 0 });
      const fallback = lines().find((l) => l.msg === 'device auto: CUDA is not available here, running on the CPU');
      expect(fallback?.reasons).toEqual(expect.arrayContaining([expect.stringMatching(/no NVIDIA GPU found/)]));
      expect(lines().find((l) => l.msg === 'execution provider selected')).toMatchObject({ device: 'cpu', executionProvider: 'cpu' });
    } finally {
      client.close();
      await worker.stop();
    }
  }, 120_000);

  it('`auto` falls back to the CPU when the GPU session itself fails (a real WebGPU session without an adapter)', async () => {
    const dir = await tinyModel();
    const { logger, lines } = logLines();
    const webgpu = { kind: 'webgpu' as const, deviceId: 0, requested: 'auto', gpuName: 'test adapter', gpuMemoryBytes: 0, allowTf32: false };
    const { session, device } = await openOnDevice(webgpu, (d) => openDecoderSession(join(dir, 'onnx', 'model.onnx'), { threads: 1, device: d }), logger);
    try {
      expect(device.kind).toBe('cpu');
      expect(session.kv.layers).toBeGreaterThan(0);
      expect(lines().find((l) => l.msg === 'device auto: the GPU session failed, running on the CPU')?.reason).toMatch(/cannot create a webgpu session/);
    } finally {
      await session.release();
    }
    // Asked for explicitly, the same failure is a typed error, not a crash.
    const explicit = openOnDevice({ ...webgpu, requested: 'webgpu' }, (d) => openDecoderSession(join(dir, 'onnx', 'model.onnx'), { threads: 1, device: d }), logger);
    await expect(explicit).rejects.toMatchObject({ kind: 'unavailable', code: 'device_unavailable' });
    await expect(explicit).rejects.toBeInstanceOf(FleetError);
  }, 60_000);
});

describe('resolving a GPU that is present', () => {
  const h100: DeviceProbe = {
    gpus: () => [{ index: 0, name: 'NVIDIA H100 80GB HBM3', memoryBytes: 81559 * 2 ** 20, usedBytes: 0, utilization: 0 }],
    loadCuda: () => ({ ok: true, missing: [] }),
    loadVulkan: () => ({ ok: true, missing: [] }),
  };

  it('auto picks CUDA with the GPU name and memory; cuda:1 on a one-GPU machine is refused', () => {
    const d = resolveDevice(parseDevice('auto'), { allowTf32: false, logger: silentLogger(), probe: h100 });
    expect(d).toMatchObject({ kind: 'cuda', deviceId: 0, gpuName: 'NVIDIA H100 80GB HBM3', gpuMemoryBytes: 81559 * 2 ** 20 });
    expect(() => resolveDevice(parseDevice('cuda:1'), { allowTf32: false, logger: silentLogger(), probe: h100 })).toThrow(/no GPU 1: 1 visible/);
  });

  it('turns TF32 off for CUDA unless allowed or already set by the operator', () => {
    const cuda = resolveDevice(parseDevice('cuda'), { allowTf32: false, logger: silentLogger(), probe: h100 });
    const env: NodeJS.ProcessEnv = {};
    applyTf32Policy(cuda, env);
    expect(env.NVIDIA_TF32_OVERRIDE).toBe('0');
    const allowed: NodeJS.ProcessEnv = {};
    applyTf32Policy({ ...cuda, allowTf32: true }, allowed);
    expect(allowed.NVIDIA_TF32_OVERRIDE).toBeUndefined();
    const preset: NodeJS.ProcessEnv = { NVIDIA_TF32_OVERRIDE: '1' };
    applyTf32Policy(cuda, preset);
    expect(preset.NVIDIA_TF32_OVERRIDE).toBe('1');
  });
});

describe('KV budget on the GPU', () => {
  it('is the GPU memory less the weights and a workspace, never below 256 MiB', () => {
    const GiB = 2 ** 30;
    expect(gpuKvBudgetBytes(80 * GiB, 3.7 * GiB)).toBe(Math.floor(0.9 * 80 * GiB - 3.7 * GiB - 2 * GiB));
    expect(gpuKvBudgetBytes(8 * GiB, 20 * GiB)).toBe(256 * 2 ** 20);
  });

  it('counts a graph with its external data', async () => {
    const dir = await tinyModel();
    const onnx = join(dir, 'onnx', 'model.onnx');
    expect(graphBytes(onnx)).toBe(statSync(onnx).size);
  });
});

describe('GPU metrics', () => {
  it('exports the GPU memory and utilisation of the worker\'s GPU, and nothing on the CPU', async () => {
    const gpu = { index: 0, name: 'NVIDIA H100 80GB HBM3', memoryBytes: 80 * 2 ** 30, usedBytes: 5 * 2 ** 30, utilization: 37 };
    const registry = createRegistry();
    registerGpuMetrics(registry, { kind: 'cuda', deviceId: 0, requested: 'cuda', gpuName: gpu.name, gpuMemoryBytes: gpu.memoryBytes, allowTf32: false }, () => [gpu]);
    const text = await registry.metrics();
    expect(text).toContain(`fleetchat_worker_gpu_memory_used_bytes{gpu="NVIDIA H100 80GB HBM3",device="cuda:0"} ${5 * 2 ** 30}`);
    expect(text).toContain(`fleetchat_worker_gpu_memory_total_bytes{gpu="NVIDIA H100 80GB HBM3",device="cuda:0"} ${80 * 2 ** 30}`);
    expect(text).toContain('fleetchat_worker_gpu_utilization_ratio{gpu="NVIDIA H100 80GB HBM3",device="cuda:0"} 0.37');
    const cpu = createRegistry();
    registerGpuMetrics(cpu, { kind: 'cpu', deviceId: 0, requested: 'cpu', gpuName: '', gpuMemoryBytes: 0, allowTf32: false }, () => [gpu]);
    expect(await cpu.metrics()).not.toContain('fleetchat_worker_gpu');
  });
});
