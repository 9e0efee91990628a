/**
 * The scheduler's two steps for a fused graph (GroupQueryAttention over an in-place KV pool; see fused-kv-pool.ts
 * and kv-slots.ts), the counterparts of step.ts:
 *   fusedPrefillStep: admitted prompts that fit a pass take the next free slots (sorted by length) and are prefilled
 *                     together, one right-padded pass per group over its contiguous slots; a long prompt, or one
 *                     that wants prompt logprobs, goes alone (batch 1) in chunks; one that extends a cached prefix
 *                     (prefix-cache.ts) gets those positions copied into its slot and prefills only the rest, alone
 *   fusedDecodeStep:  one pass over slots 0 .. n-1 (or a greedy run of them), in fused-decode.ts
 */
import { FinishReason } from '../../common/gen/worker';
import { FleetError } from '../../common/errors';
import { FusedKvPool, type KvMove } from './fused-kv-pool';
import { canReusePrefix, chunkTokens, promptLogprobs, wantsPromptLogprobs, type Deliver, type PrefillLimits, type StepObserver } from './step';
import type { PrefixCache } from './prefix-cache';
import { KvSlots } from './kv-slots';
import { prepareConstraints, type ChunkLogprob, type Sequence } from './sequence';
import { bytesPerPosition, formatKvBytes as size, type DecoderSession, type FusedPasses, type KvSpec } from './session';

/**
 * GroupQueryAttention's score buffer spans the slot capacity: heads × chunk × capacity floats per pass. Prompts are
 * chunked so that it stays near this many floats (128 MB), estimating heads as 4 per KV head.
 */
const ATTENTION_SCORE_FLOATS = 1 << 25;

export function fusedChunkTokens(limits: PrefillLimits, kvHeads: number, capacity: number): number {
  return Math.min(limits.maxTokens, Math.max(16, Math.floor(ATTENTION_SCORE_FLOATS / (4 * kvHeads * capacity))));
}

export interface FusedKv {
  passes: FusedPasses;
  /**
   * The pool the passes run over (bound to them before the first pass), in host memory shared with the session
   * thread; undefined when the pool lives in the session thread (device memory, see device-kv-pool.ts): then slot
   * moves wait in `moves` and travel with the next pass.
   */
  pool?: FusedKvPool;
  /** Slot moves not yet applied to a device pool (applied, in order, before the next pass). */
  moves: KvMove[];
  slots: KvSlots<Sequence>;
  spec: KvSpec;
  /** Keys and values of finished sequences, copied into the slots of prompts that extend them (undefined = off). */
  prefixes?: PrefixCache;
}

/** Copies the longest cached prefix of the sequence's prompt into its (fresh) slot; returns the positions reused. */
function loadPrefix(kv: FusedKv, seq: Sequence, prefixes: PrefixCache): number {
  const pool = kv.pool;
  const hit = pool ? prefixes.lookupRows(seq.promptIds) : undefined;
  if (!hit || !pool) return 0;
  const slot = kv.slots.slotOf(seq);
  kv.spec.pastNames.forEach((_, input) => {
    for (let h = 0; h < kv.spec.kvHeads; h++) pool.head(slot, input, h).set(hit.rows(input, h));
  });
  kv.slots.setLength(seq, hit.length);
  seq.cachedPromptTokens = hit.length;
  return hit.length;
}

/** Keeps a finished sequence's positions in the prefix cache (read from its slot before the slot is freed). */
export function keepFusedPrefix(kv: FusedKv, seq: Sequence): void {
  const length = kv.slots.lengthOf(seq);
  const { prefixes, pool } = kv;
  if (length === 0 || !prefixes || !pool) return;
  const slot = kv.slots.slotOf(seq);
  prefixes.storeRows([...seq.promptIds, ...seq.outputIds].slice(0, length), length, (input, h) => pool.head(slot, input, h));
}

/** Binds a host pool to the passes (a device pool lives with them already). */
export function bindFusedPool(kv: FusedKv): Promise<void> {
  return kv.pool ? kv.passes.bind(kv.pool) : Promise.resolve();
}

/** The slot moves a device pool still has to apply (taken: they travel with the pass about to run). */
export function takeMoves(kv: FusedKv): KvMove[] {
  return kv.moves.splice(0, kv.moves.length);
}

