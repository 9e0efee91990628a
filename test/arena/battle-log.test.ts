import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBattleRecord, toBattleLogRecord, type BattleLogRecord } from '../../src/arena/battle-log';
import { readBattleLog, writeBattleLog, type BattleLogItem } from '../../src/arena/battle-log-file';
import { pseudonymousJudgeId } from '../../src/arena/judge-id';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'arena-log-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function collect(items: AsyncIterable<BattleLogItem>): Promise<BattleLogItem[]> {
  const out: BattleLogItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function* from<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

const RECORD: BattleLogRecord = {
  question_id: 'q1', model_a: 'a', model_b: 'b', winner: 'tie (bothbad)', judge: 'arena_user_1',
  conversation_a: [{ role: 'user', content: '日本語で答えて' }], conversation_b: [{ role: 'user', content: '日本語で答えて' }],
  turn: 1, anony: true, language: 'Japanese', tstamp: 1682351591.1322, dedup_tag: { high_freq: false },
};

describe('battle-log records', () => {
  it('validate FastChat records and keep unknown fields for export', () => {
    const parsed = parseBattleRecord(RECORD);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) {
      expect(parsed.record.extra).toEqual({ dedup_tag: { high_freq: false } });
      expect(toBattleLogRecord(parsed.record)).toEqual(RECORD);
      expect(Object.keys(toBattleLogRecord(parsed.record))).toEqual(Object.keys(RECORD));
    }
  });

  it('name every field at fault', () => {
    expect(parseBattleRecord({ model_a: '', model_b: 'b', winner: 'rightvote', anony: 'yes', tstamp: '1' })).toEqual({
      ok: false,
      fields: ['model_a', 'winner', 'anony', 'tstamp'],
      problem: 'model_a must be a non-empty string (got ""); winner must be one of model_a, model_b, tie, tie (bothbad) (got "rightvote"); '
        + 'anony must be true or false (got "yes"); tstamp must be a number of seconds (got "1")',
    });
    expect(parseBattleRecord([1, 2])).toMatchObject({ ok: false, fields: ['record'] });
    expect(parseBattleRecord({ ...RECORD, turn: -1, conversation_b: 'x' })).toMatchObject({ ok: false, fields: ['turn', 'conversation_b'] });
  });
});

describe('battle-log files', () => {
  it('write FastChat\'s indented JSON array and read it back in small chunks, multi-byte text split across them', async () => {
    const records = Array.from({ length: 3000 }, (_, i) => ({ ...RECORD, question_id: `q${i}`, tstamp: RECORD.tstamp + i }));
    const path = join(dir, 'log.json');
    expect(await writeBattleLog(from(records), path, 'json')).toBe(3000);
    const text = readFileSync(path, 'utf8');
    expect(text.startsWith('[\n  {\n    "question_id": "q0",\n    "model_a": "a",')).toBe(true);
    expect(JSON.parse(text)).toEqual(records);
    const items = await collect(readBattleLog(path));
    expect(items.map((i) => (i.kind === 'value' ? i.value : i))).toEqual(records);
    expect(items[2999].location).toBe('record 2999');
  });

  it('write and read JSON lines (a byte-order mark and blank lines are fine)', async () => {
    const path = join(dir, 'log.jsonl');
    await writeBattleLog(from([RECORD, RECORD]), path, 'jsonl');
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([RECORD, RECORD]);
    writeFileSync(path, `\uFEFF${lines[0]}\n\n${lines[1]}\n`);
    expect((await collect(readBattleLog(path))).map((i) => i.location)).toEqual(['line 1', 'line 3']);
  });

  it('read an empty array and an empty file as no records', async () => {
    writeFileSync(join(dir, 'empty.json'), '  []\n');
    writeFileSync(join(dir, 'empty.jsonl'), '');
    expect(await collect(readBattleLog(join(dir, 'empty.json')))).toEqual([]);
    expect(await collect(readBattleLog(join(dir, 'empty.jsonl')))).toEqual([]);
  });
});

describe('judge ids', () => {
  it('are stable keyed pseudonyms that do not contain the address', () => {
    const secret = 'a-deployment-secret-of-some-length';
    const id = pseudonymousJudgeId('203.0.113.7', secret);
    expect(id).toMatch(/^arena_user_[0-9a-f]{24}$/);
    expect(pseudonymousJudgeId('203.0.113.7', secret)).toBe(id);
    expect(pseudonymousJudgeId('203.0.113.8', secret)).not.toBe(id);
    expect(pseudonymousJudgeId('203.0.113.7', `${secret}!`)).not.toBe(id);
    expect(() => pseudonymousJudgeId('x', 'short')).toThrow(/at least 16/);
  });
});
