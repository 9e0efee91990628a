/**
 * The ort_device addon's GroupQueryAttention kernel (native/ort-device/gqa_cpu.c) against onnxruntime's own, on a
 * graph of that one node: packed q|k|v and separate query / key / value inputs, rotary (rotate-half and interleaved)
 * and none, a prompt and decode passes over rows at different positions — the outputs
 * and the cache each writes agree to float rounding. Attributes the kernel does not implement fail the session.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { floatAttr, intAttr, type AttributeValue } from '../../src/model/onnx/attributes';
import { GraphBuilder } from '../../src/model/onnx/graph-builder';
import { writeOnnxModel } from '../../src/model/onnx/model-writer';
import type { BoundTensor } from '../../src/worker/engine/fused-kv-pool';
import { openNativeBoundRunner } from '../../src/worker/engine/native-session';
import { maxDiff, ropeTables, seededUniform } from '../support/attention-inputs';

const tmp = mkdtempSync(join(tmpdir(), 'fleetchat-gqa-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CAP = 24;
const BATCH = 2;
const POSITIONS = 32;

interface Variant {
  name: string;
  packed: boolean;
  attrs: Record<string, AttributeValue>;
  /** query heads, KV heads, head dimension (6 / 2 / 16 unless given) */
  shape?: { heads: number; kvHeads: number; d: number };
}

function shapeOf(v: Variant): { HEADS: number; KV_HEADS: number; D: number } {
  const { heads, kvHeads, d } = v.shape ?? { heads: 6, kvHeads: 2, d: 16 };
  return { HEADS: heads, KV_HEADS: kvHeads, D: d };
}

/** A graph of one GroupQueryAttention node; its output is named `logits` so that the addon's runBound returns it. */
function gqaGraph(v: Variant): string {
  const { HEADS, KV_HEADS, D } = shapeOf(v);
  const g = new GraphBuilder('gqa', 17);
  g.useDomain('com.microsoft', 1);
  const q = g.input('query', 'float32', ['b', 's', v.packed ? (HEADS + 2 * KV_HEADS) * D : HEADS * D]);
  const k = v.packed ? '' : g.input('key', 'float32', ['b', 's', KV_HEADS * D]);
  const val = v.packed ? '' : g.input('value', 'float32', ['b', 's', KV_HEADS * D]);
  const pk = g.input('past_key', 'float32', ['b', KV_HEADS, CAP, D]);
  const pv = g.input('past_value', 'float32', ['b', KV_HEADS, CAP, D]);
  const seqlens = g.input('seqlens_k', 'int32', ['b']);
  const total = g.input('total_sequence_length', 'int32', []);
  const cos = g.input('cos', 'float32', [POSITIONS, D / 2]);
  const sin = g.input('sin', 'float32', [POSITIONS, D / 2]);
  g.node('GroupQueryAttention', [q, k, val, pk, pv, seqlens, total, cos, sin], { domain: 'com.microsoft', outputs: ['logits', 'present_key', 'present_value'], attrs: { num_heads: intAttr(HEADS), kv_num_heads: intAttr(KV_HEADS), ...v.attrs } });
  g.output('logits', 'float32', ['b', 's', HEADS * D]);
  g.output('present_key', 'float32', ['b', KV_HEADS, CAP, D]);
  g.output('present_value', 'float32', ['b', KV_HEADS, CAP, D]);
  const path = join(tmp, `${v.name}.onnx`);
  writeOnnxModel(path, g.build('test', '1'));
  return path;
}

const random = seededUniform(1);

interface Pass {
  seq: number;
  seqlens: number[];
  total: number;
}

/** onnxruntime's kernel through onnxruntime-node, its cache carried from pass to pass by copying present into past. */
async function throughOnnxruntime(path: string, v: Variant, passes: Pass[], inputs: Float32Array[][]): Promise<{ outs: Float32Array[]; k: Float32Array; vv: Float32Array }> {
  const { KV_HEADS, D } = shapeOf(v);
  const cosSin = ropeTables(POSITIONS, D);
  const s = await ort.InferenceSession.create(path, { logSeverityLevel: 3, intraOpNumThreads: 1 });
  let k = new Float32Array(BATCH * KV_HEADS * CAP * D);
  let vv = new Float32Array(k.length);
  const outs: Float32Array[] = [];
  for (const [i, p] of passes.entries()) {
    const [q, key, value] = inputs[i];
    const feeds: Record<string, ort.Tensor> = {
      query: new ort.Tensor('float32', q, [BATCH, p.seq, q.length / BATCH / p.seq]),
      past_key: new ort.Tensor('float32', k, [BATCH, KV_HEADS, CAP, D]),
      past_value: new ort.Tensor('float32', vv, [BATCH, KV_HEADS, CAP, D]),
      seqlens_k: new ort.Tensor('int32', Int32Array.from(p.seqlens), [BATCH]),
      total_sequence_length: new ort.Tensor('int32', Int32Array.of(p.total), []),
      cos: new ort.Tensor('float32', cosSin[0], [POSITIONS, D / 2]),
      sin: new ort.Tensor('float32', cosSin[1], [POSITIONS, D / 2]),
    };
    if (!v.packed) {
      feeds.key = new ort.Tensor('float32', key, [BATCH, p.seq, KV_HEADS * D]);
      feeds.value = new ort.Tensor('float32', value, [BATCH, p.seq, KV_HEADS * D]);
    }
    const r = await s.run(feeds);
    outs.push(r.logits.data as Float32Array);
    k = Float32Array.from(r.present_key.data as Float32Array);
    vv = Float32Array.from(r.present_value.data as Float32Array);
  }
  await s.release();
  return { outs, k, vv };
}

