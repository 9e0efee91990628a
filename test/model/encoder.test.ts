/** The generated BERT-style encoder: loads, produces last_hidden_state, ignores padding, and transformers.js agrees. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import * as tjs from '@huggingface/transformers';
import { createTinyEncoder, TinyEncoderResult } from '../../src/model/encoder/create-tiny-encoder';
import { int64Tensor, relativeError } from './decoder-session';

const tmp = mkdtempSync(join(tmpdir(), 'fleetchat-encoder-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const A = [15496, 11, 616, 1438, 318];
const B = [464, 3139];

describe('createTinyEncoder', () => {
  let made: TinyEncoderResult;
  let session: ort.InferenceSession;
  const run = async (rows: number[][], mask: number[][]): Promise<ort.Tensor> => {
    const out = await session.run({ input_ids: int64Tensor(rows), attention_mask: int64Tensor(mask), token_type_ids: int64Tensor(rows.map((r) => r.map(() => 0))) });
    return out.last_hidden_state;
  };
  beforeAll(async () => {
    made = await createTinyEncoder({ outDir: join(tmp, 'enc'), seed: 3 });
    session = await ort.InferenceSession.create(join(made.dir, 'onnx', 'model.onnx'), { logSeverityLevel: 4, graphOptimizationLevel: 'all' });
  });
  afterAll(async () => session.release());

  it('has the feature-extraction interface and a BertModel config', () => {
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(session.outputNames).toEqual(['last_hidden_state']);
    const config = JSON.parse(readFileSync(join(made.dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model_type: 'bert', architectures: ['BertModel'], hidden_size: 64, vocab_size: 50259 });
  });

  it('produces finite [batch, seq, hidden] states that depend on the text', async () => {
    const out = await run([A, [...B, 13, 13, 13]], [A.map(() => 1), [1, 1, 1, 1, 1]]);
    expect(out.dims).toEqual([2, 5, 64]);
    const data = out.data as Float32Array;
    expect(data.every(Number.isFinite)).toBe(true);
    expect(relativeError(data.subarray(0, 64), data.subarray(320, 384))).toBeGreaterThan(0.1);
  });

  it('right padding does not change the real positions', async () => {
    const alone = (await run([B], [[1, 1]])).data as Float32Array;
    const right = (await run([A, [...B, 0, 0, 0]], [A.map(() => 1), [1, 1, 0, 0, 0]])).data as Float32Array;
    expect(relativeError(right.subarray(5 * 64, 7 * 64), alone)).toBeLessThan(1e-5);
  });

  it('transformers.js loads it and gives the same last_hidden_state', async () => {
    tjs.env.allowRemoteModels = false;
    tjs.env.localModelPath = `${tmp}/`;
    const tokenizer = await tjs.AutoTokenizer.from_pretrained('enc');
    const model = await tjs.AutoModel.from_pretrained('enc', { dtype: 'fp32', device: 'cpu' });
    const inputs = tokenizer('Hello, my name is');
    const theirs = (await model(inputs)).last_hidden_state as tjs.Tensor;
    const ids: number[] = inputs.input_ids.tolist()[0].map(Number);
    const ours = await run([ids], [ids.map(() => 1)]);
    expect(theirs.dims).toEqual(ours.dims);
    expect(relativeError(theirs.data as Float32Array, ours.data as Float32Array)).toBeLessThan(1e-6);
    await model.dispose();
  });
});
