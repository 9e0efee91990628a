/**
 * A constraint on a sequence's tokens (grammar-constrained decoding), as the engine sees it: before each forward
 * pass the engine asks every constrained sequence to prepare its next-token mask (this overlaps the pass, which runs
 * on the session thread); the sequence applies it to its logits row before sampling and advances the constraint with
 * the token it picked. Rows of unconstrained sequences in the same batch are never touched.
 */
export interface TokenConstraint {
  /** Computes the mask of tokens allowed next (after the tokens accepted so far). */
  prepare(): Promise<void>;
  /** Sets the logits of disallowed tokens to -Infinity (uses the mask from the last prepare()). */
  apply(logits: Float32Array): void;
  /** Advances the constraint; false when the token was not allowed (it is then not consumed). */
  accept(token: number): boolean;
  /** The grammar is complete: nothing more may be generated. */
  readonly terminated: boolean;
  /** Frees the engine-side state (called once, when the sequence ends). */
  dispose(): void;
}

/** Prepares the masks of the constrained sequences among `seqs`. */
export async function prepareConstraints(seqs: ReadonlyArray<{ readonly constraint?: TokenConstraint; readonly done: boolean }>): Promise<void> {
  const pending: Promise<void>[] = [];
  for (const seq of seqs) if (seq.constraint && !seq.done) pending.push(seq.constraint.prepare());
  if (pending.length > 0) await Promise.all(pending);
}

/**
 * Sets to -Infinity every logit whose bit is clear in an xgrammar-style bitmask (bit i of word i >> 5 = token i
 * allowed). Whole words go at once (all allowed: skipped; runs of none allowed: one fill); in a mixed word only the clear bits are
 * visited (lowest first, `x & -x`), so the cost follows the disallowed tokens of mixed words, not 32 per word.
 */
export function applyTokenBitmask(logits: Float32Array, mask: Int32Array): void {
  const n = logits.length;
  const words = Math.min(mask.length, (n + 31) >>> 5);
  for (let w = 0; w < words; w++) {
    const word = mask[w];
    if (word === -1) continue; // all 32 allowed
    const base = w << 5;
    if (word === 0) {
      let end = w + 1; // a run of all-disallowed words: one fill
      while (end < words && mask[end] === 0) end++;
      logits.fill(-Infinity, base, Math.min(end << 5, n));
      w = end - 1;
      continue;
    }
    let clear = ~word;
    while (clear !== 0) {
      const i = base + 31 - Math.clz32(clear & -clear);
      if (i < n) logits[i] = -Infinity;
      clear &= clear - 1;
    }
  }
  // Tokens past the mask (a model vocabulary larger than the tokenizer's) are never allowed.
  if (words * 32 < n) logits.fill(-Infinity, words * 32, n);
}
