/**
 * Versioned schema of the SQLite arena store. Each migration is applied once, in order, inside one
 * `BEGIN IMMEDIATE` transaction together with its row in `schema_version`; a database written by a newer fleetchat
 * (a version this build does not know) is refused rather than guessed at.
 */
import type { Database } from 'better-sqlite3';
import { FleetError } from '../../common/errors';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'conversations, battles, battle votes, feedback',
    sql: `
      CREATE TABLE battles (
        id TEXT PRIMARY KEY,
        question_id TEXT,
        model_a TEXT NOT NULL,
        model_b TEXT NOT NULL,
        anony INTEGER NOT NULL CHECK (anony IN (0, 1)),
        conversation_a_id TEXT,
        conversation_b_id TEXT,
        judge_id TEXT,
        created_at_ms INTEGER NOT NULL
      );
      CREATE INDEX battles_question ON battles (question_id, model_a, model_b, anony);

      CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        model TEXT NOT NULL,
        battle_id TEXT REFERENCES battles (id),
        side TEXT CHECK (side IN ('a', 'b')),
        judge_id TEXT,
        messages_json TEXT NOT NULL DEFAULT '[]',
        created_at_ms INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL
      );

      CREATE TABLE battle_votes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        battle_id TEXT NOT NULL REFERENCES battles (id),
        winner TEXT NOT NULL CHECK (winner IN ('model_a', 'model_b', 'tie', 'tie (bothbad)')),
        turn INTEGER,
        judge_id TEXT,
        language TEXT,
        tstamp_s REAL NOT NULL,
        conversation_a_json TEXT,
        conversation_b_json TEXT,
        extra_json TEXT,
        record_key TEXT UNIQUE
      );
      CREATE INDEX battle_votes_time ON battle_votes (tstamp_s, id);
      CREATE INDEX battle_votes_battle_turn ON battle_votes (battle_id, turn);

      CREATE TABLE feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id TEXT NOT NULL REFERENCES conversations (id),
        model TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('upvote', 'downvote', 'flag')),
        turn INTEGER NOT NULL,
        judge_id TEXT NOT NULL,
        tstamp_s REAL NOT NULL,
        conversation_json TEXT NOT NULL
      );
      CREATE INDEX feedback_time ON feedback (tstamp_s, id);
    `,
  },
  {
    version: 2,
    description: 'server-kept transcripts: sessions own conversations and battles, a vote reveals its battle, shared secrets',
    sql: `
      ALTER TABLE conversations ADD COLUMN session_id TEXT;
      ALTER TABLE battles ADD COLUMN session_id TEXT;
      ALTER TABLE battles ADD COLUMN revealed_at_ms INTEGER;
      UPDATE battles SET revealed_at_ms = (SELECT CAST(MIN(v.tstamp_s) * 1000 AS INTEGER) FROM battle_votes v WHERE v.battle_id = battles.id)
        WHERE conversation_a_id IS NOT NULL;
      CREATE TABLE shared_secrets (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL
      );
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export interface MigrationResult {
  from: number;
  to: number;
  applied: number[];
}

function currentVersion(db: Database): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at_ms INTEGER NOT NULL
  )`);
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_version').get() as { version: number | null };
  return row.version ?? 0;
}

/** Brings the schema up to date (or to `target`) in one transaction; pure SQL, no other I/O. */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS, nowMs: () => number = Date.now): MigrationResult {
  const run = db.transaction((): MigrationResult => {
    const from = currentVersion(db);
    const known = migrations.length === 0 ? 0 : migrations[migrations.length - 1].version;
    if (from > known) {
      throw new FleetError('internal', `arena database schema version ${from} is newer than this fleetchat understands (${known}): upgrade fleetchat`);
    }
    const applied: number[] = [];
    const insert = db.prepare('INSERT INTO schema_version (version, description, applied_at_ms) VALUES (?, ?, ?)');
    for (const migration of migrations) {
      if (migration.version <= from) continue;
      db.exec(migration.sql);
      insert.run(migration.version, migration.description, nowMs());
      applied.push(migration.version);
    }
    return { from, to: applied.length > 0 ? applied[applied.length - 1] : from, applied };
  });
  return run.immediate();
}
