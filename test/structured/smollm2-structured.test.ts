/**
 * Issue 20's structured-output "done when", on the real model: SmolLM2-135M-Instruct served by the whole stack
 * (controller, worker, gateway; real gRPC, real ONNX). 100 schemas from a seeded generator (nested objects, arrays
 * with min/maxItems, enums, const, required and optional fields, bounded integers and numbers, patterns, formats,
 * anyOf, $defs/$ref) go out 16 at a time on chat and completions (streamed), mixed with free requests so
 * constrained and unconstrained rows share forward passes; every answer must validate (ajv + ajv-formats).
 * Then the openai client's `chat.completions.parse` with zod, what max_tokens does to a constrained answer, and 400s.
 */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import OpenAI from 'openai';
import { LengthFinishReasonError } from 'openai/core/error';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { describeWithSmolLM2, importedSmolLM2 } from '../gguf/support/smollm2';
import { startStack, type Stack } from '../support/stack';
import { generateSchemas, keywordsOf } from './schema-generator';

// Minutes on a quiet 2-core machine; much longer when others share it (the 100 requests are ~5,000 tokens).
jest.setTimeout(1_800_000);

const MODEL = 'SmolLM2-135M-Instruct';
/** Requests in flight at once (the worker batches them), and one free request after every FREE_EVERY schemas. */
const IN_FLIGHT = 16;
const FREE_EVERY = 4;

interface Answer {
  text: string;
  finish: string | null;
}

