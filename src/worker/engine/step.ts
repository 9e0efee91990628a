/**
 * The two kinds of scheduler step for a standard graph, each one or more forward passes read top to bottom: build the
 * inputs once, run the decoder, hand every row its logits.
 *
 *   prefillStep: admitted prompts → their KV caches + first-token logits
 *                 - short prompts admitted together run as one left-padded batch (one forward pass);
 *                 - a prompt whose logits would not fit the budget runs alone in chunks over its growing KV cache, so
 *                   memory stays bounded by chunk × vocabulary whatever the prompt length (a 32k-token prompt on a
 *                   151k vocabulary would otherwise need a 19 GB logits tensor);
 *                 - graphs with a `num_logits_to_keep` input compute the lm_head for the last prompt position only
 *                   (unless echo with logprobs needs every position): on a 50k vocabulary that is most of a short
 *                   prompt's prefill work;
 *                 each finished sequence is handed to `deliver` with the logits row of its last prompt position
 *   decodeStep:  the running batch → one new token per sequence (one shared forward pass)
 *
 * The prefill limits, chunking and prompt logprobs are shared with the fused graph's steps (fused-step.ts). The
 * scheduler (scheduler.ts) decides who runs; this module only computes.
 */
import { FinishReason } from '../../common/gen/worker';
import { rawLogprobs } from '../sampling/logits';
import type { PrefixCache } from './prefix-cache';
import { prepareConstraints, type ChunkLogprob, type Sequence } from './sequence';
import type { DecoderSession, KvLocation, KvTensors } from './session';

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

/** The sequences decoding together and the KV tensors they share (each row left-padded to pastLen). */
export interface RunningBatch {
  seqs: Sequence[];
  tensors: KvTensors; // per KvSpec.pastNames, [batch, kvHeads, pastLen, headDim] (or a device-resident handle)
  pastLen: number;
}

/** echo with logprobs needs the logits of every prompt position. */
export const wantsPromptLogprobs = (seq: Sequence): boolean => seq.params.echo && seq.params.topLogprobs !== undefined;

/** Tokens per chunk for prompts prefilled alone. */
export function chunkTokens(limits: PrefillLimits): number {
  return Math.max(1, Math.min(limits.maxTokens, Math.floor(limits.maxLogits / limits.vocab)));
}