async function prefillOne(kv: FusedKv, seq: Sequence, chunk: number, deliver: Deliver, observe: StepObserver): Promise<void> {
  const { passes, slots } = kv;
  const ids = seq.promptIds;
  const lps: Array<ChunkLogprob | null> | undefined = wantsPromptLogprobs(seq) ? [null] : undefined;
  let lastRow: Float32Array | undefined;
  for (let pos = slots.lengthOf(seq); pos < ids.length; pos += chunk) {
    if (seq.cancelled) return;
    const n = Math.min(chunk, ids.length - pos);
    const started = performance.now();
    const out = await passes.forward({
      slots: slots.slots,
      capacity: slots.capacity,
      slot: slots.slotOf(seq),
      batch: 1,
      seqLen: n,
      inputIds: BigInt64Array.from(ids.slice(pos, pos + n), (t) => BigInt(t)),
      seqlensK: Int32Array.of(pos + n - 1),
      totalLength: pos + n,
      keepLogits: lps ? 0 : 1,
      moves: takeMoves(kv), // a host pool: none (the engine moves slots itself, in the shared pool)
    });
    observe(1, (performance.now() - started) / 1000, n);
    slots.setLength(seq, pos + n);
    if (lps) promptLogprobs(seq, out.logits, { vocab: out.vocab, first: pos, rows: n }, lps);
    const l = out.logitsPerRow;
    lastRow = out.logits.subarray((l - 1) * out.vocab, l * out.vocab);
  }
  if (lastRow) deliver(seq, lastRow, lps);
}

/**
 * Splits prompts sorted by length into groups that share one pass: the padded tokens (rows × longest) within the
 * attention budget, and the logits kept (rows × (longest - shortest + 1) × vocab, see prefillGroup) within the
 * logits budget.
 */
