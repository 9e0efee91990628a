/** The decoder graph of a kind: standard opset-17 ops (decoder-graph.ts) or onnxruntime's fused contrib ops. */
import type { OnnxModelSpec } from '../onnx/graph-builder';
import type { WeightSource } from '../weights/weight-source';
import { buildLlamaDecoder, type DecoderBuildOptions } from './decoder-graph';
import { buildFusedLlamaDecoder, type GraphKind } from './fused-decoder-graph';
import type { ValidLlamaConfig } from './llama-config';

export function buildDecoder(config: ValidLlamaConfig, weights: WeightSource, options: DecoderBuildOptions & { graph?: GraphKind } = {}): OnnxModelSpec {
  return options.graph === 'fused' ? buildFusedLlamaDecoder(config, weights, options) : buildLlamaDecoder(config, weights, options);
}
