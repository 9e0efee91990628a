/**
 * Prefill: turning prompts into KV caches and first-token logits.
 *  - Short prompts admitted together run as one left-padded batch (one forward pass).
 *  - A prompt whose logits would not fit the budget runs alone in chunks over its growing KV cache, so memory
 *    stays bounded by chunk × vocabulary whatever the prompt length (a 32k-token prompt on a 151k vocabulary
 *    would otherwise need a 19 GB logits tensor).
 *  - Graphs with a `num_logits_to_keep` input compute the lm_head for the last prompt position only (unless echo
 *    with logprobs needs every position): on a 50k vocabulary that is most of a short prompt's prefill work.
 * Each finished sequence is handed to `deliver` with the logits row of its last prompt position.
 */
import { rawLogprobs } from '../sampling/logits';
import type { ChunkLogprob, Sequence } from './sequence';
import type { DecoderSession, KvLocation } from './session';

export interface PrefillLimits {
  /** Padded prompt tokens per forward pass. */
  maxTokens: number;
  /** Floats in one logits tensor ([rows, tokens, vocab]). */
  maxLogits: number;
  vocab: number;
  /** The graph can return the last position's logits only (then a batch costs rows × vocab, not tokens × vocab). */
  trimsLogits?: boolean;
}

/** `greedy`: the row's argmax, when the session thread computed it natively (a greedy sequence then skips its own). */
export type Deliver = (seq: Sequence, lastRow: Float32Array, promptLogprobs?: Array<ChunkLogprob | null>, greedy?: number) => void;
/** `prefillTokens`: prompt tokens the pass computed (prefill passes only; padding excluded). */
export type StepObserver = (batch: number, seconds: number, prefillTokens?: number) => void;

/** echo with logprobs needs the logits of every prompt position. */
export const wantsPromptLogprobs = (seq: Sequence): boolean => seq.params.echo && seq.params.topLogprobs !== undefined;

/** Tokens per chunk for prompts prefilled alone. */
export function chunkTokens(limits: PrefillLimits): number {
  return Math.max(1, Math.min(limits.maxTokens, Math.floor(limits.maxLogits / limits.vocab)));
}

