import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FleetError } from '../../src/common/errors';
import { pythonSlice } from '../../src/jobs/judge/bench-files';
import { BUILTIN_JUDGE_PROMPTS } from '../../src/jobs/judge/data-paths';
import { loadJudgePrompts, parseJudgePrompts, selectPromptName } from '../../src/jobs/judge/prompts';
import { formatPython, templateFields } from '../../src/jobs/judge/python-format';
import { PyFloat, pyJson } from '../../src/jobs/judge/python-json';
import { singleJudgmentLine } from '../../src/jobs/judge/records';
import { shortUuid } from '../../src/jobs/judge/short-uuid';
import { combineGames, parseRating, parseWinner, unswap } from '../../src/jobs/judge/verdict-parse';

describe('score extraction as FastChat', () => {
  test.each([
    ['Rating: [[8]]', 8],
    ['Rating: [[6.5]]', 6.5],
    ['Rating: [7]', 7],
    ['Point [3] is weak. Rating: [[9]]', 9],
    ['Rating: [[8]] not [[2]]', 8],
    ['Rating: [[10.]]', 10],
    ['no rating at all', -1],
    ['Rating: [[ten]]', -1],
    ['Rating: [[-3]]', -1],
  ])('%j → %d', (text, score) => expect(parseRating(text)).toBe(score));
});

describe('pairwise verdicts as FastChat', () => {
  test.each([
    ['[[A]]', 'A'],
    ['[[B]]', 'B'],
    ['[[C]]', 'tie'],
    ['I considered [[B]] but chose [[A]]', 'A'],
    ['[[C]] or rather [[B]]', 'B'],
    ['Final verdict: [A]', 'error'],
    ['nothing', 'error'],
  ])('%j → %s', (text, winner) => expect(parseWinner(text, '[[A]]')).toBe(winner));

  test.each([
    ['[[8, 6]]', 'A'],
    ['[[6,8]]', 'B'],
    ['[[7.0, 7.05]]', 'tie'],
    ['scores [9, 3]', 'A'],
    ['no scores', 'error'],
  ])('two ratings %j → %s', (text, winner) => expect(parseWinner(text, '[[rating_a,rating_b]]')).toBe(winner));

  test('swap: the second game is read back in the original order; disagreement is a tie', () => {
    expect(unswap('A')).toBe('B');
    expect(unswap('tie')).toBe('tie');
    expect(combineGames('A', unswap('B'))).toBe('A');
    expect(combineGames('A', unswap('A'))).toBe('tie');
    expect(combineGames('tie', 'tie')).toBe('tie');
    expect(combineGames('A', 'error')).toBe('error');
  });
});

describe('judge prompts', () => {
  const prompts = loadJudgePrompts(BUILTIN_JUDGE_PROMPTS);

  test('the bundled file is FastChat judge_prompts.jsonl with its eight prompts', () => {
    expect(readFileSync(BUILTIN_JUDGE_PROMPTS, 'utf8')).toBe(readFileSync(join(__dirname, '../fixtures/fastchat/judge_prompts.jsonl'), 'utf8'));
    expect([...prompts.keys()].sort()).toEqual([
      'pair-math-v1', 'pair-math-v1-multi-turn', 'pair-v2', 'pair-v2-multi-turn',
      'single-math-v1', 'single-math-v1-multi-turn', 'single-v1', 'single-v1-multi-turn',
    ]);
    expect(prompts.get('single-math-v1-multi-turn')).toMatchObject({ type: 'single', multiTurn: true, refBased: true, outputFormat: '[[rating]]' });
    expect(prompts.get('pair-v2')).toMatchObject({ type: 'pairwise', multiTurn: false, refBased: false, outputFormat: '[[A]]' });
  });

  test.each([
    ['single', 'writing', 1, 'single-v1'],
    ['single', 'math', 1, 'single-math-v1'],
    ['single', 'reasoning', 2, 'single-math-v1-multi-turn'],
    ['single', 'roleplay', 2, 'single-v1-multi-turn'],
    ['pairwise', 'coding', 1, 'pair-math-v1'],
    ['pairwise', 'stem', 1, 'pair-v2'],
    ['pairwise', 'math', 2, 'pair-math-v1-multi-turn'],
    ['pairwise', 'humanities', 2, 'pair-v2-multi-turn'],
  ] as const)('%s %s turn %d → %s', (kind, category, turn, name) => expect(selectPromptName(kind, category, turn)).toBe(name));

  test('a prompt file with an unknown output format is refused with the line', () => {
    const line = JSON.stringify({ name: 'x', type: 'single', system_prompt: '', prompt_template: '{question}', output_format: '[[A]]' });
    expect(() => parseJudgePrompts(line, 'p.jsonl')).toThrow(/p\.jsonl:1: output_format '\[\[A\]\]' is not supported for single/);
  });
});

describe("Python's str.format for templates", () => {
  test('fills names, keeps doubled braces, never re-scans values', () => {
    expect(formatPython('{a} {{b}} {c}', { a: '{c}', c: 'x' })).toBe('{c} {b} x');
    expect(templateFields('{q} {{lit}} {a} {q}')).toEqual(['q', 'a']);
  });

  test('a missing value or an unsupported field is an invalid_request error', () => {
    expect(() => formatPython('{nope}', {})).toThrow(FleetError);
    expect(() => formatPython('{0}', {})).toThrow(/unsupported field/);
    expect(() => formatPython('a } b', {})).toThrow(/single '}'/);
  });
});

describe("files in Python's json.dumps layout", () => {
  test('separators, ASCII escapes, float timestamps', () => {
    expect(pyJson({ a: [1, 'é✓'], t: new PyFloat(1700000000), s: 8, u: '\u2028"\n' })).toBe(
      '{"a": [1, "\\u00e9\\u2713"], "t": 1700000000.0, "s": 8, "u": "\\u2028\\"\\n"}',
    );
    expect(pyJson('😀')).toBe('"\\ud83d\\ude00"');
  });

  test('a score the judge wrote with a decimal point is written as a float, as ast.literal_eval reads it', () => {
    const line = (judgment: string, score: number): string =>
      singleJudgmentLine({ question_id: 1, model: 'm', judge: ['j', 'p'], user_prompt: '', judgment, score, turn: 1, tstamp: 1.5 });
    expect(line('Rating: [[8.0]]', 8)).toContain('"score": 8.0, ');
    expect(line('Rating: [[8.]]', 8)).toContain('"score": 8.0, ');
    expect(line('Rating: [[8]]', 8)).toContain('"score": 8, ');
    expect(line('no rating', -1)).toContain('"score": -1, ');
  });

  test('answer ids look like shortuuid.uuid()', () => {
    const ids = new Set(Array.from({ length: 50 }, () => shortUuid()));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz]{22}$/);
  });

  test("question ranges are Python slices", () => {
    const xs = [0, 1, 2, 3, 4];
    expect(pythonSlice(xs, 1, 3)).toEqual([1, 2]);
    expect(pythonSlice(xs, -2)).toEqual([3, 4]);
    expect(pythonSlice(xs, undefined, -1)).toEqual([0, 1, 2, 3]);
    expect(pythonSlice(xs, 9)).toEqual([]);
  });
});
