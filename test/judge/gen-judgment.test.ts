import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/common/config';
import { FleetError } from '../../src/common/errors';
import { silentLogger } from '../../src/common/log';
import { genJudgments, type GenJudgmentOptions } from '../../src/jobs/judge/gen-judgment';
import { createJudgeCore, JUDGE_ENDPOINT_OPTIONS } from '../../src/jobs/judge/judge-options';
import { GEN_JUDGMENT_OPTIONS, runGenJudgment } from '../../src/jobs/judge/judgment-main';
import { JUDGE_SERVE_OPTIONS, startJudge } from '../../src/jobs/judge/serve-main';
import { judgeTexts, readLines, scratchBench } from './bench-dir';
import { startFakeOpenAI, type FakeServer, type FakeServerOptions } from './fake-openai-server';

const SINGLE_KEYS = ['question_id', 'model', 'judge', 'user_prompt', 'judgment', 'score', 'turn', 'tstamp'];
const PAIR_KEYS = ['question_id', 'model_1', 'model_2', 'g1_winner', 'g2_winner', 'judge', 'g1_user_prompt', 'g1_judgment', 'g2_user_prompt', 'g2_judgment', 'turn', 'tstamp'];

let bench: ReturnType<typeof scratchBench>;
let fake: FakeServer;
beforeEach(() => (bench = scratchBench()));
afterEach(async () => {
  bench.remove();
  await fake?.close();
});

async function fakeJudge(options: FakeServerOptions = {}): Promise<FakeServer> {
  fake = await startFakeOpenAI({ judgeTexts: judgeTexts(), ...options });
  return fake;
}

function cliArgs(mode: string, extra: string[] = []): string[] {
  return ['--mode', mode, '--bench-dir', bench.dir, '--judge-model', 'judge-model', '--judge-base-url', fake.baseUrl, '--parallel', '3', '--log-level', 'silent', ...extra];
}

const outFile = (kind: 'single' | 'pair'): string => join(bench.dir, 'model_judgment', `judge-model_${kind}.jsonl`);
const keyOf = (r: Record<string, unknown>): string => JSON.stringify([r.question_id, r.model ?? [r.model_1, r.model_2], r.turn, r.judge]);

