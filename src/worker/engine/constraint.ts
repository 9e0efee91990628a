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

/** Sets to -Infinity every logit whose bit is clear in an xgrammar-style bitmask (bit i of word i >> 5 = token i allowed). */
export function applyTokenBitmask(logits: Float32Array, mask: Int32Array): void {
  const n = logits.length;
  for (let w = 0; w < mask.length; w++) {
    const word = mask[w];
    if (word === -1) continue; // all 32 allowed
    const base = w << 5;
    const end = Math.min(base + 32, n);
    if (word === 0) {
      logits.fill(-Infinity, base, end);
      continue;
    }
    for (let i = base; i < end; i++) if (((word >>> (i - base)) & 1) === 0) logits[i] = -Infinity;
  }
  // Tokens past the mask (a model vocabulary larger than the tokenizer's) are never allowed.
  if (mask.length * 32 < n) logits.fill(-Infinity, mask.length * 32, n);
}
