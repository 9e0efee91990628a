/**
 * The routing keys of a generation request (src/common/prefix-routing.ts): the request is written as one text in
 * which a later chat turn extends an earlier one (a header with the model, template and tools, then each message in
 * order), cut into blocks of ROUTE_BLOCK_CHARS; key i hashes blocks 0..i, so equal keys mean equal prefixes.
 * The affinity key hashes the conversation's opening — every message up to and including the first user message —
 * so it is the same on every turn of one chat; for a raw prompt it is the first block (or the whole short prompt).
 * Text, not tokens: the gateway does not tokenize, and a block boundary only approximates the worker's token blocks.
 */
import { createHash, type Hash } from 'node:crypto';
import { MAX_PREFIX_KEYS, type RouteKeys } from '../../common/prefix-routing';
import type { ChatMessage, GenerateRequest } from '../../common/gen/worker';

export const ROUTE_BLOCK_CHARS = 128;
const SEP = '\u0000';
const END = '\u0001';

const digest = (h: Hash): string => h.digest('base64url').slice(0, 22);

function messageText(m: ChatMessage): string {
  return [m.role, m.name, m.content, m.toolCallId, m.toolCallsJson].join(SEP) + END;
}

/** The request as text, and where its conversation's opening ends in it (chars). */
function requestText(request: GenerateRequest): { text: string; anchorEnd: number } {
  const header = ['fleetchat-route-v1', request.model].join(SEP) + END;
  if (request.chat) {
    const chat = request.chat;
    let text = header + ['chat', chat.convTemplate, chat.toolsJson].join(SEP) + END;
    let anchorEnd = -1;
    for (const m of chat.messages) {
      text += messageText(m);
      if (anchorEnd < 0 && m.role === 'user') anchorEnd = text.length;
    }
    return { text, anchorEnd: anchorEnd < 0 ? text.length : anchorEnd };
  }
  const body = request.promptTokenIds.length > 0 ? `ids${SEP}${request.promptTokenIds.join(',')}` : `prompt${SEP}${request.prompt}`;
  const text = header + body;
  return { text, anchorEnd: Math.min(text.length, header.length + ROUTE_BLOCK_CHARS) };
}

export function routeKeysOf(request: GenerateRequest): RouteKeys {
  const { text, anchorEnd } = requestText(request);
  const blocks = Math.min(MAX_PREFIX_KEYS, Math.floor(text.length / ROUTE_BLOCK_CHARS));
  const hash = createHash('sha256');
  const prefixKeys: string[] = [];
  for (let b = 0; b < blocks; b++) {
    hash.update(text.slice(b * ROUTE_BLOCK_CHARS, (b + 1) * ROUTE_BLOCK_CHARS));
    prefixKeys.push(digest(hash.copy()));
  }
  const affinityKey = digest(createHash('sha256').update(text.slice(0, anchorEnd)));
  return { prefixKeys, affinityKey };
}