/** Groups of sequences that share one padded forward pass; prompts longer than a chunk get a group of their own. */
export function planPrefillGroups(seqs: Sequence[], limits: PrefillLimits): Sequence[][] {
  const groups: Sequence[][] = [];
  let group: Sequence[] = [];
  let longest = 0;
  let allPositions = false;
  const chunk = chunkTokens(limits);
  for (const seq of seqs) {
    const len = seq.promptIds.length;
    if (len > chunk) {
      groups.push([seq]);
      continue;
    }
    const rows = group.length + 1;
    const padded = Math.max(longest, len) * rows;
    const logitRows = limits.trimsLogits && !allPositions && !wantsPromptLogprobs(seq) ? rows : padded;
    if (group.length > 0 && (padded > limits.maxTokens || logitRows * limits.vocab > limits.maxLogits)) {
      groups.push(group);
      group = [];
      longest = 0;
      allPositions = false;
    }
    group.push(seq);
    longest = Math.max(longest, len);
    allPositions ||= wantsPromptLogprobs(seq);
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** Logprobs of prompt tokens 1..n-1 from rows predicting them (row i predicts token first + i + 1). */
export function promptLogprobs(seq: Sequence, logits: Float32Array, at: { vocab: number; first: number; rows: number }, into: Array<ChunkLogprob | null>): void {
  const v = at.vocab;
  for (let i = 0; i < at.rows; i++) {
    const target = at.first + i + 1;
    if (target >= seq.promptIds.length) break;
    const row = logits.subarray(i * v, (i + 1) * v);
    const lp = rawLogprobs(row, seq.params.topLogprobs ?? 0);
    const token = seq.promptIds[target];
    into.push({ tokenId: token, logprob: row[token] - lp.lse, top: lp.top });
  }
}

/** One left-padded forward pass over short prompts. */
export async function prefillBatch(session: DecoderSession, seqs: Sequence[], deliver: Deliver, observe?: StepObserver): Promise<void> {
  const b = seqs.length;
  const s = Math.max(...seqs.map((q) => q.promptIds.length));
  const inputIds = new BigInt64Array(b * s);
  const mask = new BigInt64Array(b * s);
  const positions = new BigInt64Array(b * s).fill(1n); // padding positions: any value (masked out)
  seqs.forEach((seq, row) => {
    const pad = s - seq.promptIds.length;
    seq.promptIds.forEach((t, i) => {
      inputIds[row * s + pad + i] = BigInt(t);
      mask[row * s + pad + i] = 1n;
      positions[row * s + pad + i] = BigInt(i);
    });
  });
  const started = performance.now();
  const keepLogits = seqs.some(wantsPromptLogprobs) ? 0 : 1;
  const out = await session.forward({ batch: b, seqLen: s, pastLen: 0, inputIds, attentionMask: mask, positionIds: positions, past: undefined, keepLogits });
  observe?.(b, (performance.now() - started) / 1000, seqs.reduce((sum, q) => sum + q.promptIds.length, 0));
  const v = out.vocab;
  const l = out.logitsPerRow;
  seqs.forEach((seq, row) => {
    const len = seq.promptIds.length;
    seq.kv = { tensors: out.present, row, padded: s, length: len };
    const rowLogits = out.logits.subarray(row * l * v, (row + 1) * l * v);
    let lps: Array<ChunkLogprob | null> | undefined;
    if (wantsPromptLogprobs(seq)) {
      lps = [null];
      promptLogprobs(seq, rowLogits.subarray((s - len) * v), { vocab: v, first: 0, rows: len }, lps);
    }
    deliver(seq, rowLogits.subarray((l - 1) * v, l * v), lps);
  });
}

/** echo with logprobs needs every prompt position's logits, so such a prompt cannot start from a cached prefix. */
export const canReusePrefix = (seq: Sequence): boolean => !wantsPromptLogprobs(seq);

/**
 * One prompt alone, chunk by chunk over its own growing KV cache — from position 0, or after `prefix` (cached keys and
 * values of the prompt's first `prefix.length` tokens, [1, kvHeads, length, headDim] per past input).
 */
export async function prefillChunked(session: DecoderSession, seq: Sequence, chunk: number, deliver: Deliver, observe?: StepObserver, prefix?: { length: number; tensors: KvLocation['tensors'] }): Promise<void> {
  const ids = seq.promptIds;
  let kv: KvLocation | undefined = prefix ? { tensors: prefix.tensors, row: 0, padded: prefix.length, length: prefix.length } : undefined;
  let lastRow: Float32Array | undefined;
  const lps: Array<ChunkLogprob | null> | undefined = wantsPromptLogprobs(seq) ? [null] : undefined;
  for (let pos = prefix?.length ?? 0; pos < ids.length; pos += chunk) {
    if (seq.cancelled) return;
    const n = Math.min(chunk, ids.length - pos);
    const positions = BigInt64Array.from({ length: n }, (_, i) => BigInt(pos + i));
    const started = performance.now();
    const out = await session.forward({
      batch: 1,
      seqLen: n,
      pastLen: pos,
      inputIds: BigInt64Array.from(ids.slice(pos, pos + n), (t) => BigInt(t)),
      attentionMask: new BigInt64Array(pos + n).fill(1n),
      positionIds: positions,
      past: kv?.tensors,
      keepLogits: lps ? 0 : 1,
    });
    observe?.(1, (performance.now() - started) / 1000, n);
    kv = { tensors: out.present, row: 0, padded: pos + n, length: pos + n };
    if (lps) promptLogprobs(seq, out.logits, { vocab: out.vocab, first: pos, rows: n }, lps);
    const l = out.logitsPerRow;
    lastRow = out.logits.subarray((l - 1) * out.vocab, l * out.vocab);
  }
  if (!kv || !lastRow) return;
  seq.kv = kv;
  deliver(seq, lastRow, lps);
}
