import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/common/config';
import { FleetError } from '../../src/common/errors';
import { PairwiseRequest, SingleGradeRequest, Verdict } from '../../src/common/gen/judge';
import { silentLogger } from '../../src/common/log';
import { loadJudgePrompts } from '../../src/jobs/judge/prompts';
import { BUILTIN_JUDGE_PROMPTS } from '../../src/jobs/judge/data-paths';
import { connectJudge, type RemoteJudge } from '../../src/jobs/judge/remote-judge';
import { JUDGE_SERVE_OPTIONS, startJudge, type RunningJudge } from '../../src/jobs/judge/serve-main';
import { startFakeOpenAI, type FakeServer, type JudgeTexts } from './fake-openai-server';

const texts = JSON.parse(readFileSync(join(__dirname, '../fixtures/judge/judge-texts.json'), 'utf8')) as JudgeTexts;
const prompts = loadJudgePrompts(BUILTIN_JUDGE_PROMPTS);
const ans = (model: string, q: number, turns: number): string[] => Array.from({ length: turns }, (_, i) => `<<${model}:${q}:${i + 1}>> ${model} says ${i + 1}`);
const writing = { questionId: 1, category: 'writing', turns: ['Write a haiku about rain.', 'Now make it about snow.'], reference: [] };
const math = { questionId: 2, category: 'math', turns: ['What is 12 * 12?', 'And 13 * 13?'], reference: ['REF-2-1: 144', 'REF-2-2: 169'] };

async function startStack(fakeOptions: Parameters<typeof startFakeOpenAI>[0], extraArgs: string[] = []): Promise<{ fake: FakeServer; judge: RunningJudge; client: RemoteJudge }> {
  const fake = await startFakeOpenAI({ judgeTexts: texts, ...fakeOptions });
  const config = parseConfig(JUDGE_SERVE_OPTIONS, ['--address', '127.0.0.1:0', '--metrics-address', '127.0.0.1:0', '--judge-base-url', fake.baseUrl, '--judge-model', 'judge-model', ...extraArgs], { FLEETCHAT_JUDGE_API_KEY: 'secret-key' });
  const judge = await startJudge(config, silentLogger());
  return { fake, judge, client: connectJudge(judge.grpc.address, 10_000) };
}

