/** Arena request bodies and query strings into `Valid*` values; anything else is `invalid_request` naming the field. */
import { FleetError } from '../../common/errors';
import type { ExportOptions, FeedbackKind, Winner } from '../../arena/store';
import { validUserContent } from '../../arena/transcript';
import { validFeedbackKind, validModelName, validWinner } from '../../arena/validate';
import { asBody, invalid, optBool, rejectUnknown, reqString, type Body } from '../openai/fields';

export type Side = 'a' | 'b';

export type ValidNewBattle = { anony: true } | { anony: false; modelA: string; modelB: string };

export type BattleLogFormat = 'json' | 'jsonl';

export interface ValidExportQuery {
  format: BattleLogFormat;
  options: ExportOptions;
}

function body(raw: unknown, allowed: string[], endpoint: string): Body {
  const b = asBody(raw);
  rejectUnknown(b, new Set(allowed), endpoint);
  return b;
}

export function parseNewConversation(raw: unknown): { model: string } {
  const b = body(raw, ['model'], 'POST /arena/conversations');
  return { model: validModelName(reqString(b, 'model'), 'model') };
}

/** `{"message": "..."}`: the user's new message for both sides of a battle. */
export function parseUserMessage(raw: unknown, endpoint: string): string {
  const b = asBody(raw);
  if (b.messages !== undefined) {
    throw new FleetError('invalid_request', 'the server keeps the transcript: send only the new user message as `message`', { param: 'messages', code: 'client_transcript_refused' });
  }
  const toolField = ['tools', 'tool_choice', 'parallel_tool_calls', 'functions'].find((k) => b[k] !== undefined);
  if (toolField !== undefined) {
    throw new FleetError('invalid_request', `${toolField}: the arena compares plain chat answers; tools are not offered to arena models (use /v1/chat/completions for tool calling)`, { param: toolField, code: 'tools_not_supported' });
  }
  rejectUnknown(b, new Set(['message']), endpoint);
  return validUserContent(b.message);
}

export function parseFeedback(raw: unknown): FeedbackKind {
  const b = body(raw, ['kind'], 'POST /arena/conversations/{id}/feedback');
  return validFeedbackKind(b.kind);
}

/** `{}` or `{"anony": true}`: two random models; `{"anony": false, "model_a", "model_b"}`: named side by side. */
export function parseNewBattle(raw: unknown): ValidNewBattle {
  const b = body(raw ?? {}, ['anony', 'model_a', 'model_b'], 'POST /arena/battles');
  const anony = optBool(b, 'anony') ?? true;
  if (anony) {
    if (b.model_a !== undefined || b.model_b !== undefined) throw invalid(b.model_a !== undefined ? 'model_a' : 'model_b', 'an anonymous battle picks its models itself; set anony to false to name them');
    return { anony: true };
  }
  const modelA = validModelName(reqString(b, 'model_a'), 'model_a');
  const modelB = validModelName(reqString(b, 'model_b'), 'model_b');
  if (modelA === modelB) throw invalid('model_b', 'must differ from model_a');
  return { anony: false, modelA, modelB };
}

export function parseVote(raw: unknown): Winner {
  const b = body(raw, ['winner'], 'POST /arena/battles/{id}/votes');
  return validWinner(b.winner);
}

export function parseSide(value: string): Side {
  if (value !== 'a' && value !== 'b') throw new FleetError('not_found', `a battle has sides a and b, not '${value}'`, { param: 'side' });
  return value;
}

function queryBool(query: Record<string, string | undefined>, key: string): boolean | undefined {
  const v = query[key];
  if (v === undefined) return undefined;
  if (['1', 'true', 'yes'].includes(v)) return true;
  if (['0', 'false', 'no'].includes(v)) return false;
  throw invalid(key, `must be true or false, got '${v}'`);
}

function queryRecord(raw: unknown, allowed: string[], endpoint: string): Record<string, string | undefined> {
  const q = (raw ?? {}) as Record<string, unknown>;
  rejectUnknown(q, new Set(allowed), endpoint);
  for (const [key, value] of Object.entries(q)) if (typeof value !== 'string') throw invalid(key, 'must be given once');
  return q as Record<string, string | undefined>;
}

/** `?format=json|jsonl&anony_only=true&simple=true&since=UNIX_SECONDS` */
export function parseExportQuery(raw: unknown): ValidExportQuery {
  const q = queryRecord(raw, ['format', 'anony_only', 'simple', 'since'], 'GET /arena/battle-log');
  const format = q.format ?? 'json';
  if (format !== 'json' && format !== 'jsonl') throw invalid('format', `must be json or jsonl, got '${format}'`);
  const since = q.since === undefined ? undefined : Number(q.since);
  if (since !== undefined && (!Number.isFinite(since) || since < 0)) throw invalid('since', 'must be a Unix time in seconds');
  return { format, options: { anonyOnly: queryBool(q, 'anony_only') ?? false, withoutConversations: queryBool(q, 'simple') ?? false, sinceS: since } };
}

/**
 * `?include_named=true` also rates battles whose judge saw the names (default: anonymous battles only);
 * `?style_control=true` adds the style-controlled ratings (and the SVG plots them).
 */
export function parseLeaderboardQuery(raw: unknown, endpoint: string): { includeNamed: boolean; styleControl: boolean } {
  const q = queryRecord(raw, ['include_named', 'style_control'], endpoint);
  return { includeNamed: queryBool(q, 'include_named') ?? false, styleControl: queryBool(q, 'style_control') ?? false };
}
