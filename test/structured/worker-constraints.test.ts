/**
 * Grammar-constrained decoding in the worker, over real gRPC with the generated random-weight model: whatever the
 * weights, constrained output validates; unconstrained rows batched with constrained ones are untouched; bad
 * constraints are INVALID_ARGUMENT naming what is wrong.
 */
import { status, type ServiceError } from '@grpc/grpc-js';
import Ajv from 'ajv';
import { parseConfig } from '../../src/common/config';
import { FinishReason, GenerateRequest, WorkerClient, type Constraint, type GenerateResponse } from '../../src/common/gen/worker';
import { createClient, deadlineIn } from '../../src/common/grpc/client';
import { silentLogger } from '../../src/common/log';
import { startWorker, workerOptions, type RunningWorker } from '../../src/worker/main';
import { tinyModel } from '../support/models';
import { SCHEMAS } from './schemas';

type GenerateInit = Parameters<typeof GenerateRequest.fromPartial>[0];

function collect(client: WorkerClient, req: GenerateInit): Promise<{ text: string; finish: FinishReason }> {
  return new Promise((resolve, reject) => {
    const out = { text: '', finish: FinishReason.FINISH_REASON_UNSPECIFIED };
    const call = client.generate(GenerateRequest.fromPartial({ model: 'tiny', ...req }), { deadline: deadlineIn(60_000) });
    call.on('data', (c: GenerateResponse) => {
      out.text += c.text;
      if (c.finishReason) out.finish = c.finishReason;
    });
    call.on('error', reject);
    call.on('end', () => resolve(out));
  });
}

const schema = (s: object): Constraint => ({ kind: { $case: 'jsonSchema', value: JSON.stringify(s) } });

describe('worker: grammar-constrained decoding (random-weight model)', () => {
  let worker: RunningWorker;
  let client: WorkerClient;

  beforeAll(async () => {
    const dir = await tinyModel();
    worker = await startWorker(parseConfig(workerOptions, ['--model', dir, '--model-names', 'tiny', '--controller', '', '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--threads', '1', '--max-concurrency', '8']), silentLogger());
    client = createClient(WorkerClient, worker.address);
  }, 120_000);
  afterAll(async () => {
    client?.close();
    await worker?.stop();
  });

  test('every schema, sampled at temperature 1 in one batch, yields JSON that validates', async () => {
    const ajv = new Ajv({ strict: false });
    const results = await Promise.all(SCHEMAS.map((s, i) => collect(client, { prompt: `Answer ${i}:`, params: { temperature: 1, seed: i, maxTokens: 600, constraint: schema(s) } })));
    results.forEach((r, i) => {
      expect(r.finish).toBe(FinishReason.FINISH_REASON_STOP);
      const value: unknown = JSON.parse(r.text);
      const ok = ajv.validate(SCHEMAS[i], value);
      if (!ok) throw new Error(`schema ${i}: ${r.text} — ${ajv.errorsText()}`);
    });
  }, 120_000);

  test('regex and choice', async () => {
    const re = await collect(client, { prompt: 'x', params: { temperature: 1, seed: 4, maxTokens: 100, constraint: { kind: { $case: 'regex', value: '[0-9]{3}-[a-z]{2,4}' } } } });
    expect(re.text).toMatch(/^[0-9]{3}-[a-z]{2,4}$/);
    const choices = ['yes', 'no', 'maybe "so"'];
    for (let seed = 0; seed < 5; seed++) {
      const c = await collect(client, { prompt: 'x', params: { temperature: 1, seed, maxTokens: 50, constraint: { kind: { $case: 'choice', value: { choices } } } } });
      expect(choices).toContain(c.text);
    }
  }, 60_000);

  test('a free request batched with constrained ones produces what it produces alone', async () => {
    const free = { prompt: 'Tell me a story', params: { temperature: 0, maxTokens: 24, ignoreEos: true } };
    const alone = await collect(client, free);
    const [together] = await Promise.all([collect(client, free), ...SCHEMAS.slice(0, 4).map((s, i) => collect(client, { prompt: `q${i}`, params: { temperature: 0, maxTokens: 300, constraint: schema(s) } }))]);
    expect(together.text).toBe(alone.text);
  }, 60_000);

  test('unsupported keywords and bad constraints are INVALID_ARGUMENT naming the problem', async () => {
    const fail = (c: Constraint): Promise<ServiceError> => collect(client, { prompt: 'x', params: { maxTokens: 5, constraint: c } }).then(() => { throw new Error('expected failure'); }, (e: ServiceError) => e);
    const multipleOf = await fail(schema({ type: 'integer', multipleOf: 3 }));
    expect(multipleOf.code).toBe(status.INVALID_ARGUMENT);
    expect(multipleOf.details).toMatch(/unsupported JSON Schema keyword 'multipleOf'/);
    const not = await fail(schema({ type: 'object', properties: { a: { not: { type: 'string' } } } }));
    expect(not.details).toMatch(/'not'.*\/properties\/a/);
    expect((await fail({ kind: { $case: 'jsonSchema', value: '{oops' } })).details).toMatch(/not valid JSON/);
    expect((await fail(schema({ type: 'strin' }))).details).toMatch(/unknown type "strin"/);
    expect((await fail({ kind: { $case: 'regex', value: '[0-9' } })).details).toMatch(/guided_regex: invalid regular expression/);
    expect((await fail({ kind: { $case: 'choice', value: { choices: [] } } })).details).toMatch(/guided_choice/);
    // The worker still serves constrained requests after refusing these.
    const after = await collect(client, { prompt: 'x', params: { temperature: 0, maxTokens: 300, constraint: schema(SCHEMAS[0]) } });
    expect(new Ajv({ strict: false }).validate(SCHEMAS[0], JSON.parse(after.text))).toBe(true);
  }, 60_000);
});
