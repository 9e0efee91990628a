import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/common/config';
import { silentLogger } from '../../src/common/log';
import { GEN_MODEL_ANSWER_OPTIONS, runGenModelAnswer } from '../../src/jobs/judge/answer-main';
import { readLines, scratchBench } from './bench-dir';
import { startFakeOpenAI, type FakeServer, type FakeServerOptions } from './fake-openai-server';

let bench: ReturnType<typeof scratchBench>;
let fake: FakeServer | undefined;
beforeEach(() => {
  bench = scratchBench();
  rmSync(join(bench.dir, 'model_answer'), { recursive: true });
});
afterEach(async () => {
  bench.remove();
  await fake?.close();
  fake = undefined;
});

async function run(extra: string[], fakeOptions: FakeServerOptions = {}): Promise<Awaited<ReturnType<typeof runGenModelAnswer>>> {
  fake ??= await startFakeOpenAI(fakeOptions);
  const config = parseConfig(GEN_MODEL_ANSWER_OPTIONS, ['--bench-dir', bench.dir, '--base-url', fake.baseUrl, '--max-retries', '2', '--log-level', 'silent', ...extra], { FLEETCHAT_API_KEY: 'answer-key' });
  return runGenModelAnswer(config, silentLogger());
}

const answers = (id: string): Array<Record<string, unknown>> => readLines(join(bench.dir, 'model_answer', `${id}.jsonl`));

