/**
 * The fused graph's decode step (the counterpart of step.ts's decodeStep): one pass over slots 0 .. n-1, every row
 * with its own length (seqlens_k), so rows of different lengths share the step; each pass appends one position per
 * row in place.
 *
 * A greedy run: when every row takes its greedy token as is (temperature 0, no penalty, bias, grammar or logprobs)
 * and the session thread offers FusedPasses.forwardRun, the step chains passes in that thread — each row fed the
 * token it just got — while the results come back here in order and are delivered one by one as usual. The tokens
 * are the same ones (the argmax of the same raw row that acceptLogits would take); what goes is the round trip
 * between the threads on each pass's critical path (~0.4–1.5 ms of a ~13 ms SmolLM2 step on a busy 2-core machine,
 * see README "Engine speed"). The run ends at a stop token, at the first row's max_tokens, when a sequence finishes
 * otherwise (a stop string) or is cancelled, and when requests wait for admission (`keepRunning`): then the passes
 * the thread already started still report (one, unless this thread was busy meanwhile); an ended row's results are
 * dropped, its extra positions written beyond its length, never read.
 */
import { prepareConstraints, type Sequence } from './sequence';
import { takeMoves, type FusedKv } from './fused-step';
import type { Deliver, StepObserver } from './step';
import type { FusedForwardInput, FusedForwardOutput } from './fused-kv-pool';

/** Passes one greedy run chains at most (it ends sooner at a stop token, max_tokens, or when the scheduler asks). */
const MAX_RUN = 64;

/**
 * One decode step over every slot holder: each feeds its last token and gets the next token's logits (or, in a
 * greedy run, up to MAX_RUN tokens, pass by pass; without `keepRunning`, no runs). Returns the rows × passes run (0:
 * nobody to decode).
 */
export async function fusedDecodeStep(kv: FusedKv, deliver: Deliver, observe: StepObserver, keepRunning?: () => boolean): Promise<number> {
  const { passes, slots } = kv;
  const seqs = [...slots.members()];
  const b = seqs.length;
  if (b === 0) return 0;
  const input = decodeInput(kv, seqs);
  const ended = new Uint8Array(b); // rows that finished or were cancelled at an earlier pass of a run
  let passesRun = 0;
  let started = performance.now();
  const take = (out: FusedForwardOutput): void => {
    const now = performance.now();
    observe(b, (now - started) / 1000);
    started = now;
    passesRun += 1;
    const at = logitsIndex(b, out.logitRows); // row -> its row in out.logits (-1: none came back)
    const v = out.vocab;
    seqs.forEach((seq, row) => {
      if (ended[row]) return;
      slots.setLength(seq, slots.lengthOf(seq) + 1);
      const k = at[row];
      if (!seq.cancelled) deliver(seq, k < 0 ? NO_LOGITS : out.logits.subarray(k * v, (k + 1) * v), undefined, out.greedy?.[row]);
      if (seq.done || seq.cancelled) ended[row] = 1;
    });
  };
  const steps = keepRunning ? greedyRunLength(seqs) : 0;
  if (keepRunning && steps > 1 && passes.forwardRun) {
    const stopTokens = Int32Array.from(new Set(seqs.flatMap((seq) => seq.stopTokenIds)));
    await passes.forwardRun(input, { steps, stopTokens }, (out) => {
      take(out);
      return !ended.includes(1) && keepRunning();
    });
  } else {
    const [out] = await Promise.all([passes.forward(input), prepareConstraints(seqs)]);
    take(out);
  }
  return b * passesRun;
}

/** The inputs of a decode pass: every row's last token at its next position. */
function decodeInput(kv: FusedKv, seqs: readonly Sequence[]): FusedForwardInput {
  const { passes, slots } = kv;
  const b = seqs.length;
  const inputIds = new BigInt64Array(b);
  const seqlensK = new Int32Array(b);
  let longest = 0;
  seqs.forEach((seq, row) => {
    const length = slots.lengthOf(seq);
    inputIds[row] = BigInt(seq.lastToken);
    seqlensK[row] = length; // after this step: length + 1 positions, minus 1
    longest = Math.max(longest, length + 1);
  });
  // With the graph's greedy tokens on the device, only the rows that sample, process or report logprobs download theirs.
  const logitRows = passes.greedyOnDevice ? Int32Array.from(seqs.flatMap((seq, row) => (seq.needsLogits ? [row] : []))) : undefined;
  return { slots: slots.slots, capacity: slots.capacity, slot: 0, batch: b, seqLen: 1, inputIds, seqlensK, totalLength: longest, keepLogits: 1, moves: takeMoves(kv), logitRows };
}

/**
 * Passes a greedy run may chain for `seqs`: 0 unless every row takes its greedy token as is (needsLogits false); else
 * up to the first row's max_tokens (so no row runs past it, nor past its slot: prompt + max_tokens fits the slot
 * capacity), at most MAX_RUN. The pool may be host memory or the device's (the addon's pool, its greedy tokens from the
 * graph): the session thread chains the passes the same way.
 */
function greedyRunLength(seqs: readonly Sequence[]): number {
  if (seqs.some((seq) => seq.needsLogits)) return 0;
  return Math.min(MAX_RUN, ...seqs.map((seq) => seq.maxNewTokens - seq.outputIds.length));
}

const NO_LOGITS = new Float32Array(0);

/** Where each of `batch` rows finds its logits in a pass's output: row r at `logitRows.indexOf(r)`, or every row in order. */
function logitsIndex(batch: number, logitRows: Int32Array | undefined): Int32Array {
  if (!logitRows) return Int32Array.from({ length: batch }, (_, row) => row);
  const at = new Int32Array(batch).fill(-1);
  logitRows.forEach((row, k) => {
    at[row] = k;
  });
  return at;
}
