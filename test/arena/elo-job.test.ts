import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram } from '../../src/cli/program';
import { parseConfig } from '../../src/common/config';
import { FleetError } from '../../src/common/errors';
import { silentLogger } from '../../src/common/log';
import { SqliteArenaStore } from '../../src/arena/sqlite/sqlite-store';
import { answerTurn } from './support/transcript';
import { ELO_JOB_SCHEMA } from '../../src/jobs/arena/elo-config';
import { runEloJob } from '../../src/jobs/arena/elo-job';
import { syntheticBattles } from './synthetic';

const SAMPLE = join(__dirname, '..', 'fixtures', 'arena', 'battles-sample.json');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'arena-elo-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function config(args: string[]): ReturnType<typeof parseConfig<typeof ELO_JOB_SCHEMA>> {
  return parseConfig(ELO_JOB_SCHEMA, args);
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

async function failure(promise: Promise<unknown>): Promise<FleetError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof FleetError) return err;
    throw err;
  }
  throw new Error('expected a FleetError');
}

describe('jobs elo', () => {
  it('rates the anonymous battles of a FastChat log and explains every dropped record', async () => {
    const out = join(dir, 'out');
    const { board, report } = await runEloJob(config(['--battles', SAMPLE, '--out', out, '--bootstrap', '20']), silentLogger());
    expect(report).toMatchObject({
      records_read: 10, battles_used: 6, dropped_total: 4, dropped: { invalid_json: 0, malformed: 2, named: 1, self_battle: 1 },
      malformed_fields: { winner: 1, model_a: 1 },
    });
    expect(report.examples.map((e) => [e.location, e.reason])).toEqual([['record 7', 'self_battle'], ['record 8', 'malformed'], ['record 9', 'malformed']]);
    expect(report.examples[1].detail).toMatch(/winner must be one of model_a, model_b, tie, tie \(bothbad\) \(got "leftvote"\)/);

    const written = readJson(join(out, 'leaderboard.json')) as { models: Array<Record<string, unknown>> };
    expect(written.models.map((m) => m.model).sort()).toEqual(['alpaca-13b', 'koala-13b', 'vicuna-13b']);
    for (const row of written.models) {
      expect(Object.keys(row)).toEqual(['model', 'rating', 'ci_low', 'ci_high', 'elo_online', 'battles', 'rank']);
      expect(row.battles).toBe(4);
    }
    expect(written).toEqual(JSON.parse(JSON.stringify(board)));
    const mean = board.models.reduce((s, r) => s + r.rating, 0) / 3;
    expect(mean).toBeCloseTo(1000, 6);
    // scores (ties count half): vicuna 3.5 of 4, koala 2 of 4, alpaca 0.5 of 4
    expect(board.models.map((m) => m.model)).toEqual(['vicuna-13b', 'koala-13b', 'alpaca-13b']);
    expect(readFileSync(join(out, 'leaderboard.md'), 'utf8')).toMatch(/^\| Rank \| Model \| Rating \| 95% CI \| Online Elo \| Battles \|/);
    const savedReport = readJson(join(out, 'report.json')) as { input: string; dropped_total: number };
    expect(savedReport).toMatchObject({ input: SAMPLE, dropped_total: 4 });
    for (const plot of ['ratings.svg', 'win-fraction.svg', 'battle-counts.svg']) {
      const svg = readFileSync(join(out, plot), 'utf8');
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      expect(svg.trim().endsWith('</svg>')).toBe(true);
      expect(svg).toContain('vicuna-13b');
    }
  });

  it('keeps named battles with --include-named', async () => {
    const { report, board } = await runEloJob(config(['--battles', SAMPLE, '--out', dir, '--include-named', '--bootstrap', '0']), silentLogger());
    expect(report.battles_used).toBe(7);
    expect(report.dropped.named).toBe(0);
    expect(board.models.find((m) => m.model === 'koala-13b')?.battles).toBe(5);
  });

  it('reads JSON lines, reporting a broken line and going on', async () => {
    const path = join(dir, 'battles.jsonl');
    const lines = syntheticBattles({ a: 1100, b: 1000, c: 900 }, 50, 3).map((b) => JSON.stringify({
      model_a: b.modelA, model_b: b.modelB, winner: b.winner, anony: true, tstamp: b.tstampS,
    }));
    lines.splice(2, 0, '{"model_a": "a", "model_b": ', '', '42');
    writeFileSync(path, `${lines.join('\n')}\n`);
    const { report } = await runEloJob(config(['--battles', path, '--out', dir, '--bootstrap', '5']), silentLogger());
    expect(report).toMatchObject({ records_read: 52, battles_used: 50, dropped: { invalid_json: 1, malformed: 1 }, malformed_fields: { record: 1 } });
    expect(report.examples.map((e) => e.location)).toEqual(['line 3', 'line 5']);
  });

  it('stops with a clear error on a JSON array that breaks off', async () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, readFileSync(SAMPLE, 'utf8').slice(0, 900));
    const err = await failure(runEloJob(config(['--battles', path, '--out', dir]), silentLogger()));
    expect(err.kind).toBe('invalid_request');
    expect(err.message).toMatch(/not a valid JSON array after record 0/);
  });

  it('reads the votes of an arena database with --db', async () => {
    const db = join(dir, 'arena.db');
    const store = await SqliteArenaStore.open({ path: db });
    for (const [winner, anony] of [['model_a', true], ['model_a', true], ['model_b', true], ['model_b', false]] as const) {
      const battle = await store.createBattle({ modelA: 'left-model', modelB: 'right-model', anony });
      await answerTurn(store, battle, 'q', ['a', 'a']);
      await store.recordBattleVote({ battleId: battle.id, winner, judgeId: 'arena_user_x' });
    }
    await store.close();
    const { board, report } = await runEloJob(config(['--db', db, '--out', join(dir, 'out'), '--bootstrap', '0']), silentLogger());
    expect(report).toMatchObject({ records_read: 4, battles_used: 3, dropped: { named: 1 } });
    const rating = Object.fromEntries(board.models.map((m) => [m.model, m.rating]));
    expect(rating['left-model'] - rating['right-model']).toBeCloseTo(400 * Math.log10(2), 3);
  });

  it('refuses missing or conflicting inputs with typed errors', async () => {
    expect((await failure(runEloJob(config(['--out', dir]), silentLogger()))).param).toBe('battles');
    expect((await failure(runEloJob(config(['--battles', SAMPLE, '--db', 'x.db', '--out', dir]), silentLogger()))).kind).toBe('invalid_request');
    expect((await failure(runEloJob(config(['--battles', SAMPLE]), silentLogger()))).param).toBe('out');
    expect((await failure(runEloJob(config(['--db', join(dir, 'none.db'), '--out', dir]), silentLogger()))).param).toBe('db');
    expect((await failure(runEloJob(config(['--battles', join(dir, 'none.json'), '--out', dir]), silentLogger()))).param).toBe('battles');
    expect((await failure(runEloJob(config(['--battles', SAMPLE, '--out', dir, '--anchor', 'gpt-9=1200']), silentLogger()))).param).toBe('anchor');
    expect(() => config(['--anchor', 'no-rating'])).toThrow(/expected MODEL=RATING/);
  });

  it('runs as `fleetchat jobs elo` and anchors with --anchor', async () => {
    const out = join(dir, 'cli');
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      await (await buildProgram()).exitOverride().parseAsync(
        ['jobs', 'elo', '--battles', SAMPLE, '--out', out, '--anchor', 'koala-13b=1200', '--bootstrap', '10', '--seed', '7', '--log-level', 'silent'],
        { from: 'user' },
      );
    } finally {
      write.mockRestore();
    }
    expect(lines.join('')).toMatch(/rated 3 models from 6 battles \(10 records read; dropped 2 malformed, 1 named, 1 self_battle\)/);
    const board = readJson(join(out, 'leaderboard.json')) as { models: Array<{ model: string; rating: number }>; seed: number };
    expect(board.models.find((m) => m.model === 'koala-13b')?.rating).toBeCloseTo(1200, 9);
    expect(board.seed).toBe(7);
  });
});
