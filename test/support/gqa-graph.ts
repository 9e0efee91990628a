/**
 * One com.microsoft GroupQueryAttention node as a graph (its output named `logits`, so that the addon's runBound
 * returns it), and the addon's kernel run over it pass by pass with the cache bound in place as past and present —
 * as the worker binds its pool. Shared by the attention-kernel suites (test/device/gqa-kernel*.test.ts).
 */
import { join } from 'node:path';
import { intAttr, type AttributeValue } from '../../src/model/onnx/attributes';
import { GraphBuilder } from '../../src/model/onnx/graph-builder';
import { writeOnnxModel } from '../../src/model/onnx/model-writer';
import { float16ToFloat32 } from '../../src/worker/engine/float16';
import type { BoundTensor } from '../../src/worker/engine/fused-kv-pool';
import { openNativeBoundRunner } from '../../src/worker/engine/native-session';
import { ropeTables } from './attention-inputs';

export type CacheType = 'float32' | 'float16';
export const ONNX_TYPE: Record<CacheType, number> = { float32: 1, float16: 10 };

export interface GqaNode {
  heads: number;
  kvHeads: number;
  d: number;
  /** the cache's capacity (positions per KV head) */
  cap: number;
  /** rows of the cos / sin tables */
  positions: number;
  /** one packed q|k|v input, or separate query / key / value */
  packed: boolean;
  attrs: Record<string, AttributeValue>;
  cache?: CacheType;
  query?: CacheType;
}

/** Writes the graph into `dir` as `<name>.onnx`; returns its path. */
export function gqaGraph(dir: string, name: string, n: GqaNode): string {
  const { heads, kvHeads, d, cap, positions } = n;
  const cache = n.cache ?? 'float32';
  const query = n.query ?? 'float32';
  const g = new GraphBuilder('gqa', 17);
  g.useDomain('com.microsoft', 1);
  const q = g.input('query', query, ['b', 's', n.packed ? (heads + 2 * kvHeads) * d : heads * d]);
  const k = n.packed ? '' : g.input('key', query, ['b', 's', kvHeads * d]);
  const val = n.packed ? '' : g.input('value', query, ['b', 's', kvHeads * d]);
  const pk = g.input('past_key', cache, ['b', kvHeads, cap, d]);
  const pv = g.input('past_value', cache, ['b', kvHeads, cap, d]);
  const seqlens = g.input('seqlens_k', 'int32', ['b']);
  const total = g.input('total_sequence_length', 'int32', []);
  const cos = g.input('cos', query, [positions, d / 2]);
  const sin = g.input('sin', query, [positions, d / 2]);
  g.node('GroupQueryAttention', [q, k, val, pk, pv, seqlens, total, cos, sin], { domain: 'com.microsoft', outputs: ['logits', 'present_key', 'present_value'], attrs: { num_heads: intAttr(heads), kv_num_heads: intAttr(kvHeads), ...n.attrs } });
  g.output('logits', query, ['b', 's', heads * d]);
  g.output('present_key', cache, ['b', kvHeads, cap, d]);
  g.output('present_value', cache, ['b', kvHeads, cap, d]);
  const path = join(dir, `${name}.onnx`);
  writeOnnxModel(path, g.build('test', '1'));
  return path;
}

/** One pass: its sequence length, each row's seqlens_k (total length after the pass, minus 1), total_sequence_length. */
export interface GqaPass {
  seq: number;
  seqlens: number[];
  total: number;
}

/** A pass's inputs: [packed q|k|v] or [query, key, value], float32. */
export type GqaInputs = Float32Array[];

/**
 * The addon's kernel over `passes` (batch rows each) with `threads` intra-op threads, the cache bound in place; the
 * outputs of every pass and the final cache as float32.
 */
export async function runAddonGqa(path: string, n: GqaNode, run: { batch: number; passes: GqaPass[]; inputs: GqaInputs[]; threads?: number }): Promise<{ outs: Float32Array[]; k: Float32Array; vv: Float32Array }> {
  const { kvHeads, d, cap, positions } = n;
  const { batch, passes, inputs, threads = 1 } = run;
  const cache = n.cache ?? 'float32';
  const native = openNativeBoundRunner(path, threads, undefined, 'fleetchat');
  const size = batch * kvHeads * cap * d;
  const k = cache === 'float32' ? new Float32Array(size) : new Uint16Array(size);
  const vv = cache === 'float32' ? new Float32Array(size) : new Uint16Array(size);
  const [cos, sin] = ropeTables(positions, d);
  const t = ONNX_TYPE[cache];
  const dims = [batch, kvHeads, cap, d];
  const outs: Float32Array[] = [];
  try {
    for (const [i, p] of passes.entries()) {
      const [q, key, value] = inputs[i];
      const feeds: BoundTensor[] = [
        ['query', 1, [batch, p.seq, q.length / batch / p.seq], q],
        ['past_key', t, dims, k],
        ['past_value', t, dims, vv],
        ['seqlens_k', 6, [batch], Int32Array.from(p.seqlens)],
        ['total_sequence_length', 6, [], Int32Array.of(p.total)],
        ['cos', 1, [positions, d / 2], cos],
        ['sin', 1, [positions, d / 2], sin],
      ];
      if (!n.packed) feeds.push(['key', 1, [batch, p.seq, kvHeads * d], key], ['value', 1, [batch, p.seq, kvHeads * d], value]);
      const out = await native.run(feeds, [['present_key', t, dims, k], ['present_value', t, dims, vv]]);
      outs.push(Float32Array.from(out.logits));
    }
  } finally {
    native.release();
  }
  const asFloat = (x: Float32Array | Uint16Array): Float32Array => (x instanceof Uint16Array ? float16ToFloat32(x) : x);
  return { outs, k: asFloat(k), vv: asFloat(vv) };
}
