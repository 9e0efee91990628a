import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLEAN_SHAREGPT_OPTIONS, runCleanShareGpt } from '../../src/jobs/data/commands/clean-sharegpt';
import { conv, FIXTURES, flags, jobIo, readJson, readReport, tempDir } from './job-harness';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function clean(inFile: string, outName: string, extra: string[] = []) {
  const out = tmp.path(outName);
  return { out, run: runCleanShareGpt(flags(CLEAN_SHAREGPT_OPTIONS, ['--in-file', inFile, '--out-file', out, ...extra]), jobIo()) };
}

const answer = (text: string) => `<div class="markdown prose w-full"><p>${text}</p></div>`;

describe('clean-sharegpt job', () => {
  it("keeps FastChat's dummy conversations except blocked words and first-round duplicates, and reports each drop", async () => {
    const inFile = join(FIXTURES, 'fastchat', 'dummy_conversation.json');
    const { out, run } = clean(inFile, 'dummy.json', ['--threads', '2']);
    const summary = await run;
    const input = readJson(inFile) as Array<{ id: string; conversations: Array<{ value: string }> }>;
    const blocked = input.filter((c) => c.conversations.some((t) => /openai|chatgpt/i.test(t.value)));
    const output = readJson(out) as Array<{ id: string }>;
    expect(summary.records).toBe(input.length);
    expect(output.length + summary.dropped).toBe(input.length);
    const report = readReport(`${out}.report.jsonl`);
    const blockedIds = report.filter((e) => e.reason === 'blocked_words').map((e) => e.id);
    expect(blockedIds).toEqual(blocked.map((c) => c.id));
    // Every record left out is in the report with a reason; none is lost silently.
    const kept = new Set(output.map((c) => c.id));
    const reported = new Set(report.filter((e) => e.action === 'dropped').map((e) => e.id));
    expect(input.every((c) => kept.has(c.id) !== reported.has(c.id))).toBe(true);
    expect(report.filter((e) => e.reason === 'value_duplicate').length).toBeGreaterThan(0);
    expect(report[report.length - 1].summary).toMatchObject({ records: input.length, written: output.length });
  });

  it('drops id and value duplicates and plugin conversations in input order, as FastChat does', async () => {
    const records = [
      conv('a', ['human', 'What is the capital of France?'], ['gpt', answer('Paris.')]),
      conv('a', ['human', 'Another question entirely'], ['gpt', answer('Another answer')]),
      conv('b', ['human', 'What is the capital of France?'], ['gpt', answer('Paris.')]),
      { ...conv('c', ['human', 'Use a plugin for this'], ['gpt', answer('Plugin answer here')]), plugins: ['x'] },
      conv('d', ['human', 'What is the capital of France?'], ['gpt', answer('It is Paris.')]),
    ];
    const { out, run } = clean(tmp.write('dups.json', JSON.stringify(records)), 'dups-out.json');
    await run;
    expect((readJson(out) as Array<{ id: string }>).map((c) => c.id)).toEqual(['a', 'd']);
    const reasons = readReport(`${out}.report.jsonl`).filter((e) => e.action).map((e) => [e.id, e.reason]);
    expect(reasons).toEqual([['a', 'id_duplicate'], ['b', 'value_duplicate'], ['c', 'plugins']]);
  });

  it('applies --begin/--end as a Python slice, negative values included', async () => {
    const records = Array.from({ length: 10 }, (_, i) => conv(`r${i}`, ['human', `Question number ${i} here`], ['gpt', answer(`Answer number ${i}`)]));
    const inFile = tmp.write('range.jsonl', records.map((r) => JSON.stringify(r)).join('\n'));
    const a = clean(inFile, 'range-a.json', ['--begin', '2', '--end', '5']);
    await a.run;
    expect((readJson(a.out) as Array<{ id: string }>).map((c) => c.id)).toEqual(['r2', 'r3', 'r4']);
    const b = clean(inFile, 'range-b.json', ['--begin', '-3']);
    await b.run;
    expect((readJson(b.out) as Array<{ id: string }>).map((c) => c.id)).toEqual(['r7', 'r8', 'r9']);
  });

  it('writes byte-identical output for 0, 1 and 2 threads', async () => {
    const html = readFileSync(join(FIXTURES, 'data', 'sharegpt-html.json'));
    const inFile = tmp.write('det.json', html);
    const outputs: string[] = [];
    for (const threads of ['0', '1', '2']) {
      const { out, run } = clean(inFile, `det-${threads}.json`, ['--threads', threads]);
      await run;
      outputs.push(readFileSync(out, 'utf8') + readFileSync(`${out}.report.jsonl`, 'utf8').replace(/"outFile":"[^"]*"/, ''));
    }
    expect(outputs[1]).toBe(outputs[0]);
    expect(outputs[2]).toBe(outputs[0]);
  });
});
