/**
 * The whole MT-bench chain against a local fleetchat stack (controller, workers, gateway on 127.0.0.1):
 * three generated models answer two MT-bench questions (one writing, one math → reference-guided
 * prompts), one of them judges through the gateway (in-process judge and a remote `judge serve` over
 * gRPC), then show-result. The generated models have random weights, so their judgments are gibberish:
 * FastChat records those as score −1 / winner 'error' and show_result.py drops them before averaging.
 * Everything expected here is worked out from the files and FastChat's rules, never from our own code.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/common/config';
import { createLogger, silentLogger } from '../../src/common/log';
import { GEN_MODEL_ANSWER_OPTIONS, runGenModelAnswer } from '../../src/jobs/judge/answer-main';
import { GEN_JUDGMENT_OPTIONS, runGenJudgment } from '../../src/jobs/judge/judgment-main';
import { JUDGE_SERVE_OPTIONS, startJudge, type RunningJudge } from '../../src/jobs/judge/serve-main';
import { runCli } from '../support/cli';
import { generatedModel } from '../support/models';
import { startStack, type Stack } from '../support/stack';
import { readLines } from './bench-dir';

jest.setTimeout(60_000);

const DATA = join(__dirname, '../../src/jobs/judge/data');
const MODELS = ['gen-a', 'gen-b', 'gen-c'];
const JUDGE = 'gen-c';
const WRITING = 81;
const MATH = 111;
const MAX_TOKENS = 16;
const JUDGE_MAX_TOKENS = 24;

type Rec = Record<string, unknown>;

const jsonl = (path: string): Rec[] => readLines(path);
const bundled = (file: string): Rec[] => jsonl(join(DATA, file));
const QUESTIONS = bundled('mt_bench/question.jsonl').filter((q) => q.question_id === WRITING || q.question_id === MATH);
const REFERENCE = bundled('mt_bench/reference_answer/gpt-4.jsonl').find((r) => r.question_id === MATH) as Rec;
const PROMPTS = new Map(bundled('judge_prompts.jsonl').map((p) => [p.name as string, p]));
const turnsOf = (answer: Rec): string[] => (answer.choices as Array<{ turns: string[] }>)[0].turns;

/**
 * FastChat's rules, restated from its llm_judge sources (common.py, show_result.py) so the test does not
 * lean on the code it checks.
 */
const fastchat = {
  needsRef: (category: string): boolean => ['math', 'reasoning', 'coding', 'arena-hard-200'].includes(category),
  singlePromptName: (category: string, turn: number): string => `single-${fastchat.needsRef(category) ? 'math-v1' : 'v1'}${turn === 2 ? '-multi-turn' : ''}`,
  pairPromptName: (category: string, turn: number): string => `pair-${fastchat.needsRef(category) ? 'math-v1' : 'v2'}${turn === 2 ? '-multi-turn' : ''}`,
  /** `[[x]]`, else `[x]`, else −1. */
  rating(judgment: string): number {
    const m = /\[\[(\d+\.?\d*)\]\]/.exec(judgment) ?? /\[(\d+\.?\d*)\]/.exec(judgment);
    return m ? Number(m[1]) : -1;
  },
  /** `[[A]]`, `[[B]]`, `[[C]]` in that order; the second game showed model_2 first. */
  pairWinner(judgment: string, swapped: boolean): string {
    const [a, b] = swapped ? ['model_2', 'model_1'] : ['model_1', 'model_2'];
    if (judgment.includes('[[A]]')) return a;
    if (judgment.includes('[[B]]')) return b;
    return judgment.includes('[[C]]') ? 'tie' : 'error';
  },
  /** show_result.py single: rows with score −1 dropped, then means per model (turn 1, turn 2, all). */
  singleTable(records: Rec[]): Array<{ model: string; turn1: number | null; turn2: number | null; average: number | null }> {
    const valid = records.filter((r) => r.score !== -1);
    const mean = (xs: Rec[]): number | null => (xs.length === 0 ? null : xs.reduce((s, r) => s + (r.score as number), 0) / xs.length);
    return [...new Set(valid.map((r) => r.model as string))].map((model) => {
      const own = valid.filter((r) => r.model === model);
      return { model, turn1: mean(own.filter((r) => r.turn === 1)), turn2: mean(own.filter((r) => r.turn === 2)), average: mean(own) };
    });
  },
  /** show_result.py pairwise: games with an error in either position dropped; tie if g1 says tie or the games disagree. */
  pairTable(records: Rec[]): Rec[] {
    const counts = new Map<string, { win: number; loss: number; tie: number }>();
    const add = (model: unknown, field: 'win' | 'loss' | 'tie'): void => {
      const c = counts.get(model as string) ?? { win: 0, loss: 0, tie: 0 };
      c[field] += 1;
      counts.set(model as string, c);
    };
    for (const r of records.filter((x) => x.g1_winner !== 'error' && x.g2_winner !== 'error')) {
      if (r.g1_winner === 'tie' || r.g1_winner !== r.g2_winner) {
        add(r.model_1, 'tie');
        add(r.model_2, 'tie');
      } else {
        add(r.g1_winner === 'model_1' ? r.model_1 : r.model_2, 'win');
        add(r.g1_winner === 'model_1' ? r.model_2 : r.model_1, 'loss');
      }
    }
    return [...counts].map(([model, c]) => {
      const n = c.win + c.loss + c.tie;
      return { model, ...c, win_rate: c.win / n, loss_rate: c.loss / n, win_rate_adjusted: (c.win + c.tie / 2) / n };
    });
  },
};

