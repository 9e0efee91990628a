/**
 * The addon's GroupQueryAttention kernel (native/ort-device/gqa_cpu.c) over a float16 KV cache with float32 queries
 * (`--kv-cache fp16`), against the same kernel over a float32 cache on the same inputs: the cache it writes is
 * exactly the float32 one rounded to half precision, and the outputs agree within that rounding — packed and
 * separate q/k/v, rotary (rotate-half, interleaved) and none, head dims 64 (the vector loops), 16 and 12 (the plain-C
 * tails), a prompt and decode passes over rows at different positions, two and three rows. onnxruntime's own kernel
 * ties the cache type to the query type (it runs such a graph only through Casts of the whole cache inserted around
 * it); the addon's refuses float16 queries, which onnxruntime's runs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { floatAttr, intAttr, type AttributeValue } from '../../src/model/onnx/attributes';
import { float32ToFloat16 } from '../../src/model/onnx/float16';
import { float16ToFloat32 } from '../../src/worker/engine/float16';
import { openNativeBoundRunner } from '../../src/worker/engine/native-session';
import { maxDiff, seededUniform } from '../support/attention-inputs';
import { gqaGraph as writeGqaGraph, runAddonGqa, type CacheType, type GqaNode, type GqaPass } from '../support/gqa-graph';

const tmp = mkdtempSync(join(tmpdir(), 'fleetchat-gqa-f16-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HEADS = 6;
const KV_HEADS = 2;
const CAP = 24;
const POSITIONS = 32;

interface Variant {
  name: string;
  packed: boolean;
  d: number;
  batch: number;
  attrs: Record<string, AttributeValue>;
}

function nodeOf(v: Variant, cache: CacheType, query: CacheType = 'float32'): GqaNode {
  return { heads: HEADS, kvHeads: KV_HEADS, d: v.d, cap: CAP, positions: POSITIONS, packed: v.packed, attrs: v.attrs, cache, query };
}

function gqaGraph(v: Variant, cache: CacheType, query: CacheType = 'float32'): string {
  return writeGqaGraph(tmp, `${v.name}-${cache}-${query}`, nodeOf(v, cache, query));
}

const random = seededUniform(7, 2);

/** The addon's kernel over a cache of `cache` type bound in place; the outputs of every pass and the final cache. */
function run(path: string, v: Variant, cache: CacheType, passes: GqaPass[], inputs: Float32Array[][]): Promise<{ outs: Float32Array[]; k: Float32Array; vv: Float32Array }> {
  return runAddonGqa(path, nodeOf(v, cache), { batch: v.batch, passes, inputs });
}

const VARIANTS: Variant[] = [
  { name: 'packed-rotary-d64', packed: true, d: 64, batch: 2, attrs: { do_rotary: intAttr(1), scale: floatAttr(0.125) } },
  { name: 'separate-rotary-d64-three-rows', packed: false, d: 64, batch: 3, attrs: { do_rotary: intAttr(1) } },
  { name: 'packed-interleaved-d16', packed: true, d: 16, batch: 2, attrs: { do_rotary: intAttr(1), rotary_interleaved: intAttr(1) } },
  { name: 'separate-no-rotary-d12', packed: false, d: 12, batch: 2, attrs: {} },
];

describe("the addon's GroupQueryAttention kernel over a float16 cache", () => {
  beforeAll(() => execFileSync(join(__dirname, '../../scripts/build-ort-device'), { stdio: 'pipe' }), 120_000);

  it.each(VARIANTS.map((v) => [v.name, v] as const))('%s: the cache is the float32 one in half precision, the outputs agree within its rounding', async (_name, v) => {
    // A 5-token prompt in every row, then decode passes; from the third pass the rows are at different positions.
    const passes: GqaPass[] = [
      { seq: 5, seqlens: Array<number>(v.batch).fill(4), total: 5 },
      { seq: 1, seqlens: Array<number>(v.batch).fill(5), total: 6 },
      { seq: 1, seqlens: Array.from({ length: v.batch }, (_, r) => 6 + 2 * r), total: 7 + 2 * (v.batch - 1) },
      { seq: 1, seqlens: Array.from({ length: v.batch }, (_, r) => 7 + 2 * r), total: 8 + 2 * (v.batch - 1) },
    ];
    const width = v.packed ? [(HEADS + 2 * KV_HEADS) * v.d] : [HEADS * v.d, KV_HEADS * v.d, KV_HEADS * v.d];
    const inputs = passes.map((p) => width.map((w) => random(v.batch * p.seq * w)));
    const full = await run(gqaGraph(v, 'float32'), v, 'float32', passes, inputs);
    const half = await run(gqaGraph(v, 'float16'), v, 'float16', passes, inputs);
    expect(full.outs.every((out) => out.some((x) => Math.abs(x) > 1e-2))).toBe(true);
    // Keys (rotated in float32) and values are rounded once, to nearest even, when written: bit for bit.
    expect(Array.from(float32ToFloat16(full.k))).toEqual(Array.from(float32ToFloat16(half.k)));
    expect(maxDiff(half.vv, float16ToFloat32(float32ToFloat16(full.vv)))).toBe(0);
    expect(maxDiff(half.k, full.k)).toBeGreaterThan(0); // it did round (a float32 cache in disguise would not)
    // Inputs in [-1, 1): half precision keeps ~3 decimal digits, so the attention outputs differ by ~1e-3 at most.
    for (const [i, out] of full.outs.entries()) expect(maxDiff(half.outs[i], out)).toBeLessThan(4e-3);
  });

  it("the addon's kernel refuses float16 queries (onnxruntime's runs them)", async () => {
    const v = VARIANTS[0];
    const halfQueries = gqaGraph(v, 'float16', 'float16');
    expect(() => openNativeBoundRunner(halfQueries, 1, undefined, 'fleetchat')).toThrow(/cannot create a cpu session/);
    await (await ort.InferenceSession.create(halfQueries, { logSeverityLevel: 4 })).release(); // onnxruntime's runs it
  });
});
