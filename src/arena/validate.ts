/** Validation of what callers hand to an ArenaStore: bad input becomes `invalid_request` with the field named. */
import { FleetError } from '../common/errors';
import { isWinner, WINNERS, type Winner } from './battle-log';
import type { ArenaMessage, FeedbackKind, MessageRole } from './store';

const ROLES: readonly MessageRole[] = ['system', 'user', 'assistant'];
const FEEDBACK_KINDS: readonly FeedbackKind[] = ['upvote', 'downvote', 'flag'];
const MAX_NAME_CHARS = 256;

export function validModelName(value: unknown, param: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_NAME_CHARS) {
    throw new FleetError('invalid_request', `${param} must be a non-empty model name of at most ${MAX_NAME_CHARS} characters`, { param });
  }
  return value;
}

export function validJudgeId(value: unknown, param = 'judgeId'): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_NAME_CHARS) {
    throw new FleetError('invalid_request', `${param} must be a non-empty string of at most ${MAX_NAME_CHARS} characters`, { param });
  }
  return value;
}

export function validOptionalJudgeId(value: unknown): string | undefined {
  return value === undefined ? undefined : validJudgeId(value);
}

export function validMessages(value: unknown, param = 'messages'): ArenaMessage[] {
  if (!Array.isArray(value)) throw new FleetError('invalid_request', `${param} must be an array`, { param });
  return value.map((message: unknown, i) => {
    const m = message as Partial<Record<keyof ArenaMessage, unknown>> | null;
    if (typeof m !== 'object' || m === null || !ROLES.includes(m.role as MessageRole) || typeof m.content !== 'string') {
      throw new FleetError('invalid_request', `${param}[${i}] must be {role: system|user|assistant, content: string}`, { param: `${param}[${i}]` });
    }
    return { role: m.role as MessageRole, content: m.content };
  });
}

export function validWinner(value: unknown): Winner {
  if (!isWinner(value)) throw new FleetError('invalid_request', `winner must be one of ${WINNERS.join(', ')}`, { param: 'winner' });
  return value;
}

export function validFeedbackKind(value: unknown): FeedbackKind {
  if (!FEEDBACK_KINDS.includes(value as FeedbackKind)) {
    throw new FleetError('invalid_request', `kind must be one of ${FEEDBACK_KINDS.join(', ')}`, { param: 'kind' });
  }
  return value as FeedbackKind;
}

export function validTstampS(value: unknown, fallbackS: number): number {
  if (value === undefined) return fallbackS;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new FleetError('invalid_request', 'tstampS must be a non-negative number of seconds', { param: 'tstampS' });
  }
  return value;
}

export function validLanguage(value: unknown): string {
  if (value === undefined) return 'unknown';
  if (typeof value !== 'string' || value.trim() === '' || value.length > 64) {
    throw new FleetError('invalid_request', 'language must be a non-empty name such as English', { param: 'language' });
  }
  return value;
}

export function validId(value: unknown, param: string): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_NAME_CHARS) {
    throw new FleetError('invalid_request', `${param} must be a non-empty id`, { param });
  }
  return value;
}