let stack: Stack;
let root: string;
let benchDir: string;
let baseUrl: string;
let remote: RunningJudge;
/** Warnings and errors of the jobs and the judge service, shown when a step fails. */
const problems: string[] = [];
const problemLogger = createLogger({ level: 'warn', stream: { write: (line: string) => void problems.push(line) } });

beforeAll(async () => {
  const dirs = [
    await generatedModel('arena-a', { preset: 'tiny', seed: 11 }),
    await generatedModel('arena-b', { preset: 'tiny', seed: 22 }),
    await generatedModel('tiny', { preset: 'tiny' }),
  ];
  // A worker starved of CPU for a second (2 busy cores, everything in this process) must not be expired
  // mid-run: the gateway would answer 404 for its model and those judgments would fail.
  stack = await startStack({ workers: MODELS.map((name, i) => ({ model: dirs[i], names: [name] })), controllerArgs: ['--heartbeat-expiry', '30s'] });
  baseUrl = `${stack.url}/v1`;
  root = mkdtempSync(join(tmpdir(), 'fleetchat-chain-'));
  benchDir = join(root, 'mt_chain');
  mkdirSync(benchDir);
  writeFileSync(join(benchDir, 'question.jsonl'), QUESTIONS.map((q) => `${JSON.stringify(q)}\n`).join(''));
  remote = await startJudge(
    parseConfig(JUDGE_SERVE_OPTIONS, ['--address', '127.0.0.1:0', '--metrics-address', '127.0.0.1:0', '--judge-base-url', baseUrl, '--judge-model', JUDGE, '--judge-max-tokens', String(JUDGE_MAX_TOKENS)]),
    problemLogger,
  );
});

