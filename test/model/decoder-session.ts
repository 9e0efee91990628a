/** Test helper: run a generated decoder with onnxruntime-node directly (the optimum input layout). */
import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import { ValidLlamaConfig } from '../../src/model/llama/llama-config';

export type Past = Record<string, ort.Tensor>;

export interface StepResult {
  logits: Float32Array;
  /** [batch, seq, vocab] */
  dims: readonly number[];
  present: Past;
}

export async function openDecoder(dir: string, options: ort.InferenceSession.SessionOptions = {}, file = 'model.onnx'): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(join(dir, 'onnx', file), { logSeverityLevel: 4, graphOptimizationLevel: 'all', ...options });
}

export function int64Tensor(rows: readonly (readonly number[])[]): ort.Tensor {
  const width = rows[0]?.length ?? 0;
  return new ort.Tensor('int64', BigInt64Array.from(rows.flat().map((v) => BigInt(v))), [rows.length, width]);
}

export function emptyPast(c: ValidLlamaConfig, batch: number): Past {
  const past: Past = {};
  for (let l = 0; l < c.numLayers; l++) {
    for (const kv of ['key', 'value']) past[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [batch, c.numKvHeads, 0, c.headDim]);
  }
  return past;
}

export async function runStep(
  session: ort.InferenceSession, c: ValidLlamaConfig,
  step: { inputIds: number[][]; attentionMask: number[][]; positionIds: number[][]; past?: Past; keepLogits?: number },
): Promise<StepResult> {
  const feeds: Past = {
    input_ids: int64Tensor(step.inputIds),
    attention_mask: int64Tensor(step.attentionMask),
    position_ids: int64Tensor(step.positionIds),
    ...(step.past ?? emptyPast(c, step.inputIds.length)),
  };
  // 0: logits of every position (the graph's `num_logits_to_keep`, as in optimum exports).
  if (session.inputNames.includes('num_logits_to_keep')) feeds.num_logits_to_keep = new ort.Tensor('int64', BigInt64Array.of(BigInt(step.keepLogits ?? 0)), []);
  const out = await session.run(feeds);
  const present: Past = {};
  for (let l = 0; l < c.numLayers; l++) {
    for (const kv of ['key', 'value']) present[`past_key_values.${l}.${kv}`] = out[`present.${l}.${kv}`];
  }
  return { logits: out.logits.data as Float32Array, dims: out.logits.dims, present };
}

/** Logits of one position: row b, position s. */
export function logitsAt(r: StepResult, b: number, s: number): Float32Array {
  const [, seq, vocab] = r.dims;
  const start = (b * seq + s) * vocab;
  return r.logits.subarray(start, start + vocab);
}

/** One unpadded sequence from scratch: logits of every position. */
export async function runSequence(session: ort.InferenceSession, c: ValidLlamaConfig, tokens: number[]): Promise<StepResult> {
  return runStep(session, c, { inputIds: [tokens], attentionMask: [tokens.map(() => 1)], positionIds: [tokens.map((_, i) => i)] });
}

/** max |a - b| / max |b|. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Greedy decoding with the KV cache: `steps` new tokens after the prompt. */
export async function greedyTokens(session: ort.InferenceSession, c: ValidLlamaConfig, prompt: number[], steps: number): Promise<number[]> {
  let r = await runSequence(session, c, prompt);
  const out = [argmax(logitsAt(r, 0, prompt.length - 1))];
  while (out.length < steps) {
    const total = prompt.length + out.length;
    r = await runStep(session, c, { inputIds: [[out[out.length - 1]]], attentionMask: [Array<number>(total).fill(1)], positionIds: [[total - 1]], past: r.present });
    out.push(argmax(logitsAt(r, 0, 0)));
  }
  return out;
}
