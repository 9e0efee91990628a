/**
 * The embedded ArenaStore: one SQLite file through better-sqlite3, WAL journal, `synchronous=FULL` (a committed
 * vote survives a power cut), foreign keys on, a busy timeout for other processes holding the write lock, and the
 * schema migrated at open. Writes go through a group commit; reads are direct. One process may own several
 * connections to the same file (e.g. the gateway and an `jobs elo --db` run); several gateway replicas share a
 * PostgreSQL database instead (`PostgresArenaStore`).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { FleetError } from '../../common/errors';
import { parseBattleRecord, type BattleLogRecord } from '../battle-log';
import type {
  ArenaBattle, ArenaConversation, ArenaCounts, ArenaStore, BattleVote, ExportOptions, Feedback, ImportReport,
  NewAnswer, NewBattle, NewBattleVote, NewConversation, NewFeedback, NewUserTurn,
} from '../store';
import { exportRecord, toBattle, toConversation, type BattleRow, type ConversationRow, type ExportRow } from '../store-rows';
import { validAnswer, validUserContent } from '../transcript';
import {
  validFeedbackKind, validId, validJudgeId, validLanguage, validModelName, validOptionalJudgeId, validTstampS, validWinner,
} from '../validate';
import { GroupCommit, type WriteOp } from './group-commit';
import { migrate, type MigrationResult } from './migrations';
import { toStoreError } from './sqlite-errors';
import { prepareStatements, type Statements } from './statements';
import { addUserTurn, appendAnswer, importRecord, insertBattle, insertBattleVote, insertConversation, insertFeedback } from './writes';
import { randomBytes } from 'node:crypto';

export interface SqliteArenaStoreOptions {
  /** Database file; created with its directory when missing. `:memory:` for a throwaway store. */
  path: string;
  /** How long a write waits for another connection's lock before failing with `unavailable`. */
  busyTimeoutMs?: number;
  /** Clock (tests). */
  nowMs?: () => number;
}

const EXPORT_PAGE_ROWS = 500;
const IMPORT_CHUNK_RECORDS = 500;
const MAX_REPORTED_PROBLEMS = 100;

