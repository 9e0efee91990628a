import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/common/config';
import { silentLogger } from '../../src/common/log';
import { GEN_JUDGMENT_OPTIONS, runGenJudgment } from '../../src/jobs/judge/judgment-main';
import { readJsonl } from '../../src/jobs/judge/jsonl';
import { toPairJudgment, toSingleJudgment } from '../../src/jobs/judge/records';
import { pairwiseByCategory, singleByCategory } from '../../src/jobs/judge/result-compute';
import { runShowResult, SHOW_RESULT_OPTIONS } from '../../src/jobs/judge/result-main';
import { judgeTexts, scratchBench } from './bench-dir';
import * as expected from './expected';
import { startFakeOpenAI, type FakeServer } from './fake-openai-server';

let bench: ReturnType<typeof scratchBench>;
let fake: FakeServer;

beforeAll(async () => {
  bench = scratchBench();
  fake = await startFakeOpenAI({ judgeTexts: judgeTexts() });
  for (const mode of ['single', 'pairwise-baseline']) {
    const args = ['--mode', mode, '--bench-dir', bench.dir, '--judge-model', 'judge-model', '--judge-base-url', fake.baseUrl, '--parallel', '4', '--log-level', 'silent'];
    await runGenJudgment(parseConfig(GEN_JUDGMENT_OPTIONS, args), silentLogger());
  }
  const allArgs = ['--mode', 'pairwise-all', '--bench-dir', bench.dir, '--judge-model', 'judge-model', '--judge-base-url', fake.baseUrl, '--parallel', '4', '--log-level', 'silent', '--output-file', join(bench.dir, 'all_pair.jsonl')];
  await runGenJudgment(parseConfig(GEN_JUDGMENT_OPTIONS, allArgs), silentLogger());
});
afterAll(async () => {
  await fake.close();
  bench.remove();
});

function show(args: string[]): string {
  return runShowResult(parseConfig(SHOW_RESULT_OPTIONS, ['--bench-dir', bench.dir, '--judge-model', 'judge-model', '--log-level', 'silent', ...args]), silentLogger());
}

function expectRows(actual: Array<Record<string, unknown>>, rows: Array<Record<string, string | number | null>>): void {
  expect(actual.map((r) => r.model)).toEqual(rows.map((r) => r.model));
  actual.forEach((row, i) => {
    expect(Object.keys(row)).toEqual(Object.keys(rows[i]));
    for (const [key, value] of Object.entries(rows[i])) {
      if (typeof value === 'number') expect(row[key]).toBeCloseTo(value, 12);
      else expect(row[key]).toBe(value);
    }
  });
}

function expectTable(table: ReturnType<typeof singleByCategory>, want: Record<string, Record<string, number>>): void {
  expect(table.categories).toEqual(['writing', 'math', 'coding', 'stem']);
  expect([...table.values.keys()].sort()).toEqual(Object.keys(want).sort());
  for (const [model, cats] of Object.entries(want)) {
    for (const [cat, value] of Object.entries(cats)) expect(table.values.get(model)?.get(cat)).toBeCloseTo(value, 12);
  }
}

const categoryOf = (id: unknown): string => ({ 1: 'writing', 2: 'math', 3: 'coding', 4: 'stem' } as Record<string, string>)[String(id)];
const ORDER = ['writing', 'roleplay', 'reasoning', 'math', 'coding', 'extraction', 'stem', 'humanities'];

describe('show-result on judgments of the fixture, numbers worked out by hand', () => {
  test('single --json: per-turn and average scores with −1 excluded', () => {
    const json = JSON.parse(show(['--json']));
    expect(json.mode).toBe('single');
    expectRows(json.models, expected.SINGLE);
  });

  test("single tables: FastChat's three headings, then the per-category table", () => {
    const text = show([]);
    expect(text).toContain(`Input file: ${join(bench.dir, 'model_judgment', 'judge-model_single.jsonl')}`);
    const first = text.indexOf('########## First turn ##########');
    const second = text.indexOf('########## Second turn ##########');
    const average = text.indexOf('########## Average ##########');
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first);
    expect(average).toBeGreaterThan(second);
    expect(text.slice(first, second)).toMatch(/alpha\s+1\s+8\.500000\n.*gpt-3\.5-turbo\s+1\s+7\.000000\n.*beta\s+1\s+5\.125000/);
    expect(text.slice(average)).toMatch(/alpha\s+7\.500000/);
    expect(text).toMatch(/Per category \(mean score\)[^\n]*\nmodel\s+writing\s+math\s+coding\s+stem\nalpha\s+7\.000\s+10\.000\s+6\.000\s+9\.000/);
  });

  test('single per-category means', () => {
    const records = readJsonl(join(bench.dir, 'model_judgment', 'judge-model_single.jsonl')).lines.map((l) => toSingleJudgment(l.value, 'x'));
    expectTable(singleByCategory(records, categoryOf, ORDER), expected.SINGLE_BY_CATEGORY);
  });

  test('--model-list restricts single results', () => {
    expectRows(JSON.parse(show(['--json', '--model-list', 'alpha'])).models, expected.SINGLE.filter((r) => r.model === 'alpha'));
  });

  test('pairwise-baseline --json: win/loss/tie with swap consistency, errors dropped, baseline not listed', () => {
    const json = JSON.parse(show(['--mode', 'pairwise-baseline', '--baseline-model', 'gpt-3.5-turbo', '--json']));
    expect(json.mode).toBe('pairwise-baseline');
    expectRows(json.models, expected.PAIRWISE_BASELINE);
    const records = readJsonl(join(bench.dir, 'model_judgment', 'judge-model_pair.jsonl')).lines.map((l) => toPairJudgment(l.value, 'x'));
    expectTable(pairwiseByCategory(records, categoryOf, ORDER, undefined, 'gpt-3.5-turbo'), expected.PAIRWISE_BASELINE_BY_CATEGORY);
  });

  test('pairwise-all --json, and FastChat\'s model_1-only --model-list filter', () => {
    const file = join(bench.dir, 'all_pair.jsonl');
    expectRows(JSON.parse(show(['--mode', 'pairwise-all', '--input-file', file, '--json'])).models, expected.PAIRWISE_ALL);
    expectRows(JSON.parse(show(['--mode', 'pairwise-all', '--input-file', file, '--json', '--model-list', 'beta'])).models, expected.PAIRWISE_ALL_MODEL_LIST_BETA);
    const text = show(['--mode', 'pairwise-all', '--input-file', file]);
    expect(text).toMatch(/model\s+win\s+loss\s+tie\s+win_rate\s+loss_rate\s+win_rate_adjusted\nalpha\s+7\s+2\s+4\s+0\.538462\s+0\.153846\s+0\.692308/);
  });

  test('--svg draws one bar per model and category', () => {
    const svgPath = join(bench.dir, 'charts', 'single.svg');
    show(['--svg', svgPath]);
    const svg = readFileSync(svgPath, 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<rect x="[\d.]+" y="[\d.]+" width="12" height="[\d.]+" fill="[^"]+"><title>/g)).toHaveLength(12);
    expect(svg).toContain('<title>alpha · math: 10.000</title>');
    for (const label of ['writing', 'math', 'coding', 'stem', 'alpha', 'beta', 'gpt-3.5-turbo']) expect(svg).toContain(`>${label}</text>`);
  });
});

