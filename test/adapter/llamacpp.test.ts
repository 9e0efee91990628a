/**
 * A real third-party engine behind fleetchat: llama.cpp's OpenAI-compatible server (llama-cpp-python) serving
 * SmolLM2-135M-Instruct's GGUF, registered through the `--engine openai` adapter beside an ONNX worker. The official
 * `openai` client streams from it through the gateway; a cancelled stream stops the engine's generation; killing the
 * engine makes the worker unready (readyz, status) and its requests fail cleanly, and it comes back with the engine;
 * an arena battle pairs the ONNX model with the llama.cpp one.
 */
import { Metadata } from '@grpc/grpc-js';
import OpenAI from 'openai';
import { WorkerClient } from '../../src/common/gen/worker';
import { createClient, unary } from '../../src/common/grpc/client';
import { describeWithSmolLM2 } from '../gguf/support/smollm2';
import { startLlamaServer, type LlamaServer } from '../support/llama-server';
import { tinyModel } from '../support/models';
import { startStack, waitFor, type Stack } from '../support/stack';
import { ArenaClient, call } from '../ui/support/arena-stack';

jest.setTimeout(180_000);

const LLAMA = 'smollm2-llamacpp';
const question = [{ role: 'user' as const, content: 'What is the capital of France?' }];

