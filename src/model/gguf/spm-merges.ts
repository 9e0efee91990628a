/**
 * BPE merges for a SentencePiece (BPE-type) vocabulary given as tokens with scores. SentencePiece and llama.cpp
 * merge, among adjacent pieces, the pair whose concatenation is the vocabulary entry with the highest score; a BPE
 * model reproduces that when its merges are every (left, right) split of an entry whose halves are both entries,
 * ranked by the entry's score, highest first (ties: the order of the entries, then the ids of the halves).
 */
import { TokenType } from './gguf-vocab';

const MERGEABLE = new Set<number>([TokenType.NORMAL, TokenType.USER_DEFINED]);

export function spmMerges(tokens: readonly string[], types: readonly number[], scores: readonly number[]): Array<[string, string]> {
  const ids = new Map<string, number>();
  tokens.forEach((t, id) => {
    if (!ids.has(t) && types[id] !== TokenType.CONTROL) ids.set(t, id);
  });
  const found: Array<{ left: string; right: string; score: number; id: number; leftId: number; rightId: number }> = [];
  tokens.forEach((token, id) => {
    if (!MERGEABLE.has(types[id])) return;
    const chars = Array.from(token);
    let prefix = '';
    for (let i = 1; i < chars.length; i++) {
      prefix += chars[i - 1];
      const suffix = token.slice(prefix.length);
      const leftId = ids.get(prefix);
      const rightId = ids.get(suffix);
      if (leftId !== undefined && rightId !== undefined) found.push({ left: prefix, right: suffix, score: scores[id], id, leftId, rightId });
    }
  });
  found.sort((a, b) => b.score - a.score || a.id - b.id || a.leftId - b.leftId || a.rightId - b.rightId);
  return found.map((m) => [m.left, m.right]);
}
