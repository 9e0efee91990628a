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
import { openNativeBoundRunner } from '../../src/worker/engine/native-session';
import { maxDiff, ropeTables, seededUniform } from '../support/attention-inputs';
import { gqaGraph as writeGqaGraph, runAddonGqa, type GqaNode, type GqaPass } from '../support/gqa-graph';

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

function nodeOf(v: Variant): GqaNode {
  const { HEADS, KV_HEADS, D } = shapeOf(v);
  return { heads: HEADS, kvHeads: KV_HEADS, d: D, cap: CAP, positions: POSITIONS, packed: v.packed, attrs: v.attrs };
}

function gqaGraph(v: Variant): string {
  return writeGqaGraph(tmp, v.name, nodeOf(v));
}

const random = seededUniform(1);

type Pass = GqaPass;

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
function throughAddon(path: string, v: Variant, passes: Pass[], inputs: Float32Array[][]): Promise<{ outs: Float32Array[]; k: Float32Array; vv: Float32Array }> {
  return runAddonGqa(path, nodeOf(v), { batch: BATCH, passes, inputs });
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