describeWithSmolLM2('llama.cpp server behind the adapter', (gguf) => {
  let engine: LlamaServer;
  let stack: Stack;
  let openai: OpenAI;
  let worker: WorkerClient;

  /**
   * llama.cpp's own greedy answer to `question`, straight from the engine: what fleetchat must relay unchanged (the
   * wording itself depends on the engine's build: an AVX-512 build of llama.cpp answers differently from an AVX2 one).
   */
  const directGreedy = async (maxTokens: number): Promise<string> => {
    const direct = await new OpenAI({ baseURL: `${engine.url}/v1`, apiKey: 'unused', maxRetries: 0 }).chat.completions.create({ model: 'smollm2', messages: question, temperature: 0, max_tokens: maxTokens });
    return direct.choices[0].message.content ?? '';
  };
  const ready = async (): Promise<number> => (await fetch(`${stack.workers[1].ops.url}/readyz`)).status;
  const status = () => unary(worker.getStatus.bind(worker), {}, new Metadata(), 2000);

  beforeAll(async () => {
    engine = await startLlamaServer({ gguf, alias: 'smollm2' });
    stack = await startStack({
      workers: [
        { model: await tinyModel(), names: ['tiny-onnx'] },
        { model: '', names: [LLAMA], args: ['--engine', 'openai', '--upstream', engine.url, '--upstream-api', 'llamacpp', '--upstream-poll', '250ms'] },
      ],
    });
    openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    worker = createClient(WorkerClient, stack.workers[1].address);
  }, 180_000);
  afterAll(async () => {
    worker?.close();
    await stack?.stop();
    await engine?.kill();
  });

  it('streams a greedy chat answer through the gateway with the official openai client', async () => {
    const stream = await openai.chat.completions.create({ model: LLAMA, messages: question, temperature: 0, max_tokens: 32, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let chunks = 0;
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? '';
      if (c.choices[0]?.delta?.content) chunks += 1;
      finish = c.choices[0]?.finish_reason ?? finish;
      usage = c.usage ?? usage;
    }
    expect(chunks).toBeGreaterThan(3);
    expect(['stop', 'length']).toContain(finish);
    expect(usage?.completion_tokens).toBe(chunks); // llama-cpp-python sends no usage: one token per streamed delta
    // The same request straight to llama.cpp gives the same text: the adapter relays, it does not change the answer.
    expect(text).toBe(await directGreedy(32));
  });

  it('passes llama.cpp\'s extra sampling fields, counts tokens with the engine, reports the upstream in model info', async () => {
    const res = await call<{ choices: Array<{ message: { content: string } }> }>(`${stack.url}/v1/chat/completions`, 'POST', { model: LLAMA, messages: question, temperature: 0.7, top_k: 1, max_tokens: 16 });
    expect(res.status).toBe(200);
    expect(res.body.choices[0].message.content).toBe(await directGreedy(16)); // top_k 1 is greedy whatever the temperature
    const count = await unary(worker.countTokens.bind(worker), { model: LLAMA, prompt: 'Hello world', chat: undefined }, new Metadata(), 5000);
    const direct = (await call<{ count: number }>(`${engine.url}/extras/tokenize/count`, 'POST', { input: 'Hello world' })).body.count;
    expect(count.tokenCount).toBe(direct);
    const info = await unary(worker.getModelInfo.bind(worker), {}, new Metadata(), 2000);
    expect(info).toMatchObject({ modelNames: [LLAMA], executionProvider: 'external:llamacpp', source: engine.url });
  });

  it('stops the engine\'s generation when the client cancels mid-stream', async () => {
    // SmolLM2's end tokens (<|endoftext|> 0, <|im_end|> 2) banned through logit_bias, so it writes all 150 tokens.
    const long = { model: LLAMA, messages: [{ role: 'user' as const, content: 'Count from 1 to 500, one number per line.' }], temperature: 0, max_tokens: 150, logit_bias: { 0: -100, 2: -100 } };
    const t0 = performance.now();
    const full = await openai.chat.completions.create(long);
    const fullMs = performance.now() - t0;
    expect(full.usage?.completion_tokens).toBe(150);

    const ac = new AbortController();
    const stream = await openai.chat.completions.create({ ...long, stream: true }, { signal: ac.signal });
    let seen = 0;
    // The openai client ends the iteration quietly once its signal is aborted.
    for await (const c of stream) {
      if (c.choices[0]?.delta?.content) seen += 1;
      if (seen === 5) ac.abort();
    }
    expect(seen).toBe(5);
    await waitFor(async () => (await status()).running === 0, 5000);
    // llama.cpp runs one generation at a time here: had it gone on with the cancelled one, this request would wait.
    const t1 = performance.now();
    const short = await openai.chat.completions.create({ ...long, max_tokens: 4 });
    const afterCancelMs = performance.now() - t1;
    expect(short.choices[0].message.content).toBeTruthy();
    expect(afterCancelMs).toBeLessThan(fullMs / 2);
  });

  it('marks the worker unready when the engine dies, fails its requests cleanly, and recovers with the engine', async () => {
    // A stream in flight when the engine is killed ends with an error (no hang, no partial success).
    const stream = await openai.chat.completions.create({ model: LLAMA, messages: [{ role: 'user', content: 'Write a long story about the sea.' }], max_tokens: 400, stream: true });
    const inFlight = (async () => {
      let first = true;
      for await (const c of stream) {
        if (first && c.choices[0]?.delta?.content) {
          first = false;
          await engine.kill();
        }
      }
    })();
    await expect(inFlight).rejects.toThrow();
    await waitFor(async () => (await ready()) === 503, 5000);
    expect((await status()).draining).toBe(true);
    // The controller stops dispatching to it: the gateway answers 503 at once; the ONNX model still serves.
    await waitFor(async () => (await call(`${stack.url}/v1/chat/completions`, 'POST', { model: LLAMA, messages: question, max_tokens: 4 })).status === 503, 5000);
    expect((await call(`${stack.url}/v1/chat/completions`, 'POST', { model: 'tiny-onnx', messages: question, max_tokens: 4 })).status).toBe(200);

    engine = await startLlamaServer({ gguf, alias: 'smollm2', port: engine.port });
    await waitFor(async () => (await ready()) === 200, 10_000);
    await waitFor(async () => (await call(`${stack.url}/v1/chat/completions`, 'POST', { model: LLAMA, messages: question, max_tokens: 4 })).status === 200, 10_000);
  });

  it('pairs the ONNX model with the llama.cpp model in an arena battle', async () => {
    // The arena keeps the transcript on the server: create the battle, send the user message, then each side answers.
    const client = new ArenaClient(stack.url);
    const battle = await client.call<{ id: string; model_a: string; model_b: string }>('/arena/battles', 'POST', { anony: false, model_a: 'tiny-onnx', model_b: LLAMA });
    expect(battle.status).toBe(201);
    expect((await client.call(`/arena/battles/${battle.body.id}/messages`, 'POST', { message: question[0].content })).status).toBe(201);
    const sides = await Promise.all(['a', 'b'].map((side) => client.stream(`/arena/battles/${battle.body.id}/sides/${side}/chat/completions`, { temperature: 0, max_tokens: 24 })));
    expect(sides.map((s) => s.status)).toEqual([200, 200]);
    expect(sides[1].text).toBe(await directGreedy(24));
    expect(sides[0].text.length).toBeGreaterThan(0);
    const anony = await client.call<{ id: string }>('/arena/battles', 'POST', {});
    expect(anony.status).toBe(201); // two live chat models: an anonymous battle can be drawn too
  });
});
