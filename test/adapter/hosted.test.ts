/**
 * Hosted models as workers, end to end through the real CLI: `fleetchat up` with an ONNX model, an external engine
 * (`--upstream`, key from `--api-key-env`) and a FastChat api_endpoint_file whose entry takes its key from the
 * environment (`"api_key": "$VAR"`). The "hosted" endpoint is llama.cpp's server requiring that key (so a missing
 * or wrong key fails). The official openai client streams from it through the gateway, an arena battle pairs it with
 * the ONNX model, gen-model-answer and gen-judgment use it like any model, and the key never appears in the logs.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { describeWithSmolLM2 } from '../gguf/support/smollm2';
import { runCli, spawnCli, waitForOutput } from '../support/cli';
import { startLlamaServer, type LlamaServer } from '../support/llama-server';
import { tinyModel } from '../support/models';
import { ArenaClient, call } from '../ui/support/arena-stack';

jest.setTimeout(300_000);

const KEY = 'sk-test-7f3e9c1d2b';
const question = [{ role: 'user' as const, content: 'What is the capital of France?' }];

describeWithSmolLM2('hosted models from an api_endpoint_file through fleetchat up', (gguf) => {
  let engine: LlamaServer;
  let up: ChildProcess;
  let url: string;
  let dir: string;
  let output = '';

  beforeAll(async () => {
    engine = await startLlamaServer({ gguf, alias: 'smollm2', apiKey: KEY });
    dir = mkdtempSync(join(tmpdir(), 'fleetchat-hosted-'));
    const file = join(dir, 'api_endpoints.json');
    writeFileSync(file, JSON.stringify({
      'llama-hosted': { model_name: 'smollm2', api_base: `${engine.url}/v1`, api_type: 'openai', api_key: '$FLEETCHAT_TEST_HOSTED_KEY', anony_only: false, recommended_config: { temperature: 0.0, top_p: 1.0 } },
    }));
    up = spawnCli(['up', '--port', '0', '--cache-dir', dir, '--model', await tinyModel(), '--upstream', engine.url, '--upstream-api', 'llamacpp', '--api-key-env', 'FLEETCHAT_TEST_HOSTED_KEY',
      '--upstream-names', 'llama-local', '--api-endpoint-file', file, '--log-level', 'debug'], { FLEETCHAT_TEST_HOSTED_KEY: KEY, FLEETCHAT_LOG_LEVEL: 'debug' });
    const keep = (b: Buffer): void => {
      output += b.toString();
    };
    up.stdout?.on('data', keep);
    up.stderr?.on('data', keep);
    url = (await waitForOutput(up, /fleetchat is up: (http:\/\/127\.0\.0\.1:\d+)/, 180_000))[1];
  });
  afterAll(async () => {
    if (up && up.exitCode === null) {
      const exited = new Promise((r) => up.once('exit', r));
      up.kill('SIGTERM');
      await exited;
    }
    await engine?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the ONNX model, the local engine and the hosted entry side by side', async () => {
    const models = await new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused' }).models.list();
    expect(models.data.map((m) => m.id).sort()).toEqual(expect.arrayContaining(['llama-hosted', 'llama-local']));
    expect(models.data).toHaveLength(3);
  });

  it('streams from the hosted model with the openai client (recommended_config applies: greedy)', async () => {
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'llama-hosted', messages: question, max_tokens: 32, stream: true });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    expect(text.length).toBeGreaterThan(0);
    // the same engine as the local entry (its wording depends on llama.cpp's build): greedy, so the same answer
    const local = await client.chat.completions.create({ model: 'llama-local', messages: question, max_tokens: 32, temperature: 0 });
    expect(local.choices[0].message.content).toBe(text);
  });

  it('pairs the ONNX model with the hosted one in an arena battle', async () => {
    const models = (await call<{ models: string[] }>(`${url}/arena/models`, 'GET')).body.models;
    const onnx = models.find((m) => m !== 'llama-hosted' && m !== 'llama-local') as string;
    const client = new ArenaClient(url);
    const battle = await client.call<{ id: string }>('/arena/battles', 'POST', { anony: false, model_a: onnx, model_b: 'llama-hosted' });
    expect(battle.status).toBe(201);
    expect((await client.call(`/arena/battles/${battle.body.id}/messages`, 'POST', { message: question[0].content })).status).toBe(201);
    const sides = await Promise.all(['a', 'b'].map((side) => client.stream(`/arena/battles/${battle.body.id}/sides/${side}/chat/completions`, { max_tokens: 24 })));
    expect(sides.map((s) => s.status)).toEqual([200, 200]);
    const local = await new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 }).chat.completions.create({ model: 'llama-local', messages: question, max_tokens: 24, temperature: 0 });
    expect(sides[1].text).toBe(local.choices[0].message.content); // recommended_config: greedy
  });

  it('answers MT-bench questions and judges them with the hosted model (gen-model-answer, gen-judgment)', async () => {
    const bench = join(dir, 'mt_bench');
    const answer = await runCli(['jobs', 'gen-model-answer', '--model', 'llama-hosted', '--base-url', `${url}/v1`, '--bench-dir', bench, '--question-end', '1', '--max-tokens', '16'], { timeoutMs: 240_000 });
    expect(answer.code).toBe(0);
    const answers = readFileSync(join(bench, 'model_answer', 'llama-hosted.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { model_id: string; choices: Array<{ turns: string[] }> });
    expect(answers).toHaveLength(1);
    expect(answers[0].model_id).toBe('llama-hosted');
    expect(answers[0].choices[0].turns).toHaveLength(2);
    const judge = await runCli(['jobs', 'gen-judgment', '--mode', 'single', '--bench-dir', bench, '--model-list', 'llama-hosted', '--judge-model', 'llama-hosted', '--judge-base-url', `${url}/v1`, '--first-n', '1', '--judge-max-tokens', '16'], { timeoutMs: 240_000 });
    expect(judge.code).toBe(0);
    expect(readFileSync(join(bench, 'model_judgment', 'llama-hosted_single.jsonl'), 'utf8').trim().split('\n').length).toBeGreaterThan(0);
  });

  it('never logs the API key', () => {
    expect(output).toContain('external engine adapter ready');
    expect(output).not.toContain(KEY);
  });
});