export class SqliteArenaStore implements ArenaStore {
  private readonly statements: Statements;
  private readonly writes: GroupCommit;
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    private readonly nowMs: () => number,
    readonly migration: MigrationResult,
  ) {
    this.statements = prepareStatements(db);
    this.writes = new GroupCommit(db, 512, toStoreError);
  }

  /** Opens (creating when needed) and migrates the database. */
  static async open(options: SqliteArenaStoreOptions): Promise<SqliteArenaStore> {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    let db: Database.Database | undefined;
    try {
      db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      const migration = migrate(db);
      return new SqliteArenaStore(db, options.nowMs ?? Date.now, migration);
    } catch (err) {
      db?.close();
      if (err instanceof FleetError) throw err;
      throw new FleetError('unavailable', `cannot open arena database ${options.path}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** The journal mode and synchronous level in force (for checks and diagnostics). */
  durability(): { journalMode: string; synchronous: number } {
    return {
      journalMode: this.db.pragma('journal_mode', { simple: true }) as string,
      synchronous: this.db.pragma('synchronous', { simple: true }) as number,
    };
  }

  async createConversation(input: NewConversation): Promise<ArenaConversation> {
    const model = validModelName(input.model, 'model');
    const judgeId = validOptionalJudgeId(input.judgeId);
    const sessionId = validOptionalJudgeId(input.sessionId);
    return this.write(() => insertConversation(this.statements, { model, judgeId, sessionId }, this.nowMs()));
  }

  async addUserTurn(input: NewUserTurn): Promise<ArenaConversation[]> {
    const content = validUserContent(input.content);
    const turn: NewUserTurn = 'battleId' in input
      ? { battleId: validId(input.battleId, 'battleId'), content }
      : { conversationId: validId(input.conversationId, 'conversationId'), content };
    return this.write(() => addUserTurn(this.statements, turn, this.nowMs()));
  }

  async appendAnswer(input: NewAnswer): Promise<ArenaConversation> {
    const valid: NewAnswer = { conversationId: validId(input.conversationId, 'conversationId'), answer: validAnswer(input.answer), replaceLast: input.replaceLast === true };
    return this.write(() => appendAnswer(this.statements, valid, this.nowMs()));
  }

  async getConversation(conversationId: string): Promise<ArenaConversation | undefined> {
    this.assertOpen();
    const row = this.statements.getConversation.get(conversationId) as ConversationRow | undefined;
    return row === undefined ? undefined : toConversation(row);
  }

  async createBattle(input: NewBattle): Promise<ArenaBattle> {
    const modelA = validModelName(input.modelA, 'modelA');
    const modelB = validModelName(input.modelB, 'modelB');
    if (modelA === modelB) throw new FleetError('invalid_request', 'a battle needs two different models', { param: 'modelB' });
    if (typeof input.anony !== 'boolean') throw new FleetError('invalid_request', 'anony must be true or false', { param: 'anony' });
    const judgeId = validOptionalJudgeId(input.judgeId);
    const sessionId = validOptionalJudgeId(input.sessionId);
    return this.write(() => insertBattle(this.statements, { modelA, modelB, anony: input.anony, judgeId, sessionId }, this.nowMs()));
  }

  async getBattle(battleId: string): Promise<ArenaBattle | undefined> {
    this.assertOpen();
    const row = this.statements.getBattle.get(battleId) as BattleRow | undefined;
    return row === undefined ? undefined : toBattle(row);
  }

  async recordBattleVote(input: NewBattleVote): Promise<BattleVote> {
    const vote = {
      battleId: validId(input.battleId, 'battleId'),
      winner: validWinner(input.winner),
      judgeId: validJudgeId(input.judgeId),
      language: validLanguage(input.language),
      tstampS: validTstampS(input.tstampS, this.nowMs() / 1000),
    };
    return this.write(() => insertBattleVote(this.statements, vote));
  }

  async recordFeedback(input: NewFeedback): Promise<Feedback> {
    const feedback = {
      conversationId: validId(input.conversationId, 'conversationId'),
      kind: validFeedbackKind(input.kind),
      judgeId: validJudgeId(input.judgeId),
      tstampS: validTstampS(input.tstampS, this.nowMs() / 1000),
    };
    return this.write(() => insertFeedback(this.statements, feedback));
  }

  async *exportBattleLog(options: ExportOptions = {}): AsyncIterable<BattleLogRecord> {
    let after = { s: -Infinity, id: 0 };
    for (;;) {
      this.assertOpen();
      const rows = this.statements.exportPage.all({
        after_s: after.s, after_id: after.id, since_s: options.sinceS ?? -Infinity, anony_only: options.anonyOnly ? 1 : 0, limit: EXPORT_PAGE_ROWS,
      }) as ExportRow[];
      for (const row of rows) yield exportRecord(row, options.withoutConversations !== true);
      if (rows.length < EXPORT_PAGE_ROWS) return;
      const last = rows[rows.length - 1];
      after = { s: last.tstamp_s, id: last.id };
    }
  }

  async importBattleLog(records: AsyncIterable<unknown> | Iterable<unknown>): Promise<ImportReport> {
    const report: ImportReport = { read: 0, imported: 0, duplicates: 0, rejected: 0, problems: [] };
    let chunk: Array<Promise<void>> = [];
    for await (const value of records) {
      const index = report.read++;
      const parsed = parseBattleRecord(value);
      if (!parsed.ok) {
        report.rejected++;
        if (report.problems.length < MAX_REPORTED_PROBLEMS) report.problems.push({ index, problem: parsed.problem });
        continue;
      }
      chunk.push(this.write(() => importRecord(this.statements, parsed.record)).then((outcome) => {
        if (outcome === 'imported') report.imported++;
        else report.duplicates++;
      }));
      if (chunk.length >= IMPORT_CHUNK_RECORDS) {
        await Promise.all(chunk);
        chunk = [];
      }
    }
    await Promise.all(chunk);
    return report;
  }

  async counts(): Promise<ArenaCounts> {
    this.assertOpen();
    return this.statements.counts.get() as ArenaCounts;
  }

  async sharedSecret(name: string): Promise<string> {
    const key = validId(name, 'name');
    return this.write(() => {
      this.statements.insertSecret.run(key, randomBytes(32).toString('hex'), this.nowMs());
      return (this.statements.getSecret.get(key) as { value: string }).value;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writes.idle();
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new FleetError('unavailable', 'the arena store is closed');
  }

  private write<T>(op: WriteOp<T>): Promise<T> {
    this.assertOpen();
    return this.writes.run(op);
  }
}
