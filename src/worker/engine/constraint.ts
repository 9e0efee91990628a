/**
 * A constraint on a sequence's tokens (grammar-constrained decoding), as the engine sees it: before each forward
 * pass the engine asks every constrained sequence to prepare its next-token mask (this overlaps the pass, which runs
 * on the session thread); the sequence applies it to its logits row before sampling and advances the constraint with
 * the token it picked. Rows of unconstrained sequences in the same batch are never touched. Only this interface lives
 * here: the per-step `prepareConstraints` is in `sequence.ts`, xgrammar's bitmask in `grammar/grammars.ts`.
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
