/** Pure parts of the arena routes: the random pair of an anonymous battle, the judge secret, request parsing. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetError } from '../../src/common/errors';
import { loadJudgeSecret } from '../../src/gateway/arena/judge-secret';
import { openArena } from '../../src/gateway/arena/open-arena';
import { silentLogger } from '../../src/common/log';
import { pickBattleModels } from '../../src/gateway/arena/pick-models';
import { parseExportQuery, parseNewBattle } from '../../src/gateway/arena/requests';

describe('pickBattleModels', () => {
  it('gives every ordered pair of different models, uniformly over the random draws', () => {
    const models = ['m1', 'm2', 'm3', 'm4'];
    const seen = new Map<string, number>();
    // Enumerate every draw: first in [0, 4), offset in [0, 3).
    for (let first = 0; first < 4; first++) {
      for (let offset = 0; offset < 3; offset++) {
        const draws = [first, offset];
        const [a, b] = pickBattleModels(models, () => draws.shift()!);
        expect(a).not.toBe(b);
        seen.set(`${a}/${b}`, (seen.get(`${a}/${b}`) ?? 0) + 1);
      }
    }
    expect(seen.size).toBe(12); // 4 * 3 ordered pairs, each exactly once
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  });

  it('counts a model listed twice once, and needs two distinct models', () => {
    expect(() => pickBattleModels(['x', 'x'])).toThrow(FleetError);
    expect(() => pickBattleModels([])).toThrow(/two different chat models/);
    const err = (() => {
      try {
        pickBattleModels(['solo']);
      } catch (e) {
        return e as FleetError;
      }
      return undefined;
    })();
    expect(err?.kind).toBe('unavailable');
    expect(err?.message).toMatch(/only solo/);
  });
});

describe('loadJudgeSecret', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'judge-secret-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a private secret next to the database once and reads it back', () => {
    const db = join(dir, 'arena.db');
    const first = loadJudgeSecret('', db);
    expect(first.length).toBeGreaterThanOrEqual(16);
    expect(statSync(`${db}.judge-secret`).mode & 0o777).toBe(0o600);
    expect(loadJudgeSecret('', db)).toBe(first);
    expect(readFileSync(`${db}.judge-secret`, 'utf8').trim()).toBe(first);
  });

  it('creates the database directory when it does not exist yet (fleetchat up --cache-dir NEW_DIR)', async () => {
    const db = join(dir, 'new-cache', 'nested', 'arena.db');
    const arena = await openArena({ db, judgeSecret: '' }, silentLogger());
    try {
      expect(statSync(`${db}.judge-secret`).isFile()).toBe(true);
      expect(await arena.store.counts()).toEqual({ conversations: 0, battles: 0, battleVotes: 0, feedback: 0 });
    } finally {
      await arena.close();
    }
  });

  it('uses a given secret, refuses short ones, and keeps none for an in-memory database', () => {
    expect(loadJudgeSecret('0123456789abcdef', join(dir, 'x.db'))).toBe('0123456789abcdef');
    expect(() => loadJudgeSecret('short', join(dir, 'x.db'))).toThrow(/at least 16/);
    writeFileSync(join(dir, 'y.db.judge-secret'), 'tiny\n');
    expect(() => loadJudgeSecret('', join(dir, 'y.db'))).toThrow(/shorter than 16/);
    expect(loadJudgeSecret('', ':memory:')).not.toBe(loadJudgeSecret('', ':memory:'));
  });
});

describe('arena request parsing', () => {
  it('reads battle requests and export queries, naming the field at fault', () => {
    expect(parseNewBattle(undefined)).toEqual({ anony: true });
    expect(parseNewBattle({ anony: false, model_a: 'x', model_b: 'y' })).toEqual({ anony: false, modelA: 'x', modelB: 'y' });
    expect(() => parseNewBattle({ anony: false, model_a: 'x' })).toThrow(/model_b/);
    expect(() => parseNewBattle({ judge: 'me' })).toThrow(/'judge' is not supported/);
    expect(parseExportQuery({ format: 'jsonl', anony_only: 'true', since: '12.5' })).toEqual({ format: 'jsonl', options: { anonyOnly: true, withoutConversations: false, sinceS: 12.5 } });
    expect(() => parseExportQuery({ since: '-1' })).toThrow(/since/);
    expect(() => parseExportQuery({ simple: 'maybe' })).toThrow(/simple/);
    expect(() => parseExportQuery({ format: ['json', 'jsonl'] })).toThrow(/format/);
  });
});
