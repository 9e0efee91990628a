/**
 * Issue 18, files: the data pipeline's HTML → markdown and record writer against hostile input. Nested tables whose
 * tags look shallow are measured on the parsed tree (before: turndown's recursion overflowed the stack); nested
 * ordered lists that blew 12 KB of HTML up to 2.2 MB in 29 s are indented in one pass with CommonMark-sized numbers;
 * a conversation's markdown is capped; two writers of one output never share a temporary file — the record writer's
 * streams and the Elo job's whole files alike (src/jobs/io/atomic-file.ts).
 */
import { readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/common/config';
import { silentLogger } from '../../src/common/log';
import { ELO_JOB_SCHEMA } from '../../src/jobs/arena/elo-config';
import { runEloJob } from '../../src/jobs/arena/elo-job';
import { OUTPUT_FILES } from '../../src/jobs/arena/outputs';
import { reorgAnswerFile } from '../../src/jobs/judge/answer-reorg';
import { htmlToMarkdown } from '../../src/jobs/data/clean/html-to-markdown';
import { CLEAN_SHAREGPT_OPTIONS, runCleanShareGpt } from '../../src/jobs/data/commands/clean-sharegpt';
import { RecordWriter } from '../../src/jobs/io/record-writer';
import { conv, flags, jobIo, readReport, tempDir } from '../data/job-harness';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const limits = { maxHtmlChars: 16_000_000, maxHtmlDepth: 512, maxMarkdownChars: 32_000_000 };

describe('hostile HTML in the data pipeline', () => {
  it('measures nesting on the parsed tree: tables whose tags look shallow are refused before turndown', () => {
    // 400 levels of <table><tr><td>: the tags count 400 (tr and td close implicitly), the tree is 1600 deep.
    const r = htmlToMarkdown(`<p>intro</p>${'<table><tr><td>x'.repeat(400)}`, limits);
    expect(r).toEqual({ ok: false, reason: 'html_too_deep', detail: expect.stringMatching(/^parsed nesting depth \d+ > --max-html-depth 512$/) });
  });

  it('indents nested lists in bounded time and size', () => {
    const html = '<ol start="99999999999999999999"><li>x<br>y<br>z'.repeat(250);
    expect(html.length).toBe(12_000);
    const t0 = Date.now();
    const r = htmlToMarkdown(html, limits);
    const ms = Date.now() - t0;
    if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
    expect(ms).toBeLessThan(8000); // before: 29 s on this machine
    expect(r.markdown.length).toBeLessThan(400_000); // before: 2,167,374 characters
    const lines = r.markdown.split('\n');
    expect(lines.slice(0, 4)).toEqual(['1. x  ', '   y  ', '   z', '   1. x  ']); // numbers past 9 digits start at 1
    // The innermost item's lines sit under 250 "1. " prefixes: 3 spaces each.
    expect(lines.at(-1)).toBe(`${' '.repeat(3 * 250)}z`);
  });

  it('keeps nested list output exactly as before for ordinary documents', () => {
    const r = htmlToMarkdown('<ul><li>one<ul><li>two<br>more<ol start="3"><li>three<pre><code>a\nb</code></pre></li></ol></li></ul></li><li>four</li></ul>', limits);
    expect(r).toEqual({ ok: true, markdown: '* one\n  * two  \n    more\n    3. three\n\n       ```\n       a\n       b\n       ```\n* four' });
  });

  it('drops a conversation whose markdown exceeds --max-markdown-chars', async () => {
    const lists = conv('lists', ['human', 'Please make a deeply nested list'], ['gpt', '<ul><li>a<br>b<br>c<br>d'.repeat(200)]);
    const ok = conv('ok', ['human', 'A normal question here'], ['gpt', '<p>A normal answer.</p>']);
    const inFile = tmp.write('lists.json', JSON.stringify([lists, ok]));
    const out = tmp.path('lists.out.json');
    await runCleanShareGpt(flags(CLEAN_SHAREGPT_OPTIONS, ['--in-file', inFile, '--out-file', out, '--max-markdown-chars', '100000']), jobIo());
    expect((JSON.parse(readFileSync(out, 'utf8')) as Array<{ id: string }>).map((c) => c.id)).toEqual(['ok']);
    expect(readReport(`${out}.report.jsonl`).filter((e) => e.action)).toEqual([expect.objectContaining({ id: 'lists', action: 'dropped', reason: 'markdown_too_large' })]);
  });
});

describe('the record writer', () => {
  it('gives two writers of the same output their own temporary files; the last rename wins whole', async () => {
    const out = tmp.path('shared/out.jsonl');
    const a = await RecordWriter.open(out, 'jsonl');
    const b = await RecordWriter.open(out, 'jsonl');
    const big = (who: string, i: number) => JSON.stringify({ who, i, pad: 'x'.repeat(2000) });
    for (let i = 0; i < 2000; i++) {
      await a.write(big('a', i));
      await b.write(big('b', i));
    }
    await a.close();
    await b.close();
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { who: string; i: number });
    expect(lines).toHaveLength(2000);
    expect(new Set(lines.map((l) => l.who))).toEqual(new Set(['b']));
    expect(lines.map((l) => l.i)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    expect(readdirSync(tmp.path('shared'))).toEqual(['out.jsonl']);
  });
});

describe('the Elo job\'s output files', () => {
  const SAMPLE = join(__dirname, '..', 'fixtures', 'arena', 'battles-sample.json');
  const elo = (out: string, seed: number) => runEloJob(parseConfig(ELO_JOB_SCHEMA, ['--battles', SAMPLE, '--out', out, '--bootstrap', '20', '--seed', String(seed)]), silentLogger());

  it('two jobs writing one directory at once each finish; every file is one job\'s whole file; no temporary is left', async () => {
    const out = tmp.path('elo-shared');
    // Old main: both wrote `<file>.tmp-<pid>` (one process here, as two pods with the same pid would): the second
    // rename found nothing (ENOENT) or a file the other job had overwritten half-way.
    const [a, b] = await Promise.all([elo(out, 1), elo(out, 2)]);
    expect(JSON.stringify(a.board)).not.toEqual(JSON.stringify(b.board));
    const written = JSON.parse(readFileSync(join(out, OUTPUT_FILES.leaderboard), 'utf8')) as unknown;
    expect([JSON.parse(JSON.stringify(a.board)), JSON.parse(JSON.stringify(b.board))]).toContainEqual(written);
    expect(JSON.parse(readFileSync(join(out, OUTPUT_FILES.report), 'utf8'))).toMatchObject({ records_read: 10, battles_used: 6 });
    expect(readdirSync(out).sort()).toEqual(a.files.map((f) => f.slice(out.length + 1)).sort());
  });

  it('never writes through a file planted at a guessable temporary name', async () => {
    const out = tmp.path('elo-planted');
    const victim = tmp.write('victim.txt', 'keep me');
    await elo(out, 1);
    // Old main wrote `<file>.tmp-<pid>`: a symlink planted there sent the leaderboard into the victim.
    symlinkSync(victim, join(out, `${OUTPUT_FILES.leaderboard}.tmp-${process.pid}`));
    await elo(out, 2);
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
    expect(JSON.parse(readFileSync(join(out, OUTPUT_FILES.leaderboard), 'utf8'))).toMatchObject({ models: expect.any(Array) });
  });
});

describe('the judge\'s answer files', () => {
  it('reorganises an answer file without writing through a file planted at a guessable temporary name', async () => {
    const file = tmp.write('answers.jsonl', ['{"question_id": 2, "a": 1}', '{"question_id": 1, "a": 2}', '{"question_id": 2, "a": 3}', ''].join('\n'));
    const victim = tmp.write('victim-2.txt', 'keep me');
    // Old main wrote `<file>.reorg-<pid>` with writeFileSync, following a symlink planted there.
    symlinkSync(victim, `${file}.reorg-${process.pid}`);
    expect(await reorgAnswerFile(file)).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe('{"question_id": 1, "a": 2}\n{"question_id": 2, "a": 3}\n');
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
  });
});
