/**
 * One worker per GPU. A ModelWorker on the ONNX engine that asks for N > 1 `nvidia.com/gpu` per pod gets N worker
 * containers in each pod, each with a limit of one GPU: the device plugin assigns every container its own GPU
 * (NVIDIA_VISIBLE_DEVICES), which the worker sees as cuda:0. They share the pod's network, so each listens on its own
 * ports (gRPC 21011 + 10·i, metrics 21012 + 10·i) and registers with its own id (`<namespace>.<pod>.gpu<i>`); the
 * controller dispatches to each like to any worker. External engines (vLLM, SGLang) instead use all N GPUs in one
 * process (tensor parallelism): see render-engine.ts.
 */
import type { ValidModelWorkerSpec } from './valid-spec';
import { WORKER_GRPC_PORT, WORKER_METRICS_PORT } from './labels';

const GPU = 'nvidia.com/gpu';
const PORT_STRIDE = 10;

/** Whole GPUs of the worker's limit (else request); 0 without any. */
export function gpuCount(spec: ValidModelWorkerSpec): number {
  const raw = spec.resources.limits[GPU] ?? spec.resources.requests[GPU];
  const n = raw === undefined ? 0 : Number(raw);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** Worker processes (containers) per pod: one per GPU on the ONNX engine, else one. */
export function workersPerPod(spec: ValidModelWorkerSpec): number {
  return spec.engine.kind === 'onnx' ? Math.max(1, gpuCount(spec)) : 1;
}

export interface WorkerSlot {
  index: number;
  containerName: string;
  grpcPort: number;
  metricsPort: number;
  grpcPortName: string;
  metricsPortName: string;
  /** Appended to `$(POD_NAMESPACE).$(POD_NAME)` for the worker id. */
  idSuffix: string;
}

/** Slot 0 keeps the single worker's names and ports, so a one-GPU pod renders exactly as before. */
export function workerSlot(index: number, count: number): WorkerSlot {
  if (count <= 1) return { index: 0, containerName: 'worker', grpcPort: WORKER_GRPC_PORT, metricsPort: WORKER_METRICS_PORT, grpcPortName: 'grpc', metricsPortName: 'metrics', idSuffix: '' };
  const suffix = index === 0 ? '' : `-${index}`;
  return {
    index,
    containerName: `worker${suffix}`,
    grpcPort: WORKER_GRPC_PORT + PORT_STRIDE * index,
    metricsPort: WORKER_METRICS_PORT + PORT_STRIDE * index,
    grpcPortName: `grpc${suffix}`,
    metricsPortName: `metrics${suffix}`,
    idSuffix: `.gpu${index}`,
  };
}
