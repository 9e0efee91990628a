import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GET_STATS_OPTIONS, runGetStats } from '../../src/jobs/data/commands/get-stats';
import { HARDCODED_QUESTIONS_OPTIONS, runHardcodedQuestions } from '../../src/jobs/data/commands/hardcoded-questions';
import { MERGE_OPTIONS, runMerge } from '../../src/jobs/data/commands/merge';
import {
  EXTRACT_OPTIONS, FILTER_WRONG_FORMAT_OPTIONS, OPTIONAL_CLEAN_OPTIONS, derivedOutFile, runExtractGpt4Only, runExtractSingleRound, runFilterWrongFormat, runOptionalClean,
} from '../../src/jobs/data/commands/record-filters';
import { runSample, SAMPLE_OPTIONS } from '../../src/jobs/data/commands/sample';
import { conv, FIXTURES, flags, jobIo, readJson, readJsonl, readReport, tempDir } from './job-harness';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
type Conv = { id: string; conversations: Array<{ from: string; value: string }>; model?: string };
const ids = (path: string) => (readJson(path) as Conv[]).map((c) => c.id);

describe('merge', () => {
  it("concatenates JSON and JSONL inputs in order, written exactly as Python's json.dump(indent=2, ensure_ascii=False)", async () => {
    const jsonl = join(FIXTURES, 'data', 'unicode-records.jsonl');
    const out = tmp.path('merged.json');
    await runMerge(flags(MERGE_OPTIONS, ['--in-file', jsonl, '--out-file', out, '--threads', '0']), jobIo());
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(FIXTURES, 'data', 'unicode-records.python.json'), 'utf8'));
    const both = tmp.path('both.jsonl');
    await runMerge(flags(MERGE_OPTIONS, ['--in-file', out, jsonl, '--in-file', join(FIXTURES, 'data', 'sharegpt-html.json'), '--out-file', both]), jobIo());
    expect(readJsonl(both).map((r) => (r as Conv).id)).toEqual(['u1', 'u2', 'u1', 'u2', ...ids(join(FIXTURES, 'data', 'sharegpt-html.json'))]);
    const report = readReport(`${both}.report.jsonl`);
    expect(report[report.length - 1].summary).toMatchObject({ records: 16, written: 16, dropped: 0 });
  });
});

describe('record filters', () => {
  const input = [
    conv('list', ['human', 'steps?'], ['gpt', 'Do this:\n1. a\n1. b']),
    conv('ok', ['human', 'steps?'], ['gpt', 'Do this:\n1. a\n2. b\n1. c']),
    { ...conv('g4', ['human', 'a'], ['gpt', 'b'], ['human', 'c'], ['gpt', 'd']), model: 'gpt4' },
    { ...conv('g35', ['human', 'a'], ['gpt', 'b']), model: 'gpt-3.5' },
  ];
  const inFile = tmp.write('filters.json', JSON.stringify(input));

  it('filter-wrong-format drops numbered lists that restart at 1. (FastChat rule)', async () => {
    const out = tmp.path('wf.json');
    await runFilterWrongFormat(flags(FILTER_WRONG_FORMAT_OPTIONS, ['--in-file', inFile, '--out-file', out]), jobIo());
    expect(ids(out)).toEqual(['ok', 'g4', 'g35']);
    expect(readReport(`${out}.report.jsonl`)[0]).toMatchObject({ id: 'list', reason: 'wrong_list_indices' });
  });

  it('extract-single-round keeps the first round and reports the cut; extract-gpt4-only keeps gpt4 and unset models', async () => {
    const single = tmp.path('single.json');
    await runExtractSingleRound(flags(EXTRACT_OPTIONS, ['--in-file', inFile, '--out-file', single]), jobIo());
    expect((readJson(single) as Conv[]).map((c) => c.conversations.length)).toEqual([2, 2, 2, 2]);
    expect(readReport(`${single}.report.jsonl`)[0]).toMatchObject({ id: 'g4', action: 'changed', reason: 'truncated_to_first_round' });
    await runExtractGpt4Only(flags(EXTRACT_OPTIONS, ['--in-file', inFile]), jobIo());
    expect(ids(derivedOutFile(inFile, '_gpt4'))).toEqual(['list', 'ok', 'g4']);
    expect(derivedOutFile('/d/x.json', '_gpt4')).toBe('/d/x_gpt4.json');
    expect(derivedOutFile('/d/x.data', '_single')).toBe('/d/x.data_single.json');
  });

  it('optional-clean keeps or skips a language and drops repeated digits', async () => {
    const langs = [
      conv('en', ['human', 'Could you please explain how photosynthesis works in green plants?'], ['gpt', 'Plants use sunlight, water and carbon dioxide to produce glucose and oxygen.']),
      conv('ko', ['human', '광합성이 식물에서 어떻게 작동하는지 설명해 주시겠어요?'], ['gpt', '식물은 햇빛과 물과 이산화탄소를 이용하여 포도당과 산소를 만듭니다.']),
      conv('fr', ['human', 'Pourriez-vous expliquer comment fonctionne la photosynthèse chez les plantes vertes ?'], ['gpt', 'Les plantes utilisent la lumière du soleil, l’eau et le dioxyde de carbone.']),
      conv('digits', ['human', 'What is my account number please tell me now?'], ['gpt', 'Your number is 1111111112 as stored in the system records.']),
    ];
    const file = tmp.write('langs.json', JSON.stringify(langs));
    const keep = tmp.path('keep-en.json');
    await runOptionalClean(flags(OPTIONAL_CLEAN_OPTIONS, ['--in-file', file, '--out-file', keep, '--keep-lang', 'en', '--threads', '1']), jobIo());
    expect(ids(keep)).toEqual(['en', 'digits']);
    expect(readReport(`${keep}.report.jsonl`).filter((e) => e.action).map((e) => [e.id, e.reason, e.detail])).toEqual([
      ['ko', 'language_not_kept', 'detected ko'], ['fr', 'language_not_kept', 'detected fr'],
    ]);
    const skip = tmp.path('skip-ko.json');
    await runOptionalClean(flags(OPTIONAL_CLEAN_OPTIONS, ['--in-file', file, '--out-file', skip, '--skip-lang', 'ko', '--reduce-rep', '--threads', '0']), jobIo());
    expect(ids(skip)).toEqual(['en', 'fr']);
    await expect(runOptionalClean(flags(OPTIONAL_CLEAN_OPTIONS, ['--in-file', file, '--keep-lang', 'en', '--skip-lang', 'ko']), jobIo())).rejects.toThrow('cannot be combined');
  });
});