describe('show-result reads files written by FastChat', () => {
  test('old records without a turn, scores −1 and floats, pairs with error games', () => {
    const single = [
      '{"question_id": 81, "model": "vicuna-13b", "judge": ["gpt-4", "single-v1"], "user_prompt": "p", "judgment": "Rating: [[7]]", "score": 7, "turn": 1, "tstamp": 1687221789.5}',
      '{"question_id": 81, "model": "vicuna-13b", "judge": ["gpt-4", "single-v1-multi-turn"], "user_prompt": "p", "judgment": "[[4.5]]", "score": 4.5, "turn": 2, "tstamp": 1687221790.1}',
      '{"question_id": 82, "model": "vicuna-13b", "judge": ["gpt-4", "single-v1"], "user_prompt": "p", "judgment": "$ERROR$", "score": -1, "turn": 1, "tstamp": 1687221791.0}',
      '{"question_id": 82, "model": "llama-13b", "judge": ["gpt-4", "single-v1"], "user_prompt": "p", "judgment": "Rating: [[2]]", "score": 2, "tstamp": 1687221792.0}',
    ];
    writeFileSync(join(bench.dir, 'fastchat_single.jsonl'), `${single.join('\n')}\n`);
    const json = JSON.parse(show(['--input-file', join(bench.dir, 'fastchat_single.jsonl'), '--json', '--question-file', join(bench.dir, 'question.jsonl')]));
    expectRows(json.models, [
      { model: 'vicuna-13b', turn1: 7, turn2: 4.5, average: 5.75 },
      { model: 'llama-13b', turn1: 2, turn2: null, average: 2 },
    ]);

    const pair = [
      '{"question_id": 81, "model_1": "vicuna-13b", "model_2": "gpt-3.5-turbo", "g1_winner": "model_2", "g2_winner": "model_2", "judge": ["gpt-4", "pair-v2"], "g1_user_prompt": "p", "g1_judgment": "[[B]]", "g2_user_prompt": "p", "g2_judgment": "[[A]]", "turn": 1, "tstamp": 1687221800.0}',
      '{"question_id": 82, "model_1": "vicuna-13b", "model_2": "gpt-3.5-turbo", "g1_winner": "error", "g2_winner": "model_1", "judge": ["gpt-4", "pair-v2"], "g1_user_prompt": "p", "g1_judgment": "?", "g2_user_prompt": "p", "g2_judgment": "[[B]]", "turn": 1, "tstamp": 1687221801.0}',
      '{"question_id": 83, "model_1": "vicuna-13b", "model_2": "gpt-3.5-turbo", "g1_winner": "model_1", "g2_winner": "tie", "judge": ["gpt-4", "pair-v2"], "g1_user_prompt": "p", "g1_judgment": "[[A]]", "g2_user_prompt": "p", "g2_judgment": "[[C]]", "turn": 1, "tstamp": 1687221802.0}',
      '{"question_id": 84, "model_1": "vicuna-13b", "model_2": "gpt-3.5-turbo", "g1_winner": "model_1", "g2_winner": "model_1", "judge": ["gpt-4", "pair-v2"], "g1_user_prompt": "p", "g1_judgment": "[[A]]", "g2_user_prompt": "p", "g2_judgment": "[[B]]", "turn": 1, "tstamp": 1687221803.0}',
    ];
    writeFileSync(join(bench.dir, 'fastchat_pair.jsonl'), `${pair.join('\n')}\n`);
    const pairJson = JSON.parse(show(['--mode', 'pairwise-baseline', '--input-file', join(bench.dir, 'fastchat_pair.jsonl'), '--json']));
    expectRows(pairJson.models, [{ model: 'vicuna-13b', win: 1, loss: 1, tie: 1, win_rate: 1 / 3, loss_rate: 1 / 3, win_rate_adjusted: 0.5 }]);
  });

  test('a missing judgment file is a not_found error naming it', () => {
    expect(() => show(['--input-file', join(bench.dir, 'nope.jsonl')])).toThrow(/file not found: .*nope\.jsonl/);
  });
});
