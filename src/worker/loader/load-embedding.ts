/**
 * Embedding models: an encoder graph (input_ids, attention_mask [, token_type_ids] → last_hidden_state)
 * with mean pooling over real tokens, optional truncation of dimensions and L2 normalisation. Inputs are
 * processed in length-sorted batches; concurrent calls run one at a time on the session.
 */
import { basename } from 'node:path';
import * as ort from 'onnxruntime-node';
import { FleetError } from '../../common/errors';
import { loadTokenizer, type LoadedTokenizer } from '../../chat/tokenizer';
import { ModelInfo, ModelKind } from '../../common/gen/worker';
import { createOrtSession } from '../engine/session';
import { deviceInfoFields, openOnDevice } from '../device/open-on-device';
import type { EmbeddingResult, EmbeddingRuntime } from '../runtime';
import { readModelConfig } from './config';
import { findOnnxFile } from './files';
import type { GenerationLoadOptions } from './load';

const BATCH = 32;

/** Mean of the hidden states of real tokens: hidden [batch, seq, dim], mask [batch, seq]. */
export function meanPool(hidden: Float32Array, mask: BigInt64Array, batch: number, seq: number, dim: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let b = 0; b < batch; b++) {
    const v = new Float32Array(dim);
    let count = 0;
    for (let s = 0; s < seq; s++) {
      if (mask[b * seq + s] === 0n) continue;
      count += 1;
      const off = (b * seq + s) * dim;
      for (let d = 0; d < dim; d++) v[d] += hidden[off + d];
    }
    for (let d = 0; d < dim; d++) v[d] /= Math.max(1, count);
    out.push(v);
  }
  return out;
}

export function finishVector(v: Float32Array, normalize: boolean, dimensions?: number): Float32Array {
  const cut = dimensions !== undefined && dimensions < v.length ? v.slice(0, dimensions) : v;
  if (!normalize) return cut;
  let norm = 0;
  for (const x of cut) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  return cut.map((x) => x / norm);
}

interface Encoded {
  index: number;
  ids: number[];
}

async function runBatch(session: ort.InferenceSession, items: Encoded[], padId: number): Promise<Float32Array[]> {
  const seq = Math.max(...items.map((i) => i.ids.length));
  const b = items.length;
  const ids = new BigInt64Array(b * seq).fill(BigInt(padId));
  const mask = new BigInt64Array(b * seq);
  items.forEach((item, r) => {
    item.ids.forEach((t, s) => {
      ids[r * seq + s] = BigInt(t);
      mask[r * seq + s] = 1n;
    });
  });
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', ids, [b, seq]),
    attention_mask: new ort.Tensor('int64', mask, [b, seq]),
  };
  if (session.inputNames.includes('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(b * seq), [b, seq]);
  const out = await session.run(feeds);
  const hidden = out.last_hidden_state ?? out[session.outputNames[0]];
  const dim = hidden.dims[hidden.dims.length - 1];
  return meanPool(hidden.data as Float32Array, mask, b, seq, dim);
}

export async function loadEmbeddingRuntime(options: GenerationLoadOptions): Promise<EmbeddingRuntime> {
  const config = readModelConfig(options.dir);
  const tokenizer: LoadedTokenizer = await loadTokenizer(options.dir);
  const onnxPath = findOnnxFile(options.dir, options.weights);
  const { session, device } = await openOnDevice(options.device, (d) => createOrtSession(onnxPath, { threads: options.threads, device: d }), options.logger);
  if (!session.outputNames.includes('last_hidden_state') && session.outputNames.length === 0) {
    throw new FleetError('invalid_request', `${options.dir}: encoder graph has no outputs`, { code: 'unsupported_graph' });
  }
  const contextLength = config.contextLength;
  const padId = tokenizer.padTokenId ?? 0;
  let pending = 0;
  let running = 0;
  let chain: Promise<unknown> = Promise.resolve();
  let draining = false;
  const encode = (text: string): number[] => tokenizer.encode(text, { addSpecialTokens: true });
  const embed = async (inputs: string[], o: { normalize: boolean; dimensions?: number; signal?: AbortSignal }): Promise<EmbeddingResult> => {
    if (draining) throw new FleetError('unavailable', 'worker is shutting down', { retryAfterS: 1 });
    const encoded = inputs.map((text, index) => ({ index, ids: encode(text) }));
    for (const e of encoded) {
      if (e.ids.length > contextLength) throw new FleetError('context_length_exceeded', `input[${e.index}] has ${e.ids.length} tokens; the model's context length is ${contextLength}`, { param: 'input' });
    }
    const sorted = [...encoded].sort((a, b) => a.ids.length - b.ids.length);
    pending += 1;
    const job = chain.then(async () => {
      pending -= 1;
      if (o.signal?.aborted) throw new FleetError('cancelled', 'the caller cancelled the embedding request');
      running += 1;
      try {
        const vectors = new Array<Float32Array>(inputs.length);
        for (let i = 0; i < sorted.length; i += BATCH) {
          if (o.signal?.aborted) throw new FleetError('cancelled', 'the caller cancelled the embedding request');
          const part = sorted.slice(i, i + BATCH);
          const pooled = await runBatch(session, part, padId);
          part.forEach((item, j) => {
            vectors[item.index] = finishVector(pooled[j], o.normalize, o.dimensions);
          });
        }
        return { vectors, promptTokens: encoded.reduce((n, e) => n + e.ids.length, 0) };
      } finally {
        running -= 1;
      }
    });
    chain = job.catch(() => undefined);
    return job;
  };
  const info = ModelInfo.fromPartial({
    modelNames: options.modelNames.length > 0 ? options.modelNames : [basename(options.dir)],
    kind: ModelKind.MODEL_KIND_EMBEDDING,
    contextLength,
    architecture: config.architecture,
    vocabSize: config.vocabSize,
    embeddingDimensions: config.hiddenSize,
    source: options.source,
    ...deviceInfoFields(device),
  });
  return {
    kind: 'embedding',
    info,
    embed,
    countTokens: (text) => encode(text).length,
    status: () => ({ queueLength: pending, running, maxConcurrency: 1, speed: 1, generatedTokens: 0, draining }),
    drain: async () => {
      draining = true;
      await chain;
    },
    release: () => session.release(),
  };
}