afterAll(async () => {
  await remote?.close();
  await stack?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** What the served model says at temperature 0 (greedy, so reproducible). */
async function ask(model: string, messages: Array<{ role: string; content: string }>, maxTokens: number): Promise<string> {
  const res = await fetch(`${baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages, temperature: 0, max_tokens: maxTokens }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
  return body.choices[0].message.content;
}

const answerFile = (model: string): string => join(benchDir, 'model_answer', `${model}.jsonl`);
const judgmentFile = (kind: 'single' | 'pair', prefix = JUDGE): string => join(benchDir, 'model_judgment', `${prefix}_${kind}.jsonl`);
const judgmentArgs = (mode: string, extra: string[] = []): string[] => [
  '--mode', mode, '--bench-dir', benchDir, '--judge-model', JUDGE, '--judge-base-url', baseUrl,
  '--judge-max-tokens', String(JUDGE_MAX_TOKENS), '--parallel', '4', '--log-level', 'silent', ...extra,
];
const judge = (mode: string, extra: string[] = []): ReturnType<typeof runGenJudgment> =>
  runGenJudgment(parseConfig(GEN_JUDGMENT_OPTIONS, judgmentArgs(mode, extra)), problemLogger).catch((err: Error) => {
    throw new Error(`${err.message}\n${problems.join('')}`);
  });
/** Same models with the same numbers (order aside: ties in the sort are FastChat's pandas order). */
function expectRows(actual: Rec[], expected: Rec[]): void {
  const byModel = (rows: Rec[]): Rec[] => [...rows].sort((a, b) => String(a.model).localeCompare(String(b.model)));
  const [got, want] = [byModel(actual), byModel(expected)];
  expect(got.map((r) => r.model)).toEqual(want.map((r) => r.model));
  got.forEach((row, i) => {
    expect(Object.keys(row).sort()).toEqual(Object.keys(want[i]).sort());
    for (const [key, value] of Object.entries(want[i])) {
      if (typeof value === 'number') expect(row[key]).toBeCloseTo(value, 12);
      else expect(row[key]).toBe(value);
    }
  });
}

const withoutTstamp = (records: Rec[]): Rec[] => records.map(({ tstamp: _t, ...rest }) => rest).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

/** The judge's messages: the prompt's system message, then the user prompt written in the record. */
const judgeMessages = (promptName: string, userPrompt: string): Array<{ role: string; content: string }> => [
  { role: 'system', content: PROMPTS.get(promptName)?.system_prompt as string },
  { role: 'user', content: userPrompt },
];

describe('MT-bench chain against a local stack of generated models', () => {
  test('gen-model-answer (the CLI) writes one FastChat answer record per question for each model', async () => {
    const args = ['jobs', 'gen-model-answer', '--model', MODELS.join(','), '--base-url', baseUrl, '--bench-dir', benchDir, '--max-tokens', String(MAX_TOKENS), '--parallel', '3'];
    const run = await runCli(args, { timeoutMs: 40_000 });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('answered 6, already answered 0');
    for (const model of MODELS) {
      const lines = readFileSync(answerFile(model), 'utf8').split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(2);
      for (const line of lines) {
        expect(line).toMatch(/^\{"question_id": \d+, "answer_id": "[A-Za-z0-9]{22}", "model_id": "gen-[abc]", "choices": \[\{"index": 0, "turns": \[".*"\]\}\], "tstamp": \d+\.\d+\}$/);
        expect(line).toMatch(/^[\x20-\x7e]*$/); // json.dumps escapes everything outside printable ASCII
      }
      const records = lines.map((l) => JSON.parse(l) as Rec);
      expect(records.map((r) => r.question_id)).toEqual([WRITING, MATH]);
      for (const r of records) {
        expect(r.model_id).toBe(model);
        expect(turnsOf(r)).toHaveLength(2);
      }
      // Math is answered at temperature 0 (FastChat's per-category temperatures): greedy, so the served
      // model gives the same text again, and turn 2 is asked with turn 1 and its answer in the conversation.
      const math = records[1];
      const question = QUESTIONS[1].turns as string[];
      const [a1, a2] = turnsOf(math);
      expect(await ask(model, [{ role: 'user', content: question[0] }], MAX_TOKENS)).toBe(a1);
      expect(await ask(model, [{ role: 'user', content: question[0] }, { role: 'assistant', content: a1 }, { role: 'user', content: question[1] }], MAX_TOKENS)).toBe(a2);
    }
  });

  test('single: every model × question × turn judged once, unparseable scores recorded as −1', async () => {
    expect(await judge('single')).toMatchObject({ matches: 12, judged: 12, failed: 0 });
    const records = jsonl(judgmentFile('single'));
    expect(records).toHaveLength(12);
    const keys = records.map((r) => JSON.stringify([r.question_id, r.model, r.turn]));
    expect(new Set(keys)).toEqual(new Set(MODELS.flatMap((m) => [WRITING, MATH].flatMap((q) => [1, 2].map((t) => JSON.stringify([q, m, t]))))));
    for (const r of records) {
      expect(Object.keys(r)).toEqual(['question_id', 'model', 'judge', 'user_prompt', 'judgment', 'score', 'turn', 'tstamp']);
      expect(r.judge).toEqual([JUDGE, fastchat.singlePromptName(r.question_id === MATH ? 'math' : 'writing', r.turn as number)]);
      expect(r.score).toBe(fastchat.rating(r.judgment as string));
      const answer = turnsOf(jsonl(answerFile(r.model as string)).find((a) => a.question_id === r.question_id) as Rec);
      for (const shown of r.turn === 1 ? [answer[0]] : answer) expect(r.user_prompt).toContain(shown);
      if (r.question_id === MATH) expect(r.user_prompt).toContain(turnsOf(REFERENCE)[(r.turn as number) - 1]);
    }
    expect(records.some((r) => r.score === -1)).toBe(true); // random weights: gibberish, no [[rating]]
    // The judgment text is what the judge model says to that prompt.
    for (const r of records.filter((x) => x.turn === 2 && x.question_id === MATH)) {
      const [, promptName] = r.judge as [string, string];
      expect(await ask(JUDGE, judgeMessages(promptName, r.user_prompt as string), JUDGE_MAX_TOKENS)).toBe(r.judgment);
    }
  });

  test('pairwise-all: each pair judged in both positions, unparseable games recorded as error', async () => {
    expect(await judge('pairwise-all')).toMatchObject({ matches: 12, judged: 12, failed: 0 });
    const records = jsonl(judgmentFile('pair'));
    expect(records).toHaveLength(12);
    const pairs = [['gen-a', 'gen-b'], ['gen-a', 'gen-c'], ['gen-b', 'gen-c']];
    const keys = records.map((r) => JSON.stringify([r.question_id, r.model_1, r.model_2, r.turn]));
    expect(new Set(keys)).toEqual(new Set(pairs.flatMap((p) => [WRITING, MATH].flatMap((q) => [1, 2].map((t) => JSON.stringify([q, ...p, t]))))));
    for (const r of records) {
      expect(Object.keys(r)).toEqual(['question_id', 'model_1', 'model_2', 'g1_winner', 'g2_winner', 'judge', 'g1_user_prompt', 'g1_judgment', 'g2_user_prompt', 'g2_judgment', 'turn', 'tstamp']);
      expect(r.judge).toEqual([JUDGE, fastchat.pairPromptName(r.question_id === MATH ? 'math' : 'writing', r.turn as number)]);
      expect(r.g1_winner).toBe(fastchat.pairWinner(r.g1_judgment as string, false));
      expect(r.g2_winner).toBe(fastchat.pairWinner(r.g2_judgment as string, true));
      const first = (m: string): string => turnsOf(jsonl(answerFile(m)).find((a) => a.question_id === r.question_id) as Rec)[0];
      const [g1, g2] = [r.g1_user_prompt as string, r.g2_user_prompt as string];
      const shownFirst = (m: unknown): string => (r.turn === 1 ? `[The Start of Assistant A's Answer]\n` : `### Assistant A:\n`) + first(m as string);
      expect(g1).toContain(shownFirst(r.model_1)); // game 1: model_1 is assistant A
      expect(g2).toContain(shownFirst(r.model_2)); // game 2: positions swapped
      if (r.question_id === MATH) for (const p of [g1, g2]) expect(p).toContain(turnsOf(REFERENCE)[0]);
    }
    expect(records.some((r) => r.g1_winner === 'error' || r.g2_winner === 'error')).toBe(true);
    const sample = records.find((r) => r.question_id === WRITING && r.turn === 1) as Rec;
    const [, promptName] = sample.judge as [string, string];
    expect(await ask(JUDGE, judgeMessages(promptName, sample.g2_user_prompt as string), JUDGE_MAX_TOKENS)).toBe(sample.g2_judgment);
  });

  test('a remote `judge serve` (gRPC) writes the same judgments as the in-process judge', async () => {
    for (const [mode, kind] of [['single', 'single'], ['pairwise-all', 'pair']] as const) {
      const out = judgmentFile(kind, 'remote');
      expect(await judge(mode, ['--judge-address', remote.grpc.address, '--output-file', out])).toMatchObject({ judged: 12, failed: 0 });
      expect(withoutTstamp(jsonl(out))).toEqual(withoutTstamp(jsonl(judgmentFile(kind))));
    }
  });

  test('show-result (the CLI) drops −1 scores and error games before counting, as show_result.py', async () => {
    const show = async (mode: string, extra: string[] = []): Promise<string> => {
      const run = await runCli(['jobs', 'show-result', '--mode', mode, '--bench-dir', benchDir, '--judge-model', JUDGE, ...extra], { timeoutMs: 30_000 });
      expect(run.code).toBe(0);
      return run.stdout;
    };
    const single = jsonl(judgmentFile('single'));
    const singleRows = fastchat.singleTable(single);
    const singleJson = JSON.parse(await show('single', ['--json'])) as { mode: string; models: Rec[] };
    expect(singleJson.mode).toBe('single');
    expectRows(singleJson.models, singleRows);
    const text = await show('single');
    expect(text).toContain(`Judgments: 12, excluded as unparseable (score -1): ${single.filter((r) => r.score === -1).length}\n`);
    for (const model of MODELS) {
      const valid = single.filter((r) => r.model === model && r.score !== -1);
      // A model whose every judgment is −1 has no row in any table (no average of nothing).
      if (valid.length === 0) expect(text).not.toMatch(new RegExp(`^${model}\\b`, 'm'));
      else expect(text).toMatch(new RegExp(`^${model}\\s`, 'm'));
    }
    const pairs = jsonl(judgmentFile('pair'));
    const pairRows = fastchat.pairTable(pairs);
    const errorGames = pairs.filter((r) => r.g1_winner === 'error' || r.g2_winner === 'error').length;
    expect(await show('pairwise-all')).toContain(`Pairs: 12, excluded as unparseable (g1_winner or g2_winner 'error'): ${errorGames}\n`);
    const pairJson = JSON.parse(await show('pairwise-all', ['--json'])) as { mode: string; models: Rec[] };
    expect(pairJson.mode).toBe('pairwise-all');
    expectRows(pairJson.models, pairRows);
  });

  test('a rerun of every step is a no-op: nothing answered or judged again, files unchanged', async () => {
    const files = [...MODELS.map(answerFile), judgmentFile('single'), judgmentFile('pair'), judgmentFile('single', 'remote'), judgmentFile('pair', 'remote')];
    const before = files.map((f) => readFileSync(f, 'utf8'));
    const answerArgs = ['--model', MODELS.join(','), '--base-url', baseUrl, '--bench-dir', benchDir, '--max-tokens', String(MAX_TOKENS), '--log-level', 'silent'];
    expect(await runGenModelAnswer(parseConfig(GEN_MODEL_ANSWER_OPTIONS, answerArgs), silentLogger())).toMatchObject({ answered: 0, alreadyAnswered: 6 });
    expect(await judge('single')).toMatchObject({ judged: 0, alreadyJudged: 12 });
    expect(await judge('pairwise-all')).toMatchObject({ judged: 0, alreadyJudged: 12 });
    expect(await judge('single', ['--judge-address', remote.grpc.address, '--output-file', judgmentFile('single', 'remote')])).toMatchObject({ judged: 0, alreadyJudged: 12 });
    expect(files.map((f) => readFileSync(f, 'utf8'))).toEqual(before);
  });
});