export function planFusedGroups(sorted: readonly number[], maxTokens: number, maxLogits: number, vocab: number): number[][] {
  const groups: number[][] = [];
  let group: number[] = [];
  for (const length of sorted) {
    const rows = group.length + 1;
    const keep = length - (group[0] ?? length) + 1;
    if (group.length > 0 && (rows * length > maxTokens || rows * keep * vocab > maxLogits)) {
      groups.push(group);
      group = [];
    }
    group.push(length);
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/**
 * One pass over the group's contiguous slots [slot, slot + k) (fresh, acquired in this order): rows right-padded to
 * the longest prompt S, seqlens_k = each row's own length - 1, total_sequence_length = S. GroupQueryAttention
 * writes every row's S positions (padding included) at 0 .. S-1, but a row attends only to its first seqlens_k + 1
 * positions and the next decode step writes position `length`, so padding beyond a row's length is never read.
 * The graph keeps the logits of the last N padded positions; N = S - shortest + 1 covers every row's last real
 * position (length - 1), read per row.
 */
async function prefillGroup(kv: FusedKv, group: readonly Sequence[], deliver: Deliver, observe: StepObserver): Promise<void> {
  const { passes, slots } = kv;
  const lengths = group.map((seq) => seq.promptIds.length);
  const longest = Math.max(...lengths);
  const keep = longest - Math.min(...lengths) + 1;
  const inputIds = new BigInt64Array(group.length * longest); // padding: token 0, never read
  group.forEach((seq, row) => seq.promptIds.forEach((t, i) => (inputIds[row * longest + i] = BigInt(t))));
  const started = performance.now();
  const out = await passes.forward({
    slots: slots.slots,
    capacity: slots.capacity,
    slot: slots.slotOf(group[0]),
    batch: group.length,
    seqLen: longest,
    inputIds,
    seqlensK: Int32Array.from(lengths, (l) => l - 1),
    totalLength: longest,
    keepLogits: keep,
    moves: takeMoves(kv),
  });
  observe(group.length, (performance.now() - started) / 1000, lengths.reduce((a, b) => a + b, 0));
  const { vocab: v, logitsPerRow: l } = out;
  group.forEach((seq, row) => {
    slots.setLength(seq, lengths[row]);
    const at = row * l + (l - 1) - (longest - lengths[row]); // the row's last real position among the kept ones
    if (!seq.cancelled) deliver(seq, out.logits.subarray(at * v, (at + 1) * v));
  });
}

/**
 * Prefills the admitted sequences. Prompts that fit a pass and start from nothing (no cached prefix, no prompt
 * logprobs) are sorted by length, take the next free slots in that order (so each group's slots are contiguous) and
 * are prefilled in groups, one pass each (prefillGroup); the others go alone, in chunks (prefillOne).
 */
export async function fusedPrefillStep(kv: FusedKv, admitted: Sequence[], limits: PrefillLimits, deliver: Deliver, observe: StepObserver): Promise<void> {
  await prepareConstraints(admitted); // grammar masks for the first token (constrained sequences only)
  // The score-buffer bound is the CPU kernel's; the addon's device pool (flash attention on CUDA) allocates none.
  const chunk = kv.pool ? fusedChunkTokens(limits, kv.spec.kvHeads, kv.slots.capacity) : limits.maxTokens;
  const together: Sequence[] = [];
  for (const seq of admitted) {
    if (seq.cancelled) {
      seq.abort(FinishReason.FINISH_REASON_CANCELLED);
      continue;
    }
    const echo = wantsPromptLogprobs(seq);
    if (!echo && seq.promptIds.length <= chunk) {
      if (!kv.prefixes) {
        together.push(seq);
        continue;
      }
      kv.slots.acquire(seq);
      if (loadPrefix(kv, seq, kv.prefixes) === 0) {
        kv.slots.release(seq); // the last slot: freed with no move, taken again below in length order
        together.push(seq);
        continue;
      }
    } else {
      kv.slots.acquire(seq);
      if (kv.prefixes && canReusePrefix(seq)) loadPrefix(kv, seq, kv.prefixes);
    }
    // Only the last position's logits come back unless echo wants every one (then the logits budget limits a chunk too).
    await prefillOne(kv, seq, echo ? Math.min(chunk, chunkTokens(limits)) : chunk, deliver, observe);
  }
  together.sort((a, b) => a.promptIds.length - b.promptIds.length);
  let next = 0;
  for (const sizes of planFusedGroups(together.map((s) => s.promptIds.length), chunk, limits.maxLogits, limits.vocab)) {
    const group = together.slice(next, next + sizes.length);
    next += sizes.length;
    for (const seq of group) kv.slots.acquire(seq);
    await prefillGroup(kv, group, deliver, observe);
  }
}

/** The engine options that size a fused pool. */
export interface FusedPoolOptions {
  maxConcurrency: number;
  maxKvBytes: number;
  contextLength: number;
}

/**
 * A fused model's KV pool and its slots: shared host memory bound to the session thread at the first step, or, when
 * the session keeps its cache on the device (session.kvOnDevice: the ort_device addon's pool, CUDA or CPU memory),
 * slots only, whose moves travel with the passes. Prefix reuse needs the host pool (it copies positions in and out).
 */
export function fusedKv(session: DecoderSession, passes: FusedPasses, options: FusedPoolOptions, prefixes: PrefixCache | undefined): FusedKv {
  const capacity = fusedSlotCapacity(session, options);
  if (session.kvOnDevice) {
    const moves: KvMove[] = [];
    const slots = new KvSlots<Sequence>(options.maxConcurrency, capacity, (from, to, length) => moves.push([from, to, length]));
    return { passes, moves, slots, spec: session.kv };
  }
  const pool = FusedKvPool.shared(session.kv, options.maxConcurrency, capacity);
  const slots = new KvSlots<Sequence>(pool.slots, pool.capacity, (from, to, length) => pool.move(from, to, length));
  return { passes, pool, moves: [], slots, spec: session.kv, prefixes };
}

/**
 * A budget-limited slot capacity is rounded down to a multiple of this: onnxruntime's CUDA memory-efficient attention
 * (the fused-mha graph's float32 kernel) takes a mask only over a key length that is a multiple of 4, and silently
 * runs its slower unfused kernel otherwise.
 */
const SLOT_CAPACITY_MULTIPLE = 8;

/**
 * Positions per slot of a fused model's KV pool: the context length, or less when the KV budget cannot hold
 * --max-concurrency slots of it (the pool's pages become resident as sequences grow, so the budget bounds the worst
 * case; then a multiple of SLOT_CAPACITY_MULTIPLE).
 */
export function fusedSlotCapacity(session: DecoderSession, options: FusedPoolOptions): number {
  let perSlot = Math.floor(options.maxKvBytes / (options.maxConcurrency * bytesPerPosition(session.kv)));
  if (perSlot >= SLOT_CAPACITY_MULTIPLE) perSlot -= perSlot % SLOT_CAPACITY_MULTIPLE;
  const capacity = Math.min(options.contextLength, perSlot);
  if (capacity < 2) {
    throw new FleetError('invalid_request', `the KV budget (${size(options.maxKvBytes)}) cannot hold ${options.maxConcurrency} sequences of this fused model; raise --kv-cache-mib or lower --max-concurrency`, { code: 'kv_budget' });
  }
  return capacity;
}