describe('sample', () => {
  const records = Array.from({ length: 20 }, (_, i) => conv(`s${i}`, ['human', `q${i}`], ['gpt', i === 17 ? 'x'.repeat(2000) : `a${i}`]));
  const inFile = tmp.write('sample.json', JSON.stringify(records));

  it("takes the records numpy's seed(42) shuffle puts first, leaving out long ones", async () => {
    const out = tmp.path('sampled.json');
    await runSample(flags(SAMPLE_OPTIONS, ['--in-file', inFile, '--out-file', out, '--end', '6']), jobIo());
    // numpy 2.4: l = list(range(20)); np.random.seed(42); np.random.shuffle(l) → [0, 17, 15, 1, 8, 5, 11, ...]
    expect(ids(out)).toEqual(['s0', 's15', 's1', 's8', 's5']);
    expect(readReport(`${out}.report.jsonl`)[0]).toMatchObject({ id: 's17', reason: 'too_long' });
  });

  it('keeps file order with --keep-order and honours --begin/--end', async () => {
    const out = tmp.path('sampled-order.json');
    await runSample(flags(SAMPLE_OPTIONS, ['--in-file', inFile, '--out-file', out, '--keep-order', '--begin', '15', '--end', '100']), jobIo());
    expect(ids(out)).toEqual(['s15', 's16', 's18', 's19']);
  });
});

describe('hardcoded-questions and get-stats', () => {
  it("generates FastChat's identity Q&A for any name and organisation", async () => {
    const out = tmp.path('hardcoded.json');
    expect(await runHardcodedQuestions(flags(HARDCODED_QUESTIONS_OPTIONS, ['--out-file', out, '--name', 'Fleet', '--org', 'ACME']))).toBe(12 * 6 + 7 * 7 + 68 * 12);
    const records = readJson(out) as Conv[];
    expect(records[0]).toEqual(conv('identity_0', ['human', 'Who are you?'], ['gpt', 'I am Fleet, a language model trained by researchers from ACME.']));
    expect(records.every((r, i) => r.id === `identity_${i}` && r.conversations[1].value.includes('ACME'))).toBe(true);
    expect(records[records.length - 1].conversations).toEqual([
      { from: 'human', value: 'Have you been finetuned with IBM data?' }, { from: 'gpt', value: "No, I'm created by researchers from ACME." },
    ]);
  });

  it('counts sequences, rounds, lengths and a histogram of sample lengths', async () => {
    const file = tmp.write('stats.jsonl', [
      JSON.stringify(conv('a', ['human', 'abcd'], ['gpt', 'x'.repeat(1500)])),
      JSON.stringify(conv('b', ['human', 'ab'], ['gpt', 'yy'], ['human', 'ccc'], ['gpt', 'd'])),
      'not json',
    ].join('\n'));
    const summary = await runGetStats(flags(GET_STATS_OPTIONS, ['--in-file', file, '--threads', '0']), jobIo());
    expect(summary).toMatchObject({ unit: 'characters', sequences: 2, totalLength: 1504 + 8, avgTurns: 1.5, maxSampleLength: 1504, roles: { human: 3, gpt: 3 } });
    expect(summary.avgPromptLength).toBeCloseTo((4 + 2 + 3) / 3);
    expect(summary.histogram.slice(0, 2).map((b) => b.count)).toEqual([1, 1]);
    const gpt2 = join(__dirname, '..', '..', 'node_modules', '@lenml', 'tokenizer-gpt2', 'models');
    const tokens = await runGetStats(flags(GET_STATS_OPTIONS, ['--in-file', file, '--model-name-or-path', gpt2, '--threads', '0']), jobIo());
    expect(tokens.unit).toBe('tokens');
    expect(tokens.totalLength).toBeLessThan(1512);
  });
});
