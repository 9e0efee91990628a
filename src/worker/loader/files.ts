/** Locating the ONNX graph of a model directory: fp32, fp16 or quantised variants, as optimum names them. */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FleetError } from '../../common/errors';

export const WEIGHT_VARIANTS = ['auto', 'fp32', 'fp16', 'q8', 'int8', 'q4', 'q4f16'] as const;
export type WeightVariant = (typeof WEIGHT_VARIANTS)[number];

/** File names per variant, in the order transformers.js uses. */
const FILES: Record<Exclude<WeightVariant, 'auto'>, string[]> = {
  fp32: ['model.onnx', 'decoder_model_merged.onnx'],
  fp16: ['model_fp16.onnx', 'decoder_model_merged_fp16.onnx'],
  q8: ['model_quantized.onnx', 'decoder_model_merged_quantized.onnx'],
  int8: ['model_int8.onnx'],
  q4: ['model_q4.onnx'],
  q4f16: ['model_q4f16.onnx'],
};

const AUTO_ORDER: Array<Exclude<WeightVariant, 'auto'>> = ['fp32', 'q4', 'q8', 'int8', 'fp16', 'q4f16'];

/** The relative ONNX paths a variant may use (for downloads). */
export function candidateOnnxFiles(variant: WeightVariant): string[] {
  const variants = variant === 'auto' ? AUTO_ORDER : [variant];
  return variants.flatMap((v) => FILES[v].map((f) => `onnx/${f}`));
}

export function findOnnxFile(dir: string, variant: WeightVariant): string {
  for (const rel of candidateOnnxFiles(variant)) {
    const path = join(dir, rel);
    if (existsSync(path) && statSync(path).size > 0) return path;
  }
  throw new FleetError(
    'not_found',
    `no ONNX graph for weights '${variant}' in ${dir}: expected one of ${candidateOnnxFiles(variant).join(', ')}`,
    { code: 'model_file_missing' },
  );
}

export function requireFile(dir: string, rel: string): string {
  const path = join(dir, rel);
  if (!existsSync(path)) throw new FleetError('not_found', `model file missing: ${path}`, { code: 'model_file_missing' });
  return path;
}
