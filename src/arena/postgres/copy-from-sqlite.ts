/**
 * `fleetchat arena migrate`: copies a SQLite arena (both migrated to the latest schema first) into PostgreSQL, table
 * by table in foreign-key order, rows and ids unchanged, in ONE transaction — all or nothing — and idempotently
 * (rows already there are skipped, so a second run copies nothing). The identity sequences are moved past the
 * copied ids, and the judge secret kept next to the SQLite file becomes the database's shared judge secret, so every
 * judge keeps the same pseudonym.
 */
import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { FleetError } from '../../common/errors';
import { JUDGE_SECRET_NAME } from '../judge-id';
import { SqliteArenaStore } from '../sqlite/sqlite-store';
import { PostgresArenaStore } from './pg-store';
import { toPgError } from './pg-errors';

/** Parents before children. */
const TABLES = ['battles', 'conversations', 'battle_votes', 'feedback', 'shared_secrets'] as const;
const IDENTITY_TABLES = ['battle_votes', 'feedback'] as const;
const PAGE_ROWS = 500;

export interface TableCopy {
  read: number;
  inserted: number;
}

export interface CopyReport {
  tables: Record<(typeof TABLES)[number], TableCopy>;
  /** What happened to `<sqlite>.judge-secret`. */
  judgeSecret: 'copied' | 'already-there' | 'differs-kept-database' | 'none';
}

function sqliteColumns(db: Database.Database, table: string): string[] {
  return (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name);
}

export async function copySqliteToPostgres(sqlitePath: string, postgresUrl: string): Promise<CopyReport> {
  if (!existsSync(sqlitePath)) throw new FleetError('invalid_request', `no SQLite arena database at ${sqlitePath}`, { param: 'from' });
  await (await SqliteArenaStore.open({ path: sqlitePath })).close(); // brings the file to the latest schema
  const target = await PostgresArenaStore.open({ url: postgresUrl });
  const source = new Database(sqlitePath, { readonly: true });
  const client = await target.connect();
  try {
    await client.query('BEGIN');
    const tables = {} as CopyReport['tables'];
    for (const table of TABLES) {
      const columns = sqliteColumns(source, table);
      const copy: TableCopy = { read: 0, inserted: 0 };
      const select = source.prepare(`SELECT ${columns.join(', ')} FROM ${table} ORDER BY rowid LIMIT ? OFFSET ?`);
      for (let offset = 0; ; offset += PAGE_ROWS) {
        const rows = select.all(PAGE_ROWS, offset) as Array<Record<string, unknown>>;
        if (rows.length === 0) break;
        const values: unknown[] = [];
        const tuples = rows.map((row) => `(${columns.map((c) => `$${values.push(row[c])}`).join(', ')})`);
        const result = await client.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`, values);
        copy.read += rows.length;
        copy.inserted += result.rowCount ?? 0;
      }
      tables[table] = copy;
    }
    for (const table of IDENTITY_TABLES) {
      await client.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), GREATEST((SELECT MAX(id) FROM ${table}), 1))`);
    }
    const judgeSecret = await copyJudgeSecret(client, `${sqlitePath}.judge-secret`);
    await client.query('COMMIT');
    return { tables, judgeSecret };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw toPgError(err);
  } finally {
    client.release();
    source.close();
    await target.close();
  }
}

async function copyJudgeSecret(client: { query: PostgresClientQuery }, path: string): Promise<CopyReport['judgeSecret']> {
  if (!existsSync(path)) return 'none';
  const secret = readFileSync(path, 'utf8').trim();
  const inserted = await client.query('INSERT INTO shared_secrets (name, value, created_at_ms) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [JUDGE_SECRET_NAME, secret, Date.now()]);
  if ((inserted.rowCount ?? 0) === 1) return 'copied';
  const existing = await client.query('SELECT value FROM shared_secrets WHERE name = $1', [JUDGE_SECRET_NAME]);
  return (existing.rows[0] as { value: string }).value === secret ? 'already-there' : 'differs-kept-database';
}

type PostgresClientQuery = (sql: string, params?: unknown[]) => Promise<{ rowCount: number | null; rows: unknown[] }>;