/** The addon's kernel, the cache bound in place as both past and present (as the worker binds its pool). */
async function throughAddon(path: string, v: Variant, passes: Pass[], inputs: Float32Array[][]): Promise<{ outs: Float32Array[]; k: Float32Array; vv: Float32Array }> {
  const { KV_HEADS, D } = shapeOf(v);
  const cosSin = ropeTables(POSITIONS, D);
  const native = openNativeBoundRunner(path, 1, undefined, 'fleetchat');
  const k = new Float32Array(BATCH * KV_HEADS * CAP * D);
  const vv = new Float32Array(k.length);
  const outs: Float32Array[] = [];
  try {
    for (const [i, p] of passes.entries()) {
      const [q, key, value] = inputs[i];
      const cache: [number, number, number, number] = [BATCH, KV_HEADS, CAP, D];
      const feeds: BoundTensor[] = [
        ['query', 1, [BATCH, p.seq, q.length / BATCH / p.seq], q],
        ['past_key', 1, cache, k],
        ['past_value', 1, cache, vv],
        ['seqlens_k', 6, [BATCH], Int32Array.from(p.seqlens)],
        ['total_sequence_length', 6, [], Int32Array.of(p.total)],
        ['cos', 1, [POSITIONS, D / 2], cosSin[0]],
        ['sin', 1, [POSITIONS, D / 2], cosSin[1]],
      ];
      if (!v.packed) feeds.push(['key', 1, [BATCH, p.seq, KV_HEADS * D], key], ['value', 1, [BATCH, p.seq, KV_HEADS * D], value]);
      const out = await native.run(feeds, [['present_key', 1, cache, k], ['present_value', 1, cache, vv]]);
      outs.push(Float32Array.from(out.logits));
    }
  } finally {
    native.release();
  }
  return { outs, k, vv };
}

const VARIANTS: Variant[] = [
  { name: 'packed-rotary', packed: true, attrs: { do_rotary: intAttr(1), scale: floatAttr(0.25) } },
  { name: 'packed-interleaved', packed: true, attrs: { do_rotary: intAttr(1), rotary_interleaved: intAttr(1) } },
  { name: 'separate-rotary', packed: false, attrs: { do_rotary: intAttr(1) } },
  { name: 'separate-no-rotary', packed: false, attrs: {} },
  // the vector loops (head dims that are multiples of 32) over groups of every size they split: 1, 2, 3, 2 + 2, 3 + 2
  { name: 'mha-d64', packed: false, attrs: { do_rotary: intAttr(1) }, shape: { heads: 4, kvHeads: 4, d: 64 } },
  { name: 'group2-d32', packed: true, attrs: { do_rotary: intAttr(1) }, shape: { heads: 4, kvHeads: 2, d: 32 } },
  { name: 'group3-d64', packed: true, attrs: { do_rotary: intAttr(1) }, shape: { heads: 6, kvHeads: 2, d: 64 } },
  { name: 'group4-d128', packed: false, attrs: { do_rotary: intAttr(1) }, shape: { heads: 8, kvHeads: 2, d: 128 } },
  { name: 'group5-d32', packed: true, attrs: {}, shape: { heads: 5, kvHeads: 1, d: 32 } },
];

describe("the addon's GroupQueryAttention kernel", () => {
  beforeAll(() => execFileSync(join(__dirname, '../../scripts/build-ort-device'), { stdio: 'pipe' }), 120_000);

  it.each(VARIANTS.map((v) => [v.name, v] as const))('%s: a prompt and decode passes over rows at different positions equal onnxruntime\'s kernel', async (_name, v) => {
    const { HEADS, KV_HEADS, D } = shapeOf(v);
    const path = gqaGraph(v);
    // Both rows: a 5-token prompt, then decode passes; from the third pass row 1 is two positions ahead of row 0
    // (different seqlens in one pass; the positions it skipped stay zero in both caches). onnxruntime's kernel takes
    // chunked continuations (a prompt over a cache) for one row only: fused-decoder.test.ts covers them.
    const passes: Pass[] = [
      { seq: 5, seqlens: [4, 4], total: 5 },
      { seq: 1, seqlens: [5, 5], total: 6 },
      { seq: 1, seqlens: [6, 8], total: 9 },
      { seq: 1, seqlens: [7, 9], total: 10 },
    ];
    const inputs = passes.map((p) => (v.packed ? [random(BATCH * p.seq * (HEADS + 2 * KV_HEADS) * D)] : [random(BATCH * p.seq * HEADS * D), random(BATCH * p.seq * KV_HEADS * D), random(BATCH * p.seq * KV_HEADS * D)]));
    const theirs = await throughOnnxruntime(path, v, passes, inputs);
    const ours = await throughAddon(path, v, passes, inputs);
    expect(theirs.outs.every((out) => out.some((x) => Math.abs(x) > 1e-3))).toBe(true);
    for (const [i, out] of theirs.outs.entries()) expect(maxDiff(ours.outs[i], out)).toBeLessThan(1e-5);
    expect(maxDiff(ours.k, theirs.k)).toBeLessThan(1e-6);
    expect(maxDiff(ours.vv, theirs.vv)).toBe(0);
  });

  it('refuses, when the session is created, what it does not implement (local window, softcap); onnxruntime\'s kernel runs them', async () => {
    for (const [name, attrs] of [['window', { do_rotary: intAttr(1), local_window_size: intAttr(4) }], ['softcap', { do_rotary: intAttr(1), softcap: floatAttr(30) }]] as const) {
      const path = gqaGraph({ name, packed: true, attrs });
      expect(() => openNativeBoundRunner(path, 1, undefined, 'fleetchat')).toThrow(new RegExp(name === 'window' ? 'local_window_size' : 'softcap'));
      await (await ort.InferenceSession.create(path, { logSeverityLevel: 3 })).release();
    }
  });
});
