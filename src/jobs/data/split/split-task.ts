/**
 * split-long for one record (FastChat's split_long_conversation.py, exact): the target model's tokenizer and
 * template measure every sample, instead of FastChat's "+6 tokens per turn" guess. Rounds are kept whole and in
 * order; samples are named `<id>_<first turn index>` with FastChat's `model` field. Nothing is lost silently: an
 * odd last turn, a split, and a round that cannot fit on its own (truncated, dropped or kept long, by
 * `onOverflow`) are all reported.
 */
import { encodePrompt, renderChat } from '../../../chat';
import { FleetError } from '../../../common/errors';
import { serializeRecord, type OutputFormat } from '../../io/record-format';
import { droppedResult, type RecordResult, type ResultEvent } from '../record-result';
import { checkShareGpt, recordLabel, rolesAlternate, type ShareGptTurn, type ValidShareGpt } from '../sharegpt';
import type { ChatContext, ChatMessage } from '../tokenize/sft-encode';
import { planSplit, type SplitMeasures } from './split-plan';

export type OverflowPolicy = 'truncate' | 'drop' | 'keep';

export interface SplitOptions {
  maxLength: number;
  onOverflow: OverflowPolicy;
}

function messagesOf(turns: readonly ShareGptTurn[]): ChatMessage[] {
  return turns.map((t) => ({ role: t.from === 'human' ? 'user' : 'assistant', content: t.value }));
}

/** Exact prompt length in tokens of these turns rendered as one sample. */
function exactTokens(ctx: ChatContext, turns: readonly ShareGptTurn[]): number {
  return encodePrompt(ctx.tokenizer, renderChat(ctx.selection, { messages: messagesOf(turns), addGenerationPrompt: false })).length;
}

/** Token counting for the planner. Per-turn counts (for estimates) are only computed when asked for. */
function measuresFor(ctx: ChatContext, turns: readonly ShareGptTurn[]): SplitMeasures {
  const rounds = turns.length / 2;
  const cache = new Map<string, number>();
  const exact = (a: number, b: number): number => {
    const key = `${a}:${b}`;
    let n = cache.get(key);
    if (n === undefined) {
      n = exactTokens(ctx, turns.slice(2 * a, 2 * b));
      cache.set(key, n);
    }
    return n;
  };
  let calibration: { valueTokens: number[]; base: number; perRound: number } | undefined;
  const values = (tokens: number[], a: number, b: number): number => {
    let sum = 0;
    for (let t = 2 * a; t < 2 * b; t++) sum += tokens[t];
    return sum;
  };
  const calibrate = () => {
    const valueTokens = turns.map((t) => ctx.tokenizer.encode(t.value).length);
    const first = exact(0, 1);
    const perRound = rounds > 1 ? (exact(0, rounds) - first - values(valueTokens, 1, rounds)) / (rounds - 1) : 0;
    return { valueTokens, perRound, base: first - values(valueTokens, 0, 1) - perRound };
  };
  return {
    rounds,
    exact,
    estimate: (a, b) => {
      calibration ??= calibrate();
      return calibration.base + values(calibration.valueTokens, a, b) + calibration.perRound * (b - a);
    },
    // Tokens can merge across each value boundary (two per turn) and the per-round overhead is an average.
    slack: (a, b) => 6 * (b - a) + 8,
  };
}

/** A prefix of the reply that lets the round fit (cut at a token boundary), or undefined when none does. */
function truncateRound(ctx: ChatContext, round: readonly ShareGptTurn[], tokens: number, maxLength: number): ShareGptTurn[] | undefined {
  const replyIds = ctx.tokenizer.encode(round[1].value);
  let keep = replyIds.length - (tokens - maxLength);
  while (keep > 0) {
    const text = ctx.tokenizer.decode(replyIds.slice(0, keep)).replace(/\uFFFD+$/, '').trimEnd();
    if (text === '') return undefined;
    const truncated: ShareGptTurn[] = [round[0], { ...round[1], value: text }];
    const over = exactTokens(ctx, truncated) - maxLength;
    if (over <= 0) return truncated;
    keep -= Math.max(1, over);
  }
  return undefined;
}

