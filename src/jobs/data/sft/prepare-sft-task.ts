/**
 * prepare-sft for one record: the conversation tokenized with its template, non-assistant tokens masked
 * (labels = -100) by character offsets (tokenize/sft-encode.ts), written as `{id, input_ids, labels,
 * attention_mask}`; the same conversation also as OpenAI-style `{id, messages}` for engines that tokenize
 * themselves (TRL, axolotl). With `check`, every record's mask is proven by decoding (tokenize/label-check.ts).
 */
import { FleetError } from '../../../common/errors';
import { droppedResult, type RecordResult, type ResultEvent } from '../record-result';
import { recordLabel } from '../sharegpt';
import { toChatMessages } from '../tokenize/chat-messages';
import { checkLabels } from '../tokenize/label-check';
import { encodeConversation, IGNORE_TOKEN_ID, type ChatContext, type ChatMessage } from '../tokenize/sft-encode';

export interface SftOptions {
  maxLength: number;
  onOverflow: 'truncate' | 'drop';
  check: boolean;
}

function dialog(messages: ChatMessage[], events: ResultEvent[]): ChatMessage[] {
  if (messages.length > 0 && messages[messages.length - 1].role === 'user') {
    events.push({ action: 'changed', reason: 'trailing_user_removed', detail: 'the last user message has no answer' });
    return messages.slice(0, -1);
  }
  return messages;
}

export function prepareSftRecord(value: unknown, index: number, ctx: ChatContext, options: SftOptions): RecordResult {
  const id = recordLabel(value, index);
  const checked = toChatMessages(value);
  if (!checked.ok) return droppedResult(index, id, 'wrong_format', checked.detail);
  const events: ResultEvent[] = [];
  const messages = dialog(checked.messages, events);
  const replies = messages.filter((m) => m.role === 'assistant').map((m) => m.content);
  if (replies.length === 0) return { index, id, outputs: [], events: [...events, { action: 'dropped', reason: 'too_short', detail: 'no assistant message' }] };
  let outcome;
  try {
    outcome = encodeConversation(ctx, messages);
  } catch (err) {
    if (err instanceof FleetError) return droppedResult(index, id, 'template_error', err.message);
    throw err;
  }
  if (!outcome.ok) return droppedResult(index, id, outcome.reason, outcome.detail);
  const enc = outcome.encoded;
  const missing = replies.filter((r) => !enc.text.includes(r.trim())).length;
  if (missing > 0) events.push({ action: 'changed', reason: 'turns_not_rendered', detail: `template '${ctx.selection.templateName}' leaves ${missing} of ${replies.length} replies out of the prompt` });
  if (options.check) {
    const problem = checkLabels(enc, ctx.tokenizer, replies);
    if (problem) return droppedResult(index, id, 'label_check_failed', problem);
  }
  let { inputIds, labels } = enc;
  if (inputIds.length > options.maxLength) {
    const detail = `${inputIds.length} tokens > --max-length ${options.maxLength}`;
    if (options.onOverflow === 'drop') return { index, id, outputs: [], events: [...events, { action: 'dropped', reason: 'too_long', detail }] };
    events.push({ action: 'changed', reason: 'truncated', detail });
    inputIds = inputIds.slice(0, options.maxLength);
    labels = labels.slice(0, options.maxLength);
  }
  if (labels.every((l) => l === IGNORE_TOKEN_ID)) return { index, id, outputs: [], events: [...events, { action: 'dropped', reason: 'no_trainable_tokens' }] };
  const tokens = JSON.stringify({ id, input_ids: inputIds, labels, attention_mask: inputIds.map(() => 1) });
  return { index, id, outputs: [tokens], extraOutputs: [JSON.stringify({ id, messages })], events };
}
