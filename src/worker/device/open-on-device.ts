/** Opening a session on the resolved device, with `--device auto`'s fallback to the CPU when the GPU session fails. */
import { FleetError } from '../../common/errors';
import type { Logger } from '../../common/log';
import { CPU_DEVICE, describeDevice, type ResolvedDevice } from './execution-provider';

export async function openOnDevice<T>(device: ResolvedDevice | undefined, open: (device: ResolvedDevice) => Promise<T>, logger: Logger): Promise<{ session: T; device: ResolvedDevice }> {
  const wanted = device ?? CPU_DEVICE;
  try {
    return { session: await open(wanted), device: wanted };
  } catch (err) {
    const onGpu = wanted.kind !== 'cpu' && err instanceof FleetError && err.code === 'device_unavailable';
    if (!onGpu || wanted.requested !== 'auto') throw err;
    logger.warn({ device: describeDevice(wanted), reason: err.message }, 'device auto: the GPU session failed, running on the CPU');
    const cpu = { ...CPU_DEVICE, requested: 'auto' };
    return { session: await open(cpu), device: cpu };
  }
}

/** The ModelInfo fields that say where the model runs. */
export function deviceInfoFields(device: ResolvedDevice): { executionProvider: string; device: string; gpuName: string; gpuMemoryBytes: number } {
  return { executionProvider: device.kind, device: describeDevice(device), gpuName: device.gpuName, gpuMemoryBytes: device.gpuMemoryBytes };
}
