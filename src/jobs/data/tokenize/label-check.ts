/**
 * prepare-sft --check: decodes every unmasked run of tokens back to text and proves the mask right — each run
 * decodes to exactly the prompt characters it covers, covers whole trainable segments, reaches into
 * non-trainable text only through the one token at each end that straddles a boundary, and contains the
 * assistant replies the prompt holds, in order. Returns the first problem found, or undefined.
 */
import type { LoadedTokenizer } from '../../../chat';
import { IGNORE_TOKEN_ID, type EncodedConversation } from './sft-encode';

interface Run {
  first: number;
  last: number;
}

function unmaskedRuns(labels: readonly number[]): Run[] {
  const runs: Run[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === IGNORE_TOKEN_ID) continue;
    const prev = runs[runs.length - 1];
    if (prev && prev.last === i - 1) prev.last = i;
    else runs.push({ first: i, last: i });
  }
  return runs;
}

function isTrainable(enc: EncodedConversation, pos: number): boolean {
  let k = enc.segmentStarts.length - 1;
  while (k > 0 && enc.segmentStarts[k] > pos) k--;
  return enc.segments[k].trainable;
}

function checkRun(enc: EncodedConversation, tokenizer: LoadedTokenizer, run: Run): { problem?: string; text: string } {
  const s = enc.starts[run.first];
  const e = enc.ends[run.last];
  const decoded = tokenizer.decode(enc.inputIds.slice(run.first, run.last + 1));
  if (decoded !== enc.text.slice(s, e)) return { problem: `tokens ${run.first}..${run.last} decode to ${JSON.stringify(decoded.slice(0, 40))}, not the prompt text`, text: decoded };
  const innerStart = enc.ends[run.first];
  const innerEnd = enc.starts[run.last];
  for (let p = innerStart; p < innerEnd; p++) {
    if (!isTrainable(enc, p)) return { problem: `unmasked tokens ${run.first}..${run.last} cover non-assistant text at character ${p}`, text: decoded };
  }
  return { text: decoded };
}

export function checkLabels(enc: EncodedConversation, tokenizer: LoadedTokenizer, assistantTexts: readonly string[]): string | undefined {
  const runs = unmaskedRuns(enc.labels);
  const covered = new Uint8Array(enc.text.length);
  const decodedRuns: string[] = [];
  for (const run of runs) {
    const { problem, text } = checkRun(enc, tokenizer, run);
    if (problem) return problem;
    decodedRuns.push(text);
    covered.fill(1, enc.starts[run.first], enc.ends[run.last]);
  }
  for (let k = 0; k < enc.segments.length; k++) {
    const seg = enc.segments[k];
    if (!seg.trainable) continue;
    const start = enc.segmentStarts[k];
    for (let p = start; p < start + seg.text.length; p++) {
      if (!covered[p]) return `assistant text at character ${p} is masked`;
    }
  }
  const joined = decodedRuns.join('\u0000');
  let from = 0;
  for (const reply of assistantTexts) {
    // Templates that render only the last round (FastChat's CLLM) leave earlier replies out of the prompt.
    if (!enc.text.includes(reply.trim())) continue;
    const at = joined.indexOf(reply.trim(), from);
    if (at < 0) return `assistant reply ${JSON.stringify(reply.slice(0, 40))} is not in the unmasked tokens`;
    from = at + reply.trim().length;
  }
  return undefined;
}
