/** The prepared statements of the SQLite arena store, compiled once per connection. */
import type { Database, Statement } from 'better-sqlite3';

export interface Statements {
  insertConversation: Statement;
  updateMessages: Statement;
  revealBattle: Statement;
  insertSecret: Statement;
  getSecret: Statement;
  getConversation: Statement;
  insertBattle: Statement;
  getBattle: Statement;
  findImportedBattle: Statement;
  voteAtTurn: Statement;
  voteByKey: Statement;
  insertVote: Statement;
  getVote: Statement;
  insertFeedback: Statement;
  getFeedback: Statement;
  exportPage: Statement;
  counts: Statement;
}

export function prepareStatements(db: Database): Statements {
  return {
    insertConversation: db.prepare(`INSERT INTO conversations (id, model, battle_id, side, judge_id, session_id, messages_json, created_at_ms, updated_at_ms)
      VALUES (@id, @model, @battle_id, @side, @judge_id, @session_id, @messages_json, @created_at_ms, @updated_at_ms)`),
    updateMessages: db.prepare('UPDATE conversations SET messages_json = ?, updated_at_ms = ? WHERE id = ?'),
    getConversation: db.prepare('SELECT * FROM conversations WHERE id = ?'),
    insertBattle: db.prepare(`INSERT INTO battles
      (id, question_id, model_a, model_b, anony, conversation_a_id, conversation_b_id, judge_id, session_id, created_at_ms, revealed_at_ms)
      VALUES (@id, @question_id, @model_a, @model_b, @anony, @conversation_a_id, @conversation_b_id, @judge_id, @session_id, @created_at_ms, @revealed_at_ms)`),
    revealBattle: db.prepare('UPDATE battles SET revealed_at_ms = ? WHERE id = ? AND revealed_at_ms IS NULL'),
    insertSecret: db.prepare('INSERT OR IGNORE INTO shared_secrets (name, value, created_at_ms) VALUES (?, ?, ?)'),
    getSecret: db.prepare('SELECT value FROM shared_secrets WHERE name = ?'),
    getBattle: db.prepare('SELECT * FROM battles WHERE id = ?'),
    findImportedBattle: db.prepare(`SELECT id FROM battles
      WHERE question_id = ? AND model_a = ? AND model_b = ? AND anony = ? AND conversation_a_id IS NULL LIMIT 1`),
    voteAtTurn: db.prepare('SELECT id FROM battle_votes WHERE battle_id = ? AND turn = ? LIMIT 1'),
    voteByKey: db.prepare('SELECT id FROM battle_votes WHERE record_key = ?'),
    insertVote: db.prepare(`INSERT INTO battle_votes
      (battle_id, winner, turn, judge_id, language, tstamp_s, conversation_a_json, conversation_b_json, extra_json, record_key)
      VALUES (@battle_id, @winner, @turn, @judge_id, @language, @tstamp_s, @conversation_a_json, @conversation_b_json, @extra_json, @record_key)`),
    getVote: db.prepare('SELECT * FROM battle_votes WHERE id = ?'),
    insertFeedback: db.prepare(`INSERT INTO feedback (conversation_id, model, kind, turn, judge_id, tstamp_s, conversation_json)
      VALUES (@conversation_id, @model, @kind, @turn, @judge_id, @tstamp_s, @conversation_json)`),
    getFeedback: db.prepare('SELECT * FROM feedback WHERE id = ?'),
    exportPage: db.prepare(`SELECT v.*, b.question_id, b.model_a, b.model_b, b.anony
      FROM battle_votes v JOIN battles b ON b.id = v.battle_id
      WHERE (v.tstamp_s > @after_s OR (v.tstamp_s = @after_s AND v.id > @after_id))
        AND v.tstamp_s >= @since_s AND (@anony_only = 0 OR b.anony = 1)
      ORDER BY v.tstamp_s, v.id LIMIT @limit`),
    counts: db.prepare(`SELECT
      (SELECT COUNT(*) FROM conversations) AS conversations,
      (SELECT COUNT(*) FROM battles) AS battles,
      (SELECT COUNT(*) FROM battle_votes) AS battleVotes,
      (SELECT COUNT(*) FROM feedback) AS feedback`),
  };
}
