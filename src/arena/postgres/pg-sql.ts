/** The SQL of the PostgreSQL arena store (row shapes as in `store-rows`). */
export const SQL = {
  insertConversation: `INSERT INTO conversations (id, model, battle_id, side, judge_id, session_id, messages_json, created_at_ms, updated_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
  getConversation: 'SELECT * FROM conversations WHERE id = $1',
  lockConversation: 'SELECT * FROM conversations WHERE id = $1 FOR UPDATE',
  battleOfConversation: 'SELECT battle_id FROM conversations WHERE id = $1',
  updateMessages: 'UPDATE conversations SET messages_json = $1, updated_at_ms = $2 WHERE id = $3',
  insertBattle: `INSERT INTO battles
    (id, question_id, model_a, model_b, anony, conversation_a_id, conversation_b_id, judge_id, session_id, created_at_ms, revealed_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
  getBattle: 'SELECT * FROM battles WHERE id = $1',
  lockBattle: 'SELECT * FROM battles WHERE id = $1 FOR UPDATE',
  revealBattle: 'UPDATE battles SET revealed_at_ms = $1 WHERE id = $2 AND revealed_at_ms IS NULL',
  findImportedBattle: `SELECT id FROM battles
    WHERE question_id = $1 AND model_a = $2 AND model_b = $3 AND anony = $4 AND conversation_a_id IS NULL LIMIT 1`,
  insertVote: `INSERT INTO battle_votes
    (battle_id, winner, turn, judge_id, language, tstamp_s, conversation_a_json, conversation_b_json, extra_json, record_key)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (record_key) DO NOTHING RETURNING id`,
  voteByKey: 'SELECT id FROM battle_votes WHERE record_key = $1',
  insertFeedback: `INSERT INTO feedback (conversation_id, model, kind, turn, judge_id, tstamp_s, conversation_json)
    VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
  exportPage: `SELECT v.*, b.question_id, b.model_a, b.model_b, b.anony
    FROM battle_votes v JOIN battles b ON b.id = v.battle_id
    WHERE (v.tstamp_s > $1 OR (v.tstamp_s = $1 AND v.id > $2))
      AND v.tstamp_s >= $3 AND ($4 = 0 OR b.anony = 1)
    ORDER BY v.tstamp_s, v.id LIMIT $5`,
  counts: `SELECT
    (SELECT COUNT(*) FROM conversations) AS conversations,
    (SELECT COUNT(*) FROM battles) AS battles,
    (SELECT COUNT(*) FROM battle_votes) AS "battleVotes",
    (SELECT COUNT(*) FROM feedback) AS feedback`,
  insertSecret: 'INSERT INTO shared_secrets (name, value, created_at_ms) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING',
  getSecret: 'SELECT value FROM shared_secrets WHERE name = $1',
} as const;
