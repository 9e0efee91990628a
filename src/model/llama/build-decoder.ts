/** The decoder graph of a kind: standard opset-17 ops (decoder-graph.ts), onnxruntime's fused contrib ops, or the fused graph for float32 on CUDA. */
import { FleetError } from '../../common/errors';
import type { OnnxModelSpec } from '../onnx/graph-builder';
import type { WeightSource } from '../weights/weight-source';
import { buildLlamaDecoder, type DecoderBuildOptions } from './decoder-graph';
import { buildFusedLlamaDecoder, type GraphKind } from './fused-decoder-graph';
import { buildFusedMhaLlamaDecoder } from './fused-mha-decoder-graph';
import type { ValidLlamaConfig } from './llama-config';

export function buildDecoder(config: ValidLlamaConfig, weights: WeightSource, options: DecoderBuildOptions & { graph?: GraphKind } = {}): OnnxModelSpec {
  if (options.graph === 'fused') return buildFusedLlamaDecoder(config, weights, options);
  if (options.kvCache === 'fp16') throw new FleetError('invalid_request', 'a float16 KV cache (--kv-cache fp16) needs the fused graph (--graph fused)', { param: 'kv-cache' });
  if (options.graph === 'fused-mha') return buildFusedMhaLlamaDecoder(config, weights, options);
  return buildLlamaDecoder(config, weights, options);
}