describe('gen-judgment writes FastChat judgment files', () => {
  test('single: every model × question × turn once, reference-guided prompts for math and coding', async () => {
    await fakeJudge();
    const summary = await runGenJudgment(parseConfig(GEN_JUDGMENT_OPTIONS, cliArgs('single')), silentLogger());
    expect(summary).toMatchObject({ matches: 21, judged: 21, alreadyJudged: 0, failed: 0 });
    const records = readLines(outFile('single'));
    expect(records).toHaveLength(21);
    for (const r of records) expect(Object.keys(r)).toEqual(SINGLE_KEYS);
    const prompt = (q: number, turn: number): Set<unknown> => new Set(records.filter((r) => r.question_id === q && r.turn === turn).map((r) => (r.judge as string[])[1]));
    expect(prompt(1, 1)).toEqual(new Set(['single-v1']));
    expect(prompt(4, 1)).toEqual(new Set(['single-v1']));
    expect(prompt(2, 1)).toEqual(new Set(['single-math-v1']));
    expect(prompt(3, 2)).toEqual(new Set(['single-math-v1-multi-turn']));
    expect(prompt(1, 2)).toEqual(new Set(['single-v1-multi-turn']));
    expect(prompt(4, 2)).toEqual(new Set()); // one-turn question: no turn 2
    const mathT2 = records.find((r) => r.question_id === 2 && r.turn === 2 && r.model === 'beta')!;
    expect(mathT2.user_prompt).toContain('REF-2-2: 169');
    expect(records.find((r) => r.question_id === 1 && r.turn === 1)!.user_prompt).not.toContain('REF-');
    const score = (m: string, q: number, t: number): unknown => records.find((r) => r.model === m && r.question_id === q && r.turn === t)!.score;
    expect([score('alpha', 2, 2), score('beta', 1, 1), score('beta', 4, 1), score('gpt-3.5-turbo', 1, 1)]).toEqual([-1, 7, 6.5, 9]);
    expect(new Set(fake.requests.map((r) => r.temperature))).toEqual(new Set([0]));
  });

  test('the lines are in Python json.dumps layout with a float timestamp', async () => {
    await fakeJudge();
    await runGenJudgment(parseConfig(GEN_JUDGMENT_OPTIONS, cliArgs('single', ['--model-list', 'alpha', '--first-n', '1'])), silentLogger());
    const line = readFileSync(outFile('single'), 'utf8').split('\n')[0];
    expect(line).toMatch(/^\{"question_id": 1, "model": "alpha", "judge": \["judge-model", "single-v1"\], "user_prompt": "\[Instruction\]\\nPlease act/);
    expect(line).toMatch(/"score": 8, "turn": 1, "tstamp": \d+\.\d+\}$/);
  });

  test('pairwise-baseline: both positions recorded, inconsistent and unparseable games as FastChat writes them', async () => {
    await fakeJudge();
    const summary = await runGenJudgment(parseConfig(GEN_JUDGMENT_OPTIONS, cliArgs('pairwise-baseline')), silentLogger());
    expect(summary).toMatchObject({ matches: 14, judged: 14 });
    expect(fake.requests).toHaveLength(28);
    const records = readLines(outFile('pair'));
    for (const r of records) expect(Object.keys(r)).toEqual(PAIR_KEYS);
    expect(new Set(records.map((r) => r.model_2))).toEqual(new Set(['gpt-3.5-turbo']));
    const game = (m: string, q: number, t: number): Record<string, unknown> => records.find((r) => r.model_1 === m && r.question_id === q && r.turn === t)!;
    expect(game('alpha', 1, 1)).toMatchObject({ g1_winner: 'model_1', g2_winner: 'model_1', judge: ['judge-model', 'pair-v2'] });
    expect(game('alpha', 4, 1)).toMatchObject({ g1_winner: 'model_1', g2_winner: 'model_2' });
    expect(game('alpha', 1, 2)).toMatchObject({ g1_winner: 'error', g2_winner: 'model_1', judge: ['judge-model', 'pair-v2-multi-turn'] });
    expect(game('beta', 1, 2)).toMatchObject({ g1_winner: 'model_1', g2_winner: 'error' });
    expect(game('beta', 2, 1)).toMatchObject({ g1_winner: 'tie', g2_winner: 'model_2', judge: ['judge-model', 'pair-math-v1'] });
    expect(game('alpha', 3, 2).g2_user_prompt).toContain('REF-3-2');
  });

  test('remote judge (gRPC) and in-process judge give the same records', async () => {
    await fakeJudge();
    const serveConfig = parseConfig(JUDGE_SERVE_OPTIONS, ['--address', '127.0.0.1:0', '--metrics-address', '127.0.0.1:0', '--judge-base-url', fake.baseUrl, '--judge-model', 'judge-model']);
    const server = await startJudge(serveConfig, silentLogger());
    try {
      await runGenJudgment(parseConfig(GEN_JUDGMENT_OPTIONS, cliArgs('pairwise-all', ['--judge-address', server.grpc.address, '--output-file', join(bench.dir, 'remote.jsonl')])), silentLogger());
      await runGenJudgment(parseConfig(GEN_JUDGMENT_OPTIONS, cliArgs('pairwise-all', ['--output-file', join(bench.dir, 'local.jsonl')])), silentLogger());
    } finally {
      await server.close();
    }
    const strip = (rs: Array<Record<string, unknown>>): unknown[] => rs.map(({ tstamp: _t, ...rest }) => rest).sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    const remote = readLines(join(bench.dir, 'remote.jsonl'));
    expect(remote).toHaveLength(21);
    expect(strip(remote)).toEqual(strip(readLines(join(bench.dir, 'local.jsonl'))));
  });

  test('missing answers or references are reported before any judging', async () => {
    await fakeJudge();
    const run = (extra: string[]): Promise<unknown> => runGenJudgment(parseConfig(GEN_JUDGMENT_OPTIONS, cliArgs('single', extra)), silentLogger()).catch((e: unknown) => e);
    expect(await run(['--model-list', 'alpha,ghost'])).toMatchObject({ kind: 'invalid_request', message: expect.stringContaining("no answers for model 'ghost'") });
    expect(await run(['--mode', 'pairwise-all', '--model-list', 'alpha'])).toMatchObject({ kind: 'invalid_request', message: expect.stringContaining('pairwise-all needs at least 2 model(s)') });
    writeFileSync(join(bench.dir, 'refs.jsonl'), '');
    expect(await run(['--ref-answer-file', join(bench.dir, 'refs.jsonl')])).toMatchObject({ message: expect.stringContaining('no reference answer to question 2') });
    expect(fake.requests).toHaveLength(0);
  });

  test('judge calls that keep failing are not written, counted, and redone by the next run', async () => {
    await fakeJudge({ failures: [{ status: 400 }, { status: 400 }] });
    const config = parseConfig(GEN_JUDGMENT_OPTIONS, cliArgs('single', ['--parallel', '1']));
    const err = await runGenJudgment(config, silentLogger()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetError);
    expect(err).toMatchObject({ kind: 'unavailable', message: expect.stringContaining('2 judgment(s) failed') });
    expect(readLines(outFile('single'))).toHaveLength(19);
    const again = await runGenJudgment(config, silentLogger());
    expect(again).toMatchObject({ alreadyJudged: 19, judged: 2 });
    expect(new Set(readLines(outFile('single')).map(keyOf)).size).toBe(21);
  });
});

describe('gen-judgment resumes after an interruption without duplicates or losses', () => {
  function options(mode: GenJudgmentOptions['mode'], signal?: AbortSignal, onWritten?: (n: number) => void): GenJudgmentOptions {
    const endpoint = parseConfig(JUDGE_ENDPOINT_OPTIONS, ['--judge-base-url', fake.baseUrl, '--judge-model', 'judge-model']);
    return {
      mode, judgeModel: 'judge-model', baselineModel: 'gpt-3.5-turbo', questionFile: join(bench.dir, 'question.jsonl'),
      answerDir: join(bench.dir, 'model_answer'), referenceFile: join(bench.dir, 'reference_answer/gpt-4.jsonl'),
      outputFile: outFile(mode === 'single' ? 'single' : 'pair'), parallel: 4, judge: createJudgeCore(endpoint), logger: silentLogger(), signal, onWritten,
    };
  }

  async function resumeAfter(interrupted: Promise<unknown>): Promise<void> {
    await interrupted;
    const afterAbort = readLines(outFile('pair'));
    expect(afterAbort.length).toBeLessThan(21);
    expect(new Set(afterAbort.map(keyOf)).size).toBe(afterAbort.length);
    const second = await genJudgments(options('pairwise-all'));
    expect(second).toMatchObject({ alreadyJudged: afterAbort.length, judged: 21 - afterAbort.length, failed: 0 });
    const records = readLines(outFile('pair'));
    expect(records).toHaveLength(21);
    expect(new Set(records.map(keyOf)).size).toBe(21);
    expect(await genJudgments(options('pairwise-all'))).toMatchObject({ alreadyJudged: 21, judged: 0 });
  }

  test.each([1, 6, 17] as const)('pairwise-all aborted after %d written judgments, then rerun', async (n) => {
    const aborter = new AbortController();
    await fakeJudge({ delayMs: 3 });
    await resumeAfter(genJudgments(options('pairwise-all', aborter.signal, (written) => written === n && aborter.abort())));
  });

  test('aborted while judge calls are in flight: those are cancelled, not half-written', async () => {
    const aborter = new AbortController();
    await fakeJudge({ delayMs: 3, onAnswered: (count) => count === 11 && aborter.abort() });
    await resumeAfter(genJudgments(options('pairwise-all', aborter.signal)));
  });

  test('a line cut short by a kill is removed and that judgment redone', async () => {
    await fakeJudge();
    await genJudgments(options('single'));
    const full = readFileSync(outFile('single'), 'utf8').split('\n').filter((l) => l !== '');
    writeFileSync(outFile('single'), full.slice(0, -1).map((l) => `${l}\n`).join(''));
    appendFileSync(outFile('single'), full[full.length - 1].slice(0, 40));
    const before = fake.requests.length;
    const summary = await genJudgments(options('single'));
    expect(summary).toMatchObject({ alreadyJudged: 20, judged: 1 });
    expect(fake.requests.length - before).toBe(1);
    const records = readLines(outFile('single'));
    expect(records).toHaveLength(21);
    expect(new Set(records.map(keyOf)).size).toBe(21);
  });

  test('a corrupt line in the middle of the file is a clear error, not a silent skip', async () => {
    await fakeJudge();
    await genJudgments(options('single'));
    const lines = readFileSync(outFile('single'), 'utf8').split('\n');
    lines[3] = '{"broken": ';
    writeFileSync(outFile('single'), lines.join('\n'));
    await expect(genJudgments(options('single'))).rejects.toThrow(/judge-model_single\.jsonl:4: not valid JSON/);
  });
});
