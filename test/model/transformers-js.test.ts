/**
 * transformers.js (@huggingface/transformers, the reference JavaScript runtime for optimum-layout ONNX models) loads a
 * generated model directory as is and decodes greedily to the same tokens as a plain onnxruntime-node loop.
 * Options it needs: env.localModelPath = the parent directory, env.allowRemoteModels = false, dtype 'fp32'
 * (which selects onnx/model.onnx; 'q4' selects onnx/model_q4.onnx).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTinyModel, TinyModelResult } from '../../src/model/tiny/create-tiny-model';
import { greedyTokens, openDecoder } from './decoder-session';

import * as tjs from '@huggingface/transformers';

const tmp = mkdtempSync(join(tmpdir(), 'fleetchat-tjs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PROMPTS = ['Hello, my name is', 'The capital of France is', '<|im_start|>user\nWrite a haiku about the sea.<|im_end|>\n<|im_start|>assistant\n'];
const NEW_TOKENS = 24;

/** Generated tokens up to and including the first end-of-sequence token (transformers.js stops there). */
function untilEos(tokens: number[], eos: number[]): number[] {
  const at = tokens.findIndex((t) => eos.includes(t));
  return at < 0 ? tokens : tokens.slice(0, at + 1);
}

describe('transformers.js on a generated model', () => {
  let made: TinyModelResult;
  let tokenizer: tjs.PreTrainedTokenizer;
  let model: tjs.PreTrainedModel;
  let eos: number[];
  beforeAll(async () => {
    made = await createTinyModel({ outDir: join(tmp, 'tiny'), preset: 'tiny', seed: 11, weightFormats: ['fp32', 'int4'] });
    eos = [50258, 50256];
    tjs.env.allowRemoteModels = false;
    tjs.env.localModelPath = `${tmp}/`;
    tokenizer = await tjs.AutoTokenizer.from_pretrained('tiny');
    model = await tjs.AutoModelForCausalLM.from_pretrained('tiny', { dtype: 'fp32', device: 'cpu' });
  });
  afterAll(async () => model?.dispose());

  it('greedy tokens equal an onnxruntime-node loop with the KV cache, prompt by prompt', async () => {
    const session = await openDecoder(made.dir);
    for (const prompt of PROMPTS) {
      const inputs = tokenizer(prompt);
      const promptIds: number[] = inputs.input_ids.tolist()[0].map(Number);
      const output = (await model.generate({ ...inputs, max_new_tokens: NEW_TOKENS, do_sample: false })) as tjs.Tensor;
      const theirs = (output.tolist()[0] as bigint[]).map(Number).slice(promptIds.length);
      const ours = untilEos(await greedyTokens(session, made.config, promptIds, NEW_TOKENS), eos);
      expect(theirs.length).toBeGreaterThan(0);
      expect(theirs).toEqual(ours);
    }
    await session.release();
  });

  it('a left-padded batch in transformers.js gives every row its unbatched tokens', async () => {
    tokenizer.padding_side = 'left';
    const inputs = tokenizer(PROMPTS.slice(0, 2), { padding: true });
    const output = (await model.generate({ ...inputs, max_new_tokens: 12, do_sample: false })) as tjs.Tensor;
    const width = inputs.input_ids.dims[1];
    const rows = (output.tolist() as bigint[][]).map((r) => r.map(Number).slice(width));
    const session = await openDecoder(made.dir);
    for (const [b, prompt] of PROMPTS.slice(0, 2).entries()) {
      const promptIds: number[] = tokenizer(prompt).input_ids.tolist()[0].map(Number);
      const ours = untilEos(await greedyTokens(session, made.config, promptIds, 12), eos);
      expect(rows[b].slice(0, ours.length)).toEqual(ours);
    }
    await session.release();
  });

  it("dtype 'q4' loads model_q4.onnx (MatMulNBits) and decodes like onnxruntime-node on the same file", async () => {
    const q4 = await tjs.AutoModelForCausalLM.from_pretrained('tiny', { dtype: 'q4', device: 'cpu' });
    const inputs = tokenizer(PROMPTS[0]);
    const promptIds: number[] = inputs.input_ids.tolist()[0].map(Number);
    const output = (await q4.generate({ ...inputs, max_new_tokens: 16, do_sample: false })) as tjs.Tensor;
    const theirs = (output.tolist()[0] as bigint[]).map(Number).slice(promptIds.length);
    const session = await openDecoder(made.dir, {}, 'model_q4.onnx');
    expect(theirs).toEqual(untilEos(await greedyTokens(session, made.config, promptIds, 16), eos));
    await Promise.all([session.release(), q4.dispose()]);
  });
});