describeWithSmolLM2('structured outputs on SmolLM2 (100 generated schemas, chat and completions)', (gguf) => {
  let stack: Stack;
  let client: OpenAI;
  const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));

  beforeAll(async () => {
    const { dir } = await importedSmolLM2(gguf);
    stack = await startStack({ workers: [{ model: dir, names: [MODEL], args: ['--max-concurrency', '16'] }], gatewayArgs: ['--request-timeout', '30m'] });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 1_800_000 });
  });
  afterAll(() => stack?.stop());

  /**
   * Request i of the run, streamed, on chat (even i) or completions (odd i). Non-streamed answers are checked below
   * with parse(); streaming also keeps a long wait under the HTTP client's 300 s headers timeout on a shared machine.
   */
  async function ask(i: number, schema: Record<string, unknown>): Promise<Answer> {
    const response_format = { type: 'json_schema', json_schema: { name: `s${i}`, schema, strict: true } } as const;
    const question = `Write one example record of kind ${i} as JSON.`;
    const common = { model: MODEL, max_tokens: 200, temperature: 0.6, seed: i, stream: true } as const;
    const out: Answer = { text: '', finish: null };
    if (i % 2 === 0) {
      for await (const c of await client.chat.completions.create({ ...common, messages: [{ role: 'user', content: question }], response_format })) {
        out.text += c.choices[0]?.delta?.content ?? '';
        out.finish = c.choices[0]?.finish_reason ?? out.finish;
      }
      return out;
    }
    // completions: response_format is an extension there (vLLM accepts it too); the openai types do not know it.
    const body = { ...common, prompt: `${question}\nJSON: `, response_format } as unknown as OpenAI.CompletionCreateParamsStreaming;
    for await (const c of await client.completions.create(body)) {
      out.text += c.choices[0]?.text ?? '';
      out.finish = c.choices[0]?.finish_reason ?? out.finish;
    }
    return out;
  }

  function free(i: number): Promise<string> {
    return client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: `Tell me a fact about the number ${i}.` }], max_tokens: 24, temperature: 0.8, seed: i })
      .then((r) => r.choices[0].message.content ?? '');
  }

  it('100 generated schemas: every answer validates, with free requests in the same batches', async () => {
    const schemas = generateSchemas(20, 100);
    const used = new Set<string>();
    schemas.forEach((s) => keywordsOf(s, used));
    for (const k of ['properties', 'required', 'additionalProperties', 'items', 'minItems', 'maxItems', 'enum', 'const', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'pattern', 'format', 'anyOf', '$ref', '$defs']) {
      expect(used).toContain(k);
    }
    expect(new Set(schemas.map((s) => JSON.stringify(s))).size).toBe(100);

    // One queue: every FREE_EVERY-th job is a free request; at most IN_FLIGHT run at once, so the worker's batches
    // always mix constrained and free rows.
    const jobs: Array<() => Promise<void>> = [];
    const failures: string[] = [];
    let freeAnswers = 0;
    let done = 0;
    schemas.forEach((schema, i) => {
      jobs.push(async () => {
        let answer: Answer;
        try {
          answer = await ask(i, schema);
        } catch (err) {
          failures.push(`#${i}: request failed: ${String(err)}`);
          return;
        }
        let value: unknown;
        try {
          value = JSON.parse(answer.text);
        } catch {
          failures.push(`#${i} (${answer.finish}): not JSON: ${answer.text}\n  schema ${JSON.stringify(schema)}`);
          return;
        }
        if (answer.finish !== 'stop') failures.push(`#${i}: finish_reason ${answer.finish}`);
        if (!ajv.validate(schema, value)) failures.push(`#${i}: ${ajv.errorsText()}\n  answer ${answer.text}\n  schema ${JSON.stringify(schema)}`);
        done += 1;
        if (process.env.STRUCTURED_PROGRESS) process.stderr.write(`#${i} ${answer.finish} ${answer.text.length} chars (${done} done, ${failures.length} failures)\n`);
      });
      if (i % FREE_EVERY === 0) jobs.push(() => free(i).then((t) => void (freeAnswers += t.length > 0 ? 1 : 0)));
    });
    let next = 0;
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next < jobs.length) await jobs[next++]();
    }));
    expect(failures).toEqual([]);
    expect(freeAnswers).toBe(schemas.length / FREE_EVERY);
  });

  it('the openai client: chat.completions.parse with a zod schema returns a parsed object', async () => {
    const City = z.object({
      name: z.string().max(30),
      country: z.string().max(30),
      population: z.number().int().min(0).max(50_000_000),
      landmarks: z.array(z.string().max(40)).min(1).max(3),
      climate: z.enum(['temperate', 'tropical', 'arid', 'cold']),
    });
    const res = await client.chat.completions.parse({ model: MODEL, messages: [{ role: 'user', content: 'Describe Paris as JSON.' }], response_format: zodResponseFormat(City, 'city'), temperature: 0, max_tokens: 300 });
    const message = res.choices[0].message;
    expect(res.choices[0].finish_reason).toBe('stop');
    expect(message.parsed).not.toBeNull();
    expect(City.parse(message.parsed)).toEqual(message.parsed);
    expect(message.parsed?.name).toMatch(/Paris/);
  });

  it('max_tokens cuts a constrained answer: finish_reason length, the JSON so far; parse() raises LengthFinishReasonError', async () => {
    const schema = { type: 'object', properties: { story: { type: 'string', minLength: 200, maxLength: 400 } }, required: ['story'], additionalProperties: false };
    const r = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'A story, as JSON.' }], max_tokens: 12, temperature: 0, response_format: { type: 'json_schema', json_schema: { name: 'story', schema } } });
    expect(r.choices[0].finish_reason).toBe('length');
    expect(r.usage?.completion_tokens).toBe(12);
    expect(r.choices[0].message.content).toMatch(/^\{"story": "/);
    const Story = z.object({ story: z.string().min(200).max(400) });
    await expect(client.chat.completions.parse({ model: MODEL, messages: [{ role: 'user', content: 'A story, as JSON.' }], max_tokens: 12, response_format: zodResponseFormat(Story, 'story') })).rejects.toBeInstanceOf(LengthFinishReasonError);
  });

  it('a format or keyword that cannot be enforced is a 400 naming it', async () => {
    const call = async (schema: object): Promise<{ status: number; message: string }> => {
      const r = await fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'x' }], max_tokens: 5, response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } }) });
      return { status: r.status, message: ((await r.json()) as { error: { message: string } }).error.message };
    };
    const idn = await call({ type: 'object', properties: { mail: { type: 'string', format: 'idn-email' } } });
    expect(idn).toEqual({ status: 400, message: expect.stringMatching(/unsupported string format "idn-email" .* at \/properties\/mail\/format/) as string });
    const contains = await call({ type: 'array', contains: { const: 1 } });
    expect(contains).toEqual({ status: 400, message: expect.stringMatching(/unsupported JSON Schema keyword 'contains'/) as string });
  });
});
