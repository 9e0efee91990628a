/**
 * A float64 reference forward pass of a Hugging Face LlamaForCausalLM, written plainly from the model's definition
 * (transformers' modeling_llama): reads config.json and model.safetensors, no ONNX involved. Used to check the
 * generated ONNX graphs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHfLlamaConfig, ValidLlamaConfig } from '../../src/model/llama/llama-config';
import { EMBED_WEIGHT, FINAL_NORM_WEIGHT, layerWeightNames, LM_HEAD_WEIGHT } from '../../src/model/llama/llama-weights';
import { SafetensorsFile } from '../../src/model/weights/safetensors';

type Vec = Float64Array;

interface RefLayer {
  inputNorm: Vec; postNorm: Vec;
  q: Vec; k: Vec; v: Vec; o: Vec;
  /** q/k/v biases (Qwen2-style attention_bias), zeros when absent. */
  qBias: Vec; kBias: Vec; vBias: Vec;
  gate: Vec; up: Vec; down: Vec;
}

/** y = W x for W [out, in] row-major. */
function linear(w: Vec, x: Vec, out: number): Vec {
  const n = x.length;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = 0;
    const base = o * n;
    for (let i = 0; i < n; i++) s += w[base + i] * x[i];
    y[o] = s;
  }
  return y;
}

function addInPlace(x: Vec, b: Vec): Vec {
  for (let i = 0; i < x.length; i++) x[i] += b[i];
  return x;
}

function rmsNorm(x: Vec, w: Vec, eps: number): Vec {
  let ms = 0;
  for (const v of x) ms += v * v;
  const inv = 1 / Math.sqrt(ms / x.length + eps);
  return x.map((v, i) => w[i] * v * inv);
}

export class ReferenceLlama {
  readonly config: ValidLlamaConfig;
  private readonly embed: Vec;
  private readonly norm: Vec;
  private readonly lmHead: Vec;
  private readonly layers: RefLayer[] = [];

  constructor(dir: string) {
    this.config = fromHfLlamaConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>);
    const file = new SafetensorsFile(join(dir, 'model.safetensors'));
    const get = (name: string): Vec => Float64Array.from(file.get(name).data);
    this.embed = get(EMBED_WEIGHT);
    this.norm = get(FINAL_NORM_WEIGHT);
    this.lmHead = this.config.tieWordEmbeddings ? this.embed : get(LM_HEAD_WEIGHT);
    for (let l = 0; l < this.config.numLayers; l++) {
      const n = layerWeightNames(l);
      const c = this.config;
      const bias = (name: string, size: number): Vec => (file.has(name) ? get(name) : new Float64Array(size));
      this.layers.push({
        inputNorm: get(n.inputNorm), postNorm: get(n.postNorm), q: get(n.q), k: get(n.k), v: get(n.v), o: get(n.o),
        qBias: bias(n.qBias, c.numHeads * c.headDim), kBias: bias(n.kBias, c.numKvHeads * c.headDim), vBias: bias(n.vBias, c.numKvHeads * c.headDim),
        gate: get(n.gate), up: get(n.up), down: get(n.down),
      });
    }
  }

  /** Rotate-half RoPE of one head vector at a position. */
  private rope(x: Vec, offset: number, position: number): void {
    const d = this.config.headDim;
    const half = d / 2;
    for (let i = 0; i < half; i++) {
      const angle = position * Math.pow(this.config.ropeTheta, -(2 * i) / d);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      const a = x[offset + i];
      const b = x[offset + half + i];
      x[offset + i] = a * c - b * s;
      x[offset + half + i] = b * c + a * s;
    }
  }

  /** Logits [tokens.length][vocab] of one unpadded sequence; positions default to 0..n-1. */
  forward(tokens: readonly number[], positions: readonly number[] = tokens.map((_, i) => i)): Float64Array[] {
    const c = this.config;
    const { hiddenSize: h, headDim: d, numHeads: nh, numKvHeads: nkv } = c;
    const group = nh / nkv;
    let xs = tokens.map((t) => this.embed.slice(t * h, (t + 1) * h));
    for (const layer of this.layers) {
      const normed = xs.map((x) => rmsNorm(x, layer.inputNorm, c.rmsNormEps));
      const qs = normed.map((x, t) => { const q = addInPlace(linear(layer.q, x, nh * d), layer.qBias); for (let hd = 0; hd < nh; hd++) this.rope(q, hd * d, positions[t]); return q; });
      const ks = normed.map((x, t) => { const k = addInPlace(linear(layer.k, x, nkv * d), layer.kBias); for (let hd = 0; hd < nkv; hd++) this.rope(k, hd * d, positions[t]); return k; });
      const vs = normed.map((x) => addInPlace(linear(layer.v, x, nkv * d), layer.vBias));
      xs = xs.map((x, t) => {
        const attn = new Float64Array(nh * d);
        for (let head = 0; head < nh; head++) {
          const kv = Math.floor(head / group);
          const scores = Array.from({ length: t + 1 }, (_, j) => {
            let s = 0;
            for (let i = 0; i < d; i++) s += qs[t][head * d + i] * ks[j][kv * d + i];
            return s / Math.sqrt(d);
          });
          const max = Math.max(...scores);
          const e = scores.map((s) => Math.exp(s - max));
          const sum = e.reduce((a, b) => a + b, 0);
          for (let j = 0; j <= t; j++) for (let i = 0; i < d; i++) attn[head * d + i] += (e[j] / sum) * vs[j][kv * d + i];
        }
        const projected = linear(layer.o, attn, h);
        return x.map((v, i) => v + projected[i]);
      });
      xs = xs.map((x) => {
        const n2 = rmsNorm(x, layer.postNorm, c.rmsNormEps);
        const gate = linear(layer.gate, n2, c.intermediateSize);
        const up = linear(layer.up, n2, c.intermediateSize);
        const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
        const down = linear(layer.down, act, h);
        return x.map((v, i) => v + down[i]);
      });
    }
    return xs.map((x) => linear(this.lmHead, rmsNorm(x, this.norm, c.rmsNormEps), c.vocabSize));
  }
}
