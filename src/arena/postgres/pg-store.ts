/**
 * The ArenaStore on PostgreSQL (through `pg`), for several gateway replicas on one database. Every write is one
 * transaction that locks what it checks (the battle row, then its conversations — always in that order, so two
 * writers never deadlock); it resolves after COMMIT returned, which with PostgreSQL's default
 * `synchronous_commit = on` is after the WAL reached disk: a confirmed vote is durable. The schema is migrated at
 * open under an advisory lock. Credentials come from the URL or the usual libpq variables (PGPASSWORD, …).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { FleetError } from '../../common/errors';
import { parseBattleRecord, type BattleLogRecord, type ValidBattleRecord } from '../battle-log';
import type {
  ArenaBattle, ArenaConversation, ArenaCounts, ArenaStore, BattleVote, ExportOptions, Feedback, ImportReport,
  NewAnswer, NewBattle, NewBattleVote, NewConversation, NewFeedback, NewUserTurn,
} from '../store';
import {
  exportRecord, toBattle, toBattleVote, toConversation, toFeedback, toVoteRow,
  type BattleRow, type ConversationRow, type ExportRow,
} from '../store-rows';
import {
  answered, assertNotRevealed, liveVoteRecord, toFastChatConversation, userTurns, validAnswer, validUserContent, withAnswer, withUserTurn,
} from '../transcript';
import type { MigrationResult } from '../sqlite/migrations';
import {
  validFeedbackKind, validId, validJudgeId, validLanguage, validModelName, validOptionalJudgeId, validTstampS, validWinner,
} from '../validate';
import { migratePostgres } from './migrations';
import { redactUrl, toPgError } from './pg-errors';
import { battleParams, conversationParams, importRecord, insertVote, lockBattle, lockConversation, save } from './pg-rows';
import { SQL } from './pg-sql';

export interface PostgresArenaStoreOptions {
  /** `postgres://user[:password]@host[:port]/database[?sslmode=…]` */
  url: string;
  /** Connections in this process's pool. */
  maxConnections?: number;
  nowMs?: () => number;
}

type Client = pg.PoolClient;

const EXPORT_PAGE_ROWS = 500;
const IMPORT_CHUNK_RECORDS = 500;
const MAX_REPORTED_PROBLEMS = 100;
const INT8_OID = 20;

