/**
 * Hostile inputs never crash a job and never vanish: each bad record is dropped or changed with a reason in the
 * report, and the good records around it come out intact.
 */
import { CLEAN_SHAREGPT_OPTIONS, runCleanShareGpt } from '../../src/jobs/data/commands/clean-sharegpt';
import { conv, flags, jobIo, readJson, readReport, tempDir } from './job-harness';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const good = (id: string) => conv(id, ['human', `A perfectly normal question ${id}`], ['gpt', `<div class="markdown"><p>A normal answer for ${id}.</p></div>`]);

async function clean(name: string, content: string | Buffer, extra: string[] = []) {
  const inFile = tmp.write(name, content);
  const out = tmp.path(`${name}.out.json`);
  const io = jobIo();
  const summary = await runCleanShareGpt(flags(CLEAN_SHAREGPT_OPTIONS, ['--in-file', inFile, '--out-file', out, ...extra]), io);
  const events = readReport(`${out}.report.jsonl`).filter((e) => e.action);
  return { summary, output: readJson(out) as Array<{ id: string; conversations: Array<{ from: string; value: string }> }>, events, stderr: io.stderr.text };
}

describe('hostile inputs to clean-sharegpt', () => {
  it('drops deeply nested HTML without parsing it, both in workers and on the main thread', async () => {
    const deep = conv('deep', ['human', 'Explain this please, it is long'], ['gpt', `${'<div><blockquote>'.repeat(20_000)}x`]);
    for (const threads of ['0', '2']) {
      const r = await clean(`deep-${threads}.json`, JSON.stringify([good('a'), deep, good('b')]), ['--threads', threads]);
      expect(r.output.map((c) => c.id)).toEqual(['a', 'b']);
      expect(r.events).toEqual([expect.objectContaining({ id: 'deep', action: 'dropped', reason: 'html_too_deep' })]);
    }
  });

  it('converts a 10 MB message', async () => {
    const paragraph = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. ';
    const html = `<div class="markdown">${`<p>${paragraph.repeat(40)}</p>`.repeat(Math.ceil(10_000_000 / (paragraph.length * 40 + 7)))}</div>`;
    expect(html.length).toBeGreaterThanOrEqual(10_000_000);
    const r = await clean('big.json', JSON.stringify([conv('big', ['human', 'Write a very long text'], ['gpt', html]), good('after')]), ['--threads', '1']);
    expect(r.output.map((c) => c.id)).toEqual(['big', 'after']);
    const text = r.output[0].conversations[1].value;
    expect(text.startsWith(paragraph.trim())).toBe(true);
    expect(text).not.toContain('<p>');
    expect(text.length).toBeGreaterThan(9_000_000);
  });

  it('drops a record above --max-record-bytes unread and a message above --max-html-chars unparsed', async () => {
    const huge = conv('huge', ['human', 'q'.repeat(50)], ['gpt', `<p>${'y'.repeat(300_000)}</p>`]);
    const r1 = await clean('huge.json', JSON.stringify([good('a'), huge, good('b')]), ['--max-record-bytes', '100000']);
    expect(r1.output.map((c) => c.id)).toEqual(['a', 'b']);
    expect(r1.events).toEqual([expect.objectContaining({ index: 1, action: 'dropped', reason: 'record_too_large' })]);
    const r2 = await clean('huge2.json', JSON.stringify([good('a'), huge]), ['--max-html-chars', '100000']);
    expect(r2.events).toEqual([expect.objectContaining({ id: 'huge', reason: 'html_too_large' })]);
  });

  it('keeps a record with broken UTF-8, with replacement characters, and reports the change', async () => {
    const before = Buffer.from(`${JSON.stringify([good('a')]).slice(0, -1)},{"id":"bad","conversations":[{"from":"human","value":"caf`);
    const after = Buffer.from(` ok, tell me more"},{"from":"gpt","value":"<p>It is a caf\\u00e9.</p>"}]}]`);
    const r = await clean('utf8.json', Buffer.concat([before, Buffer.from([0xc3, 0x28, 0xff]), after]));
    expect(r.output.map((c) => c.id)).toEqual(['a', 'bad']);
    expect(r.output[1].conversations[0].value).toBe('caf\uFFFD(\uFFFD ok, tell me more');
    expect(r.events).toEqual([expect.objectContaining({ id: 'bad', action: 'changed', reason: 'invalid_utf8_replaced' })]);
  });

  it('reports wrong roles, odd turn counts, bad shapes and invalid JSON lines', async () => {
    const lines = [
      JSON.stringify(good('a')),
      JSON.stringify(conv('roles', ['human', 'Question number one here'], ['human', 'Question two'], ['gpt', 'Answer'])),
      JSON.stringify(conv('odd', ['human', 'Question with an answer'], ['gpt', 'The answer is here.'], ['human', 'Follow up'], ['gpt', 'Second answer'], ['gpt', 'stray'])),
      JSON.stringify({ id: 'shape', conversations: 'not a list' }),
      '{"id": "broken", "conversations": [',
      JSON.stringify(good('z')),
    ];
    const r = await clean('mixed.jsonl', lines.join('\n'));
    expect(r.output.map((c) => c.id)).toEqual(['a', 'z']);
    expect(r.events.map((e) => [e.index, e.id, e.reason])).toEqual([
      [1, 'roles', 'wrong_format'],
      [2, 'odd', 'wrong_format'],
      [3, 'shape', 'invalid_format'],
      [4, '#4', 'invalid_json'],
    ]);
    expect(r.stderr).toContain('wrong_format');
    expect(r.summary).toMatchObject({ records: 6, kept: 2, dropped: 4 });
  });

  it('drops a record whose conversion outlives --record-timeout and replaces the stuck worker', async () => {
    const slow = conv('slow', ['human', 'Make a large table for me'], ['gpt', `<table>${'<tr><td>cell</td><td>cell</td></tr>'.repeat(60_000)}</table>`]);
    const records = [good('a'), slow, good('b'), good('c')];
    const r = await clean('slow.json', JSON.stringify(records), ['--threads', '1', '--record-timeout', '300ms']);
    expect(r.output.map((c) => c.id)).toEqual(['a', 'b', 'c']);
    expect(r.events).toEqual([expect.objectContaining({ index: 1, action: 'dropped', reason: 'record_timeout' })]);
  });

  it('drops a record whose conversion exceeds --worker-memory-mb and goes on with a fresh worker', async () => {
    const huge = conv('oom', ['human', 'A table with many many cells'], ['gpt', `<div>${'<table><tr><td>a</td><td>b</td></tr></table>'.repeat(350_000)}</div>`]);
    const r = await clean('oom.json', JSON.stringify([good('a'), huge, good('b')]), ['--threads', '1', '--worker-memory-mb', '64']);
    expect(r.output.map((c) => c.id)).toEqual(['a', 'b']);
    expect(r.events).toEqual([expect.objectContaining({ index: 1, action: 'dropped', reason: 'worker_out_of_memory' })]);
  });
});
