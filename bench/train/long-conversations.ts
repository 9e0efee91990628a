/**
 * Deterministic ShareGPT-like conversations for bench:train: longer than FastChat's dummy file (1-4 exchanges,
 * replies of 40-300 words, at most 1,300 words in all by default, so every conversation fits 2,048 tokens and nothing is
 * truncated on either side). Same seed -> same bytes.
 */
import { seededRandom } from '../support/stats';

const WORDS = (
  'the of and to in is you that it he was for on are as with his they at be this have from or one had by word but not ' +
  'what all were we when your can said there use an each which she do how their if will up other about out many then ' +
  'them these so some her would make like him into time has look two more write go see number no way could people my ' +
  'than first water been call who oil its now find long down day did get come made may part model training data ' +
  'cluster worker gateway token latency memory kernel attention sequence batch gradient optimizer schedule packing ' +
  'question answer explain example because therefore however although consider result value system design network'
).split(' ');

export interface ShareGptRecord {
  id: string;
  conversations: Array<{ from: 'human' | 'gpt'; value: string }>;
}

export function longConversations(count: number, seed = 7, maxWords = 1300): ShareGptRecord[] {
  const rand = seededRandom(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const sentence = (words: number): string => {
    const out: string[] = [];
    for (let i = 0; i < words; i++) out.push(WORDS[int(0, WORDS.length - 1)]);
    const text = out.join(' ');
    return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
  };
  const paragraph = (words: number): string => {
    const parts: string[] = [];
    let left = words;
    while (left > 0) {
      const n = Math.min(left, int(6, 18));
      parts.push(sentence(n));
      left -= n;
    }
    return parts.join(' ');
  };
  const records: ShareGptRecord[] = [];
  for (let i = 0; i < count; i++) {
    const turns: ShareGptRecord['conversations'] = [];
    let budget = maxWords;
    const exchanges = int(1, 4);
    for (let e = 0; e < exchanges && budget > 60; e++) {
      const ask = Math.min(int(8, 60), budget - 40);
      const reply = Math.min(int(40, 300), budget - ask);
      turns.push({ from: 'human', value: paragraph(ask) }, { from: 'gpt', value: paragraph(reply) });
      budget -= ask + reply;
    }
    records.push({ id: `long_${i}`, conversations: turns });
  }
  return records;
}