describe('Judge gRPC service against an OpenAI-compatible judge', () => {
  let fake: FakeServer;
  let judge: RunningJudge;
  let client: RemoteJudge;

  beforeAll(async () => ({ fake, judge, client } = await startStack({})));
  afterAll(async () => {
    client.close();
    await judge.close();
    await fake.close();
  });

  test('single grading, turn 1 of a general question: single-v1, FastChat messages, temperature 0, 2048 tokens', async () => {
    const before = fake.requests.length;
    const res = await client.gradeSingle(SingleGradeRequest.fromPartial({ question: writing, answer: ans('alpha', 1, 2), turn: 1 }));
    expect(res).toMatchObject({ score: 8, promptName: 'single-v1', judgeModel: 'judge-model', judgment: texts.single['alpha|1|1'] });
    const template = prompts.get('single-v1')!.promptTemplate;
    expect(res.userPrompt).toBe(template.replace('{question}', writing.turns[0]).replace('{answer}', ans('alpha', 1, 2)[0]));
    const sent = fake.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ model: 'judge-model', temperature: 0, max_tokens: 2048, n: 1, authorization: 'Bearer secret-key' });
    expect(sent[0].messages).toEqual([{ role: 'system', content: 'You are a helpful assistant.' }, { role: 'user', content: res.userPrompt }]);
  });

  test('turn 2 of a math question: the reference-guided multi-turn prompt with both reference answers', async () => {
    const res = await client.gradeSingle(SingleGradeRequest.fromPartial({ question: math, answer: ans('alpha', 2, 2), turn: 2 }));
    expect(res.promptName).toBe('single-math-v1-multi-turn');
    expect(res.score).toBe(-1); // the fixture's judge gives no rating here
    for (const text of [...math.turns, ...math.reference, ...ans('alpha', 2, 2)]) expect(res.userPrompt).toContain(text);
    const last = fake.requests[fake.requests.length - 1];
    expect(last.messages[0]).toEqual({ role: 'system', content: prompts.get('single-math-v1-multi-turn')!.systemPrompt });
  });

  test('turn 1 of a math question shows only the first reference answer', async () => {
    const res = await client.gradeSingle(SingleGradeRequest.fromPartial({ question: math, answer: ans('alpha', 2, 2), turn: 1 }));
    expect(res).toMatchObject({ promptName: 'single-math-v1', score: 10 });
    expect(res.userPrompt).toContain('REF-2-1: 144');
    expect(res.userPrompt).not.toContain('REF-2-2');
  });

  test('pairwise with swapped positions: both games, verdicts in the original order, combined', async () => {
    const consistent = await client.comparePair(PairwiseRequest.fromPartial({ question: writing, answerA: ans('alpha', 1, 2), answerB: ans('gpt-3.5-turbo', 1, 2), turn: 1, swapPositions: true }));
    expect(consistent).toMatchObject({ verdict: Verdict.VERDICT_A, g1Verdict: Verdict.VERDICT_A, g2Verdict: Verdict.VERDICT_A, promptName: 'pair-v2' });
    expect(consistent.g2Judgment).toBe(texts.pair['1|1|gpt-3.5-turbo|alpha']);
    expect(consistent.g2UserPrompt.indexOf('<<gpt-3.5-turbo:1:1>>')).toBeLessThan(consistent.g2UserPrompt.indexOf('<<alpha:1:1>>'));
    expect(consistent.g1UserPrompt.indexOf('<<alpha:1:1>>')).toBeLessThan(consistent.g1UserPrompt.indexOf('<<gpt-3.5-turbo:1:1>>'));
    const stem = { questionId: 4, category: 'stem', turns: ['Why is the sky blue?'], reference: [] };
    const inconsistent = await client.comparePair(PairwiseRequest.fromPartial({ question: stem, answerA: ans('alpha', 4, 1), answerB: ans('gpt-3.5-turbo', 4, 1), turn: 1, swapPositions: true }));
    expect(inconsistent).toMatchObject({ verdict: Verdict.VERDICT_TIE, g1Verdict: Verdict.VERDICT_A, g2Verdict: Verdict.VERDICT_B });
    const unparseable = await client.comparePair(PairwiseRequest.fromPartial({ question: writing, answerA: ans('alpha', 1, 2), answerB: ans('gpt-3.5-turbo', 1, 2), turn: 2, swapPositions: true }));
    expect(unparseable).toMatchObject({ verdict: Verdict.VERDICT_ERROR, g1Verdict: Verdict.VERDICT_ERROR, g2Verdict: Verdict.VERDICT_A, promptName: 'pair-v2-multi-turn' });
  });

  test('pairwise math uses the reference; without swap only one game is played', async () => {
    const before = fake.requests.length;
    const res = await client.comparePair(PairwiseRequest.fromPartial({ question: math, answerA: ans('alpha', 2, 2), answerB: ans('gpt-3.5-turbo', 2, 2), turn: 1 }));
    expect(fake.requests.length - before).toBe(1);
    expect(res).toMatchObject({ verdict: Verdict.VERDICT_TIE, g2Verdict: Verdict.VERDICT_UNSPECIFIED, g2Judgment: '', promptName: 'pair-math-v1' });
    expect(res.g1UserPrompt).toContain('REF-2-1: 144');
  });

  test('bad requests are INVALID_ARGUMENT errors naming the field', async () => {
    const cases: Array<[Promise<unknown>, RegExp]> = [
      [client.gradeSingle(SingleGradeRequest.fromPartial({ question: writing, answer: ans('alpha', 1, 2), turn: 1, promptName: 'nope' })), /unknown judge prompt 'nope'/],
      [client.gradeSingle(SingleGradeRequest.fromPartial({ question: { ...math, reference: [] }, answer: ans('alpha', 2, 2), turn: 1 })), /needs 1 reference answer/],
      [client.gradeSingle(SingleGradeRequest.fromPartial({ question: { ...writing, turns: ['one'] }, answer: ans('alpha', 1, 1), turn: 2 })), /turn 2 needs a question with two turns/],
      [client.gradeSingle(SingleGradeRequest.fromPartial({ question: writing, answer: ans('alpha', 1, 1), turn: 2 })), /answer needs an answer for each of 2 turn/],
      [client.comparePair(PairwiseRequest.fromPartial({ question: writing, answerA: ans('a', 1, 2), answerB: ans('b', 1, 2), turn: 1, promptName: 'single-v1' })), /is a single prompt, not pairwise/],
      [client.gradeSingle(SingleGradeRequest.fromPartial({ question: writing, answer: ans('a', 1, 2), turn: 2, promptName: 'single-v1' })), /shows one turn; it cannot grade turn 2/],
    ];
    for (const [call, message] of cases) {
      const err = await call.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(FleetError);
      expect(err).toMatchObject({ kind: 'invalid_request', message: expect.stringMatching(message) });
    }
  });

  test('metrics count calls by outcome', async () => {
    const body = await (await fetch(`${judge.ops.url}/metrics`)).text();
    expect(body).toMatch(/fleetchat_judge_requests_total\{method="GradeSingle",outcome="ok"\} [1-9]/);
    expect(body).toMatch(/fleetchat_judge_requests_total\{method="GradeSingle",outcome="invalid_request"\} [1-9]/);
  });
});

describe('Judge service and a failing judge endpoint', () => {
  test('429 and 503 answers are retried (Retry-After honoured) until the judgment arrives', async () => {
    const { fake, judge, client } = await startStack({ failures: [{ status: 429, headers: { 'retry-after-ms': '30' } }, { status: 503, headers: { 'retry-after-ms': '10' } }] });
    try {
      const res = await client.gradeSingle(SingleGradeRequest.fromPartial({ question: writing, answer: ans('beta', 1, 2), turn: 1 }));
      expect(res.score).toBe(7);
      expect(fake.requests).toHaveLength(3);
    } finally {
      client.close();
      await judge.close();
      await fake.close();
    }
  });

  test('an unreachable endpoint is UNAVAILABLE after the retries, not a crash', async () => {
    const { fake, judge, client } = await startStack({}, ['--judge-max-retries', '1']);
    await fake.close();
    try {
      const err = await client.gradeSingle(SingleGradeRequest.fromPartial({ question: writing, answer: ans('beta', 1, 2), turn: 1 })).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'unavailable', message: expect.stringContaining('cannot reach') });
    } finally {
      client.close();
      await judge.close();
    }
  });
});