/** BIGINT columns (ids, milliseconds) as JavaScript numbers: all of them stay below 2^53. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown => {
    if (oid === INT8_OID) return Number;
    return pg.types.getTypeParser(oid, format ?? 'text') as unknown;
  }) as typeof pg.types.getTypeParser,
};

export class PostgresArenaStore implements ArenaStore {
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly nowMs: () => number,
    readonly migration: MigrationResult,
    readonly url: string,
  ) {}

  static async open(options: PostgresArenaStoreOptions): Promise<PostgresArenaStore> {
    const pool = new pg.Pool({ connectionString: options.url, max: options.maxConnections ?? 10, types: TYPES, connectionTimeoutMillis: 10_000 });
    pool.on('error', () => undefined); // an idle client lost its connection: the pool replaces it
    try {
      const client = await pool.connect();
      try {
        const migration = await migratePostgres(client);
        return new PostgresArenaStore(pool, options.nowMs ?? Date.now, migration, redactUrl(options.url));
      } finally {
        client.release();
      }
    } catch (err) {
      await pool.end().catch(() => undefined);
      if (err instanceof FleetError) throw err;
      throw new FleetError('unavailable', `cannot open arena database ${redactUrl(options.url)}: ${(err as Error).message}`, { cause: err });
    }
  }

  async createConversation(input: NewConversation): Promise<ArenaConversation> {
    const model = validModelName(input.model, 'model');
    const judgeId = validOptionalJudgeId(input.judgeId) ?? null;
    const sessionId = validOptionalJudgeId(input.sessionId) ?? null;
    const now = this.nowMs();
    const row: ConversationRow = { id: randomUUID(), model, battle_id: null, side: null, judge_id: judgeId, session_id: sessionId, messages_json: '[]', created_at_ms: now, updated_at_ms: now };
    await this.query(SQL.insertConversation, conversationParams(row));
    return toConversation(row);
  }

  async addUserTurn(input: NewUserTurn): Promise<ArenaConversation[]> {
    const content = validUserContent(input.content);
    return this.tx(async (c) => {
      const now = this.nowMs();
      let targets: ArenaConversation[];
      if ('battleId' in input) {
        const battle = await lockBattle(c, validId(input.battleId, 'battleId'));
        assertNotRevealed(toBattle(battle));
        const a = await lockConversation(c, battle.conversation_a_id);
        const b = await lockConversation(c, battle.conversation_b_id);
        if (a === undefined || b === undefined) throw new FleetError('invalid_request', `battle ${battle.id} was imported from a log and takes no new turns`);
        targets = [a, b];
      } else {
        targets = [await this.lockForAnswer(c, validId(input.conversationId, 'conversationId'))];
      }
      const out: ArenaConversation[] = [];
      for (const conversation of targets) out.push(await save(c, conversation, withUserTurn(conversation, content, now / 1000), now));
      return out;
    });
  }

  async appendAnswer(input: NewAnswer): Promise<ArenaConversation> {
    const id = validId(input.conversationId, 'conversationId');
    const answer = validAnswer(input.answer);
    return this.tx(async (c) => {
      const now = this.nowMs();
      const conversation = await this.lockForAnswer(c, id);
      return save(c, conversation, withAnswer(conversation, answer, input.replaceLast === true, now / 1000), now);
    });
  }

  async getConversation(conversationId: string): Promise<ArenaConversation | undefined> {
    const rows = await this.query<ConversationRow>(SQL.getConversation, [conversationId]);
    return rows[0] === undefined ? undefined : toConversation(rows[0]);
  }

  async createBattle(input: NewBattle): Promise<ArenaBattle> {
    const modelA = validModelName(input.modelA, 'modelA');
    const modelB = validModelName(input.modelB, 'modelB');
    if (modelA === modelB) throw new FleetError('invalid_request', 'a battle needs two different models', { param: 'modelB' });
    if (typeof input.anony !== 'boolean') throw new FleetError('invalid_request', 'anony must be true or false', { param: 'anony' });
    const judgeId = validOptionalJudgeId(input.judgeId) ?? null;
    const sessionId = validOptionalJudgeId(input.sessionId) ?? null;
    const now = this.nowMs();
    const [aId, bId] = [randomUUID(), randomUUID()];
    const row: BattleRow = {
      id: randomUUID(), question_id: aId, model_a: modelA, model_b: modelB, anony: input.anony ? 1 : 0, conversation_a_id: aId, conversation_b_id: bId,
      judge_id: judgeId, session_id: sessionId, created_at_ms: now, revealed_at_ms: null,
    };
    await this.tx(async (c) => {
      await c.query(SQL.insertBattle, battleParams(row));
      for (const [side, id, model] of [['a', aId, modelA], ['b', bId, modelB]] as const) {
        await c.query(SQL.insertConversation, conversationParams({
          id, model, battle_id: row.id, side, judge_id: judgeId, session_id: sessionId, messages_json: '[]', created_at_ms: now, updated_at_ms: now,
        }));
      }
    });
    return toBattle(row);
  }

  async getBattle(battleId: string): Promise<ArenaBattle | undefined> {
    const rows = await this.query<BattleRow>(SQL.getBattle, [battleId]);
    return rows[0] === undefined ? undefined : toBattle(rows[0]);
  }

  async recordBattleVote(input: NewBattleVote): Promise<BattleVote> {
    const vote = {
      battleId: validId(input.battleId, 'battleId'),
      winner: validWinner(input.winner),
      judgeId: validJudgeId(input.judgeId),
      language: validLanguage(input.language),
      tstampS: validTstampS(input.tstampS, this.nowMs() / 1000),
    };
    return this.tx(async (c) => {
      const battle = await lockBattle(c, vote.battleId);
      const a = await lockConversation(c, battle.conversation_a_id);
      const b = await lockConversation(c, battle.conversation_b_id);
      if (a === undefined || b === undefined) throw new FleetError('invalid_request', `battle ${battle.id} was imported from a log and takes no new votes`);
      const record = liveVoteRecord({ ...toBattle(battle), questionId: battle.question_id ?? undefined }, a, b, vote);
      await c.query(SQL.revealBattle, [Math.round(vote.tstampS * 1000), battle.id]);
      const id = await insertVote(c, battle.id, record);
      if (id === undefined) throw new FleetError('conflict', `battle ${battle.id} already has this vote`, { param: 'battleId' });
      return toBattleVote({ id, ...toVoteRow(battle.id, record) });
    });
  }

  async recordFeedback(input: NewFeedback): Promise<Feedback> {
    const conversationId = validId(input.conversationId, 'conversationId');
    const kind = validFeedbackKind(input.kind);
    const judgeId = validJudgeId(input.judgeId);
    const tstampS = validTstampS(input.tstampS, this.nowMs() / 1000);
    return this.tx(async (c) => {
      const conversation = await lockConversation(c, conversationId);
      if (conversation === undefined) throw new FleetError('not_found', `conversation ${conversationId} does not exist`, { param: 'conversationId' });
      if (!answered(conversation.messages)) throw new FleetError('invalid_request', 'the model has not answered yet', { param: 'conversationId' });
      const turn = userTurns(conversation.messages);
      const { rows } = await c.query<{ id: number }>(SQL.insertFeedback, [
        conversation.id, conversation.model, kind, turn, judgeId, tstampS, JSON.stringify(toFastChatConversation(conversation.messages)),
      ]);
      return toFeedback({ id: rows[0].id, conversation_id: conversation.id, model: conversation.model, kind, turn, judge_id: judgeId, tstamp_s: tstampS });
    });
  }

  async *exportBattleLog(options: ExportOptions = {}): AsyncIterable<BattleLogRecord> {
    let after = { s: -Infinity, id: 0 };
    for (;;) {
      const rows = await this.query<ExportRow>(SQL.exportPage, [after.s, after.id, options.sinceS ?? -Infinity, options.anonyOnly ? 1 : 0, EXPORT_PAGE_ROWS]);
      for (const row of rows) yield exportRecord(row, options.withoutConversations !== true);
      if (rows.length < EXPORT_PAGE_ROWS) return;
      const last = rows[rows.length - 1];
      after = { s: last.tstamp_s, id: last.id };
    }
  }

  async importBattleLog(records: AsyncIterable<unknown> | Iterable<unknown>): Promise<ImportReport> {
    const report: ImportReport = { read: 0, imported: 0, duplicates: 0, rejected: 0, problems: [] };
    let chunk: ValidBattleRecord[] = [];
    const flush = async (): Promise<void> => {
      const batch = chunk;
      chunk = [];
      if (batch.length === 0) return;
      await this.tx(async (c) => {
        for (const record of batch) {
          if (await importRecord(c, record)) report.imported++;
          else report.duplicates++;
        }
      });
    };
    for await (const value of records) {
      const index = report.read++;
      const parsed = parseBattleRecord(value);
      if (!parsed.ok) {
        report.rejected++;
        if (report.problems.length < MAX_REPORTED_PROBLEMS) report.problems.push({ index, problem: parsed.problem });
        continue;
      }
      chunk.push(parsed.record);
      if (chunk.length >= IMPORT_CHUNK_RECORDS) await flush();
    }
    await flush();
    return report;
  }

  async counts(): Promise<ArenaCounts> {
    const [row] = await this.query<Record<keyof ArenaCounts, number>>(SQL.counts, []);
    return { conversations: row.conversations, battles: row.battles, battleVotes: row.battleVotes, feedback: row.feedback };
  }

  async sharedSecret(name: string): Promise<string> {
    const key = validId(name, 'name');
    await this.query(SQL.insertSecret, [key, randomBytes(32).toString('hex'), this.nowMs()]);
    return (await this.query<{ value: string }>(SQL.getSecret, [key]))[0].value;
  }

  /** The pool, for tools that copy whole tables (`arena migrate`). */
  connect(): Promise<Client> {
    this.assertOpen();
    return this.pool.connect();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  /** Locks a conversation for a new message; a battle side locks its battle first and checks it is not revealed. */
  private async lockForAnswer(c: Client, id: string): Promise<ArenaConversation> {
    const owner = (await c.query<{ battle_id: string | null }>(SQL.battleOfConversation, [id])).rows[0];
    if (owner === undefined) throw new FleetError('not_found', `conversation ${id} does not exist`, { param: 'conversationId' });
    if (owner.battle_id !== null) assertNotRevealed(toBattle(await lockBattle(c, owner.battle_id)));
    const conversation = await lockConversation(c, id);
    if (conversation === undefined) throw new FleetError('not_found', `conversation ${id} does not exist`, { param: 'conversationId' });
    return conversation;
  }

  private assertOpen(): void {
    if (this.closed) throw new FleetError('unavailable', 'the arena store is closed');
  }

  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    this.assertOpen();
    try {
      return (await this.pool.query<R>(sql, params)).rows;
    } catch (err) {
      throw toPgError(err);
    }
  }

  /** Runs `work` in one transaction; resolves after COMMIT returned (durable), rolls back on any error. */
  private async tx<T>(work: (client: Client) => Promise<T>): Promise<T> {
    this.assertOpen();
    let client: Client;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw toPgError(err);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw toPgError(err);
    } finally {
      client.release(broken);
    }
  }
}
