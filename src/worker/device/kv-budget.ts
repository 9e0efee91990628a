/**
 * The KV budget (admission: prompt + max_tokens positions per running sequence) when the cache lives in GPU memory:
 * the GPU's memory less the weights and a workspace for activations and onnxruntime's arena, kept at 90%. A fused
 * graph's pool is allocated in full on the GPU at the first pass (slots × capacity positions), and its capacity is
 * sized from this budget (fused-step.ts fusedSlotCapacity), so the pool never exceeds it.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const WORKSPACE_BYTES = 2 * 2 ** 30;
const MIN_BUDGET_BYTES = 256 * 2 ** 20;

/** Bytes of an ONNX graph and its external data files (`model.onnx`, `model.onnx_data`, ...). */
export function graphBytes(onnxPath: string): number {
  const dir = dirname(onnxPath);
  const name = basename(onnxPath);
  return readdirSync(dir).filter((f) => f === name || f.startsWith(`${name}_data`) || f.startsWith(`${name}.data`)).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

export function gpuKvBudgetBytes(gpuMemoryBytes: number, weightBytes: number): number {
  return Math.max(MIN_BUDGET_BYTES, Math.floor(0.9 * gpuMemoryBytes - weightBytes - WORKSPACE_BYTES));
}