/** Groups of sequences that share one padded forward pass; prompts longer than a chunk get a group of their own. */
function planPrefillGroups(seqs: Sequence[], limits: PrefillLimits): Sequence[][] {
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

/** echo with logprobs needs every prompt position's logits, so such a prompt cannot start from a cached prefix. */
export const canReusePrefix = (seq: Sequence): boolean => !wantsPromptLogprobs(seq);

/**
 * Prefills the admitted sequences: a prompt that extends a cached prefix prefills only its suffix (alone, over a copy
 * of the cached keys and values); the others go short prompts batched together, long ones alone in chunks.
 */
export async function prefillStep(session: DecoderSession, admitted: Sequence[], limits: PrefillLimits, deliver: Deliver, observe: StepObserver, prefixes?: PrefixCache): Promise<void> {
  await prepareConstraints(admitted); // grammar masks for the first token (constrained sequences only)
  const followers = new Map<Sequence, Sequence[]>();
  const own: Sequence[] = [];
  for (const seq of admitted) {
    const leader = seq.prefillLeader;
    if (leader && admitted.includes(leader) && !leader.cancelled) followers.set(leader, [...(followers.get(leader) ?? []), seq]);
    else own.push(seq);
  }
  await prefillPrompts(session, own, limits, followers.size > 0 ? deliverToChoices(deliver, followers) : deliver, observe, prefixes);
  // Choices whose leader was not prefilled after all (cancelled meanwhile) prefill their own prompt.
  const stranded = [...followers.values()].flat().filter((seq) => !seq.kv && !seq.done);
  if (stranded.length > 0) await prefillPrompts(session, stranded, limits, deliver, observe, prefixes);
}

/**
 * `deliver`, also handing a leader's first-token logits (a copy each: sampling may change a row in place) and its
 * prefilled KV cache (the same rows; the next running batch copies them) to the other choices of its request.
 */
function deliverToChoices(deliver: Deliver, followers: ReadonlyMap<Sequence, Sequence[]>): Deliver {
  return (seq, row, promptLogprobs) => {
    const others = followers.get(seq) ?? [];
    const rows = others.map(() => row.slice());
    deliver(seq, row, promptLogprobs);
    others.forEach((other, i) => {
      if (other.cancelled) {
        other.abort(FinishReason.FINISH_REASON_CANCELLED);
        return;
      }
      other.kv = { ...(seq.kv as NonNullable<Sequence['kv']>) };
      deliver(other, rows[i], promptLogprobs ? [...promptLogprobs] : undefined);
    });
  };
}

async function prefillPrompts(session: DecoderSession, admitted: Sequence[], limits: PrefillLimits, deliver: Deliver, observe: StepObserver, prefixes?: PrefixCache): Promise<void> {
  const fresh: Sequence[] = [];
  for (const seq of admitted) {
    const hit = prefixes && canReusePrefix(seq) && !seq.cancelled ? prefixes.lookup(seq.promptIds) : undefined;
    if (hit) {
      seq.cachedPromptTokens = hit.length;
      await prefillChunked(session, seq, chunkTokens(limits), deliver, observe, hit);
    } else fresh.push(seq);
  }
  for (const group of planPrefillGroups(fresh, limits)) {
    const live = group.filter((seq) => {
      if (seq.cancelled) seq.abort(FinishReason.FINISH_REASON_CANCELLED);
      return !seq.cancelled;
    });
    if (live.length === 0) continue;
    if (live.length === 1 && live[0].promptIds.length > chunkTokens(limits)) await prefillChunked(session, live[0], chunkTokens(limits), deliver, observe);
    else await prefillBatch(session, live, deliver, observe);
  }
}

/** One left-padded forward pass over short prompts. */
async function prefillBatch(session: DecoderSession, seqs: Sequence[], deliver: Deliver, observe?: StepObserver): Promise<void> {
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

/**
 * One prompt alone, chunk by chunk over its own growing KV cache — from position 0, or after `prefix` (cached keys and
 * values of the prompt's first `prefix.length` tokens, [1, kvHeads, length, headDim] per past input).
 */
async function prefillChunked(session: DecoderSession, seq: Sequence, chunk: number, deliver: Deliver, observe?: StepObserver, prefix?: { length: number; tensors: KvLocation['tensors'] }): Promise<void> {
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

/**
 * The batch for `running`: the previous one while membership is unchanged (its tensors are the last step's
 * `present` outputs, no copy), else every row's cache copied into freshly sized tensors (on the device when the
 * cache lives there).
 */
export async function runningBatch(session: DecoderSession, running: readonly Sequence[], previous: RunningBatch | undefined): Promise<RunningBatch> {
  const same = previous !== undefined && previous.seqs.length === running.length && previous.seqs.every((s, i) => s === running[i]);
  if (same) return previous;
  const seqs = [...running];
  const { tensors, pastLen } = await session.assembleKv(seqs.map((s) => s.kv as NonNullable<Sequence['kv']>));
  seqs.forEach((seq, row) => {
    const kv = seq.kv as NonNullable<Sequence['kv']>;
    seq.kv = { tensors, row, padded: pastLen, length: kv.length };
  });
  return { seqs, tensors, pastLen };
}

/** One decode step: every sequence of the batch feeds its last token and gets the next token's logits. */
export async function decodeStep(session: DecoderSession, batch: RunningBatch, deliver: Deliver, observe: StepObserver): Promise<void> {
  const b = batch.seqs.length;
  const p = batch.pastLen;
  const inputIds = new BigInt64Array(b); // [b, 1]
  const positionIds = new BigInt64Array(b); // [b, 1]
  const mask = new BigInt64Array(b * (p + 1)); // [b, p + 1]: 1 over each row's real positions (right-aligned)
  batch.seqs.forEach((seq, row) => {
    const kv = seq.kv as NonNullable<Sequence['kv']>;
    inputIds[row] = BigInt(seq.lastToken);
    positionIds[row] = BigInt(kv.length);
    mask.fill(1n, row * (p + 1) + (p - kv.length), (row + 1) * (p + 1));
  });
  const started = performance.now();
  const pass = session.forward({ batch: b, seqLen: 1, pastLen: p, inputIds, attentionMask: mask, positionIds, past: batch.tensors, keepLogits: 1 });
  // Grammar masks of the constrained rows are computed here, on this thread, while the pass runs on the session thread.
  const [out] = await Promise.all([pass, prepareConstraints(batch.seqs)]);
  observe(b, (performance.now() - started) / 1000);
  // The outputs become the batch's cache: [b, kvHeads, p + 1, headDim].
  batch.tensors = out.present;
  batch.pastLen = p + 1;
  const v = out.vocab;
  batch.seqs.forEach((seq, row) => {
    const kv = seq.kv as NonNullable<Sequence['kv']>;
    seq.kv = { tensors: out.present, row, padded: p + 1, length: kv.length + 1 };
    if (!seq.cancelled) deliver(seq, out.logits.subarray(row * v, (row + 1) * v), undefined, out.greedy?.[row]); // logits: [b, 1, vocab]
  });
}
