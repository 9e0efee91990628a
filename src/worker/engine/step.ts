/**
 * The two kinds of scheduler step, each one or more forward passes read top to bottom: build the inputs once, run
 * the decoder, hand every row its logits.
 *
 *   prefillStep: admitted prompts → their KV caches + first-token logits (short prompts batched left-padded, long
 *                ones alone in chunks; see prefill.ts)
 *   decodeStep:  the running batch → one new token per sequence (one shared forward pass)
 *
 * The scheduler (scheduler.ts) decides who runs; this module only computes.
 */
import { FinishReason } from '../../common/gen/worker';
import { canReusePrefix, chunkTokens, planPrefillGroups, prefillBatch, prefillChunked, type Deliver, type PrefillLimits, type StepObserver } from './prefill';
import type { PrefixCache } from './prefix-cache';
import { prepareConstraints, type Sequence } from './sequence';
import type { DecoderSession, KvTensors } from './session';

/** The sequences decoding together and the KV tensors they share (each row left-padded to pastLen). */
export interface RunningBatch {
  seqs: Sequence[];
  tensors: KvTensors; // per KvSpec.pastNames, [batch, kvHeads, pastLen, headDim] (or a device-resident handle)
  pastLen: number;
}

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
