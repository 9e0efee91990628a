/**
 * `--device auto|cpu|cuda[:N]|webgpu`: which execution provider runs the model.
 *  - cpu: onnxruntime's CPU EP (the default build, nothing else needed);
 *  - cuda[:N]: the CUDA EP on GPU N (provider libraries from `scripts/install-gpu-runtime`, NVIDIA driver);
 *  - webgpu: the WebGPU EP compiled into the binding (Dawn over Vulkan: needs the Vulkan loader and a driver);
 *  - auto: cuda when a GPU and the CUDA runtime are present, else cpu (said in the log).
 */
import { FleetError } from '../../common/errors';

export type DeviceKind = 'cpu' | 'cuda' | 'webgpu';

export interface DeviceRequest {
  kind: DeviceKind | 'auto';
  /** GPU ordinal among the visible devices (cuda:N); 0 otherwise. */
  deviceId: number;
}

export const DEVICE_CHOICES = 'auto|cpu|cuda[:N]|webgpu';

export function parseDevice(spec: string): DeviceRequest {
  const s = spec.trim().toLowerCase();
  if (s === 'auto' || s === 'cpu' || s === 'webgpu' || s === 'cuda') return { kind: s, deviceId: 0 };
  const m = /^cuda:(\d{1,3})$/.exec(s);
  if (m) return { kind: 'cuda', deviceId: Number(m[1]) };
  throw new FleetError('invalid_request', `--device: expected ${DEVICE_CHOICES}, got '${spec}'`, { param: 'device' });
}

export function formatDevice(request: DeviceRequest): string {
  return request.kind === 'cuda' && request.deviceId > 0 ? `cuda:${request.deviceId}` : request.kind;
}