/** The plan, verified window by window with exact counts; re-planned with exact counts only if an estimate misled. */
function exactPlan(measures: SplitMeasures, maxLength: number) {
  // Most conversations fit whole: one exact count, no estimates.
  if (measures.exact(0, measures.rounds) <= maxLength) return { windows: [[0, measures.rounds]] as Array<[number, number]>, overflowing: [] };
  const plan = planSplit(measures, maxLength);
  if (plan.windows.every(([a, b]) => measures.exact(a, b) <= maxLength)) return plan;
  return planSplit({ ...measures, slack: () => Number.POSITIVE_INFINITY }, maxLength);
}

function sample(record: ValidShareGpt, id: string, startTurn: number, turns: readonly ShareGptTurn[]): Record<string, unknown> {
  return { id: `${id}_${startTurn}`, model: record.model ?? '', conversations: turns };
}

export function splitRecord(value: unknown, index: number, ctx: ChatContext, options: SplitOptions, format: OutputFormat): RecordResult {
  try {
    return splitChecked(value, index, ctx, options, format);
  } catch (err) {
    if (err instanceof FleetError) return droppedResult(index, recordLabel(value, index), 'template_error', err.message);
    throw err;
  }
}

function splitChecked(value: unknown, index: number, ctx: ChatContext, options: SplitOptions, format: OutputFormat): RecordResult {
  const id = recordLabel(value, index);
  const checked = checkShareGpt(value);
  if (!checked.ok) return droppedResult(index, id, 'invalid_format', checked.detail);
  const { record } = checked;
  const events: ResultEvent[] = [];
  let turns = record.conversations;
  if (turns.length % 2 === 1) {
    events.push({ action: 'changed', reason: 'odd_turn_removed', detail: `turn ${turns.length - 1} (${turns[turns.length - 1].from}) has no answer` });
    turns = turns.slice(0, -1);
  }
  if (turns.length < 2) return { index, id, outputs: [], events: [...events, { action: 'dropped', reason: 'too_short', detail: 'no complete round' }] };
  if (!rolesAlternate(turns)) return droppedResult(index, id, 'wrong_format', 'roles do not alternate human, gpt');
  const plan = exactPlan(measuresFor(ctx, turns), options.maxLength);
  const pieces: Array<{ start: number; turns: readonly ShareGptTurn[] }> = plan.windows.map(([a, b]) => ({ start: a, turns: turns.slice(2 * a, 2 * b) }));
  for (const { round, tokens } of plan.overflowing) {
    const original = turns.slice(2 * round, 2 * round + 2);
    const detail = `round ${round} is ${tokens} tokens > --max-length ${options.maxLength}`;
    const truncated = options.onOverflow === 'truncate' ? truncateRound(ctx, original, tokens, options.maxLength) : undefined;
    if (options.onOverflow === 'keep') pieces.push({ start: round, turns: original });
    if (truncated) pieces.push({ start: round, turns: truncated });
    const reason = options.onOverflow === 'keep' ? 'round_over_max_length' : truncated ? 'round_truncated' : 'round_dropped_too_long';
    events.push({ action: 'changed', reason, detail });
  }
  pieces.sort((x, y) => x.start - y.start);
  if (pieces.length === 0) return { index, id, outputs: [], events: [...events, { action: 'dropped', reason: 'too_long', detail: 'no round fits --max-length' }] };
  if (pieces.length > 1) events.push({ action: 'changed', reason: 'split', detail: `into ${pieces.length} samples` });
  return { index, id, outputs: pieces.map((p) => serializeRecord(sample(record, id, 2 * p.start, p.turns), format)), events };
}