describe('gen-model-answer', () => {
  test("multi-turn answers in FastChat's format with the per-category temperatures", async () => {
    const summary = await run(['--model', 'local-model,org/big-model=big', '--parallel', '3']);
    expect(summary).toMatchObject({ questions: 4, answered: 8, alreadyAnswered: 0, failed: 0 });
    for (const [id, name] of [['local-model', 'local-model'], ['big', 'org/big-model']]) {
      const records = answers(id);
      expect(records.map((r) => r.question_id)).toEqual([1, 2, 3, 4]);
      for (const r of records) {
        expect(Object.keys(r)).toEqual(['question_id', 'answer_id', 'model_id', 'choices', 'tstamp']);
        expect(r.answer_id).toMatch(/^[2-9A-HJ-NP-Za-km-z]{22}$/);
        expect(r.model_id).toBe(id);
      }
      const q1 = records[0].choices as Array<{ index: number; turns: string[] }>;
      expect(q1).toEqual([{ index: 0, turns: [
        `answer(${name}, t=0.7, messages=1): Write a haiku about rain.`,
        `answer(${name}, t=0.7, messages=3): Now make it about snow.`,
      ] }]);
      expect((records[1].choices as Array<{ turns: string[] }>)[0].turns[0]).toBe(`answer(${name}, t=0, messages=1): What is 12 * 12?`);
      expect((records[3].choices as Array<{ turns: string[] }>)[0].turns).toEqual([`answer(${name}, t=0.1, messages=1): Why is the sky blue?`]);
    }
    const secondTurn = fake!.requests.find((r) => r.model === 'local-model' && r.messages.length === 3 && r.messages[0].content === 'Write a haiku about rain.')!;
    expect(secondTurn.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(secondTurn.messages[1].content).toBe('answer(local-model, t=0.7, messages=1): Write a haiku about rain.');
    expect(secondTurn).toMatchObject({ max_tokens: 1024, authorization: 'Bearer answer-key' });
    expect(readFileSync(join(bench.dir, 'model_answer', 'big.jsonl'), 'utf8')).toMatch(/^\{"question_id": 1, "answer_id": "[^"]+", "model_id": "big", "choices": \[\{"index": 0, "turns": \["answer\(org\/big-model, t=0\.7/);
  });

  test("OpenAI's models get FastChat's chatgpt system message; --system-message overrides", async () => {
    await run(['--model', 'gpt-4', '--question-end', '1']);
    expect(fake!.requests[0].messages[0]).toEqual({ role: 'system', content: 'You are a helpful assistant.' });
    await run(['--model', 'other', '--question-end', '1', '--system-message', 'Be brief.']);
    expect(fake!.requests[2].messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
  });

  test('--num-choices, --force-temperature, --question-begin/--question-end, --max-tokens', async () => {
    const summary = await run(['--model', 'm', '--num-choices', '2', '--force-temperature', '0.3', '--question-begin', '1', '--question-end', '-1', '--max-tokens', '64']);
    expect(summary.questions).toBe(2);
    const records = answers('m');
    expect(records.map((r) => r.question_id)).toEqual([2, 3]);
    expect((records[0].choices as Array<{ index: number }>).map((c) => c.index)).toEqual([0, 1]);
    expect(new Set(fake!.requests.map((r) => r.temperature))).toEqual(new Set([0.3]));
    expect(new Set(fake!.requests.map((r) => r.max_tokens))).toEqual(new Set([64]));
  });

  test('resumes: answered questions are skipped and kept byte for byte, the file is re-sorted', async () => {
    const existing = '{"question_id": 3, "answer_id": "keep", "model_id": "m", "choices": [{"index": 0, "turns": ["old", "old2"]}], "tstamp": 1.0}';
    mkdirSync(join(bench.dir, 'model_answer'));
    writeFileSync(join(bench.dir, 'model_answer', 'm.jsonl'), `${existing}\n{"question_id": 1, "answer_id": "cut`);
    const summary = await run(['--model', 'm']);
    expect(summary).toMatchObject({ alreadyAnswered: 1, answered: 3 });
    const lines = readFileSync(join(bench.dir, 'model_answer', 'm.jsonl'), 'utf8').split('\n');
    expect(lines[2]).toBe(existing);
    expect(answers('m').map((r) => r.question_id)).toEqual([1, 2, 3, 4]);
  });

  test('interrupted mid-run, then rerun: every question once', async () => {
    const aborter = new AbortController();
    fake = await startFakeOpenAI({ delayMs: 3, onAnswered: (n) => n === 4 && aborter.abort() });
    const { genModelAnswers } = await import('../../src/jobs/judge/gen-model-answer');
    const { createChatClient } = await import('../../src/jobs/openai-client/chat-client');
    const options = (signal?: AbortSignal): Parameters<typeof genModelAnswers>[0] => ({
      questionFile: join(bench.dir, 'question.jsonl'), models: [{ name: 'a', id: 'a' }, { name: 'b', id: 'b' }], answerDir: join(bench.dir, 'model_answer'),
      numChoices: 1, maxTokens: 16, systemMessage: 'auto', parallel: 3, logger: silentLogger(), signal,
      chat: createChatClient({ baseUrl: fake!.baseUrl, apiKey: '', timeoutMs: 10_000, maxRetries: 0, maxConcurrency: 3 }),
    });
    const first = await genModelAnswers(options(aborter.signal));
    expect(first.answered).toBeLessThan(8);
    const second = await genModelAnswers(options());
    expect(second.alreadyAnswered + second.answered).toBe(8);
    for (const id of ['a', 'b']) expect(answers(id).map((r) => r.question_id)).toEqual([1, 2, 3, 4]);
  });

  test('a request that keeps failing is not written; 429 is retried', async () => {
    const err = await run(['--model', 'm', '--max-retries', '1'], { failures: [{ status: 429, headers: { 'retry-after-ms': '5' } }, { status: 500 }] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'unavailable', message: expect.stringContaining('1 answer(s) failed') });
    expect(answers('m')).toHaveLength(3);
    expect(await run(['--model', 'm'])).toMatchObject({ alreadyAnswered: 3, answered: 1 });
  });

  test('bad options are clear errors', async () => {
    await expect(run(['--model', 'org/model'])).rejects.toThrow(/cannot contain '\/': give an id, e\.g\. 'org\/model=model'/);
    await expect(run([])).rejects.toThrow(/give at least one --model/);
    await expect(run(['--model', 'a,b', '--answer-file', join(bench.dir, 'x.jsonl')])).rejects.toThrow(/only be used with one model/);
    expect(fake!.requests).toHaveLength(0);
  });
});
