/**
 * The addon's GroupQueryAttention kernel spread over onnxruntime's intra-op threads (KernelContext_ParallelFor: work
 * items of a row, a query position, a KV head and part of its group): with 2 and 3 threads it writes the same cache
 * and gives the same outputs, bit for bit, as with one — over a float32 and a float16 cache, SmolLM2's shape (9 query /
 * 3 KV heads, head dim 64), a 960-token prompt in two rows and decode passes with the rows at different lengths, and
 * one-row decodes (each pass over the ~1 M multiply-adds below which the kernel stays on the calling thread; a one-row
 * decode has three items, so each group is split in two). The single-thread kernel is
 * checked against onnxruntime's in gqa-kernel.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { intAttr } from '../../src/model/onnx/attributes';
import { seededUniform } from '../support/attention-inputs';
import { gqaGraph, runAddonGqa, type CacheType, type GqaNode, type GqaPass } from '../support/gqa-graph';

const tmp = mkdtempSync(join(tmpdir(), 'fleetchat-gqa-threads-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PROMPT = 960;

describe("the addon's GroupQueryAttention kernel on several threads", () => {
  beforeAll(() => execFileSync(join(__dirname, '../../scripts/build-ort-device'), { stdio: 'pipe' }), 120_000);

  it.each(['float32', 'float16'] as const)('%s cache: 2 and 3 threads give one thread\'s outputs and cache, bit for bit', async (cache: CacheType) => {
    const node: GqaNode = { heads: 9, kvHeads: 3, d: 64, cap: 1024, positions: 1024, packed: true, attrs: { do_rotary: intAttr(1) }, cache };
    const path = gqaGraph(tmp, `smollm2-shape-${cache}`, node);
    const random = seededUniform(11, 2);
    const width = (node.heads + 2 * node.kvHeads) * node.d;
    const two: GqaPass[] = [
      { seq: PROMPT, seqlens: [PROMPT - 1, PROMPT - 1], total: PROMPT },
      { seq: 1, seqlens: [PROMPT, PROMPT], total: PROMPT + 1 },
      { seq: 1, seqlens: [PROMPT + 1, PROMPT + 40], total: PROMPT + 41 },
    ];
    const twoInputs = two.map((p) => [random(2 * p.seq * width)]);
    const one: GqaPass[] = [
      { seq: PROMPT, seqlens: [PROMPT - 1], total: PROMPT },
      { seq: 1, seqlens: [PROMPT], total: PROMPT + 1 },
    ];
    const oneInputs = one.map((p) => [random(p.seq * width)]);
    const base2 = await runAddonGqa(path, node, { batch: 2, passes: two, inputs: twoInputs });
    const base1 = await runAddonGqa(path, node, { batch: 1, passes: one, inputs: oneInputs });
    expect(base2.outs.every((out) => out.some((x) => Math.abs(x) > 1e-2))).toBe(true);
    for (const threads of [2, 3]) {
      const r2 = await runAddonGqa(path, node, { batch: 2, passes: two, inputs: twoInputs, threads });
      const r1 = await runAddonGqa(path, node, { batch: 1, passes: one, inputs: oneInputs, threads });
      for (const [i, out] of base2.outs.entries()) expect(Buffer.from(r2.outs[i].buffer).equals(Buffer.from(out.buffer))).toBe(true);
      for (const [i, out] of base1.outs.entries()) expect(Buffer.from(r1.outs[i].buffer).equals(Buffer.from(out.buffer))).toBe(true);
      expect(Buffer.from(r2.k.buffer).equals(Buffer.from(base2.k.buffer))).toBe(true);
      expect(Buffer.from(r2.vv.buffer).equals(Buffer.from(base2.vv.buffer))).toBe(true);
    }
  });
});
