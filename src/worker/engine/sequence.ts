/**
 * One request's generation state: prompt, sampling state, detokenizer, stop criteria, and the chunks it
 * emits. `acceptLogits` consumes the model's logits row for this sequence and decides the next token (applying the
 * sequence's grammar constraint, if any, whose mask `prepareConstraints` computes while the forward pass runs).
 */
import { FleetError } from '../../common/errors';
import { FinishReason } from '../../common/gen/worker';
import { changesLogits, newTokenHistory, processingRow, processLogits, rawLogprobs, recordToken, type TokenHistory } from '../sampling/logits';
import { Rng, randomSeed, sampleToken } from '../sampling/sampler';
import type { ValidSamplingParams } from '../sampling/params';
import { IncrementalDetokenizer, StopStringMatcher, type TextDecoderLike } from './streamed-text';
import type { TokenConstraint } from './constraint';
import type { KvLocation } from './session';

export interface TokenInfoSource extends TextDecoderLike {
  /** The token's text (as decoded alone) and its exact bytes. */
  tokenInfo(id: number): { text: string; bytes: Uint8Array };
}

export interface ChunkLogprob {
  tokenId: number;
  logprob: number;
  top: Array<{ tokenId: number; logprob: number }>;
}

/** What a sequence reports after each step. */
export interface EngineChunk {
  text: string;
  tokenIds: number[];
  logprobs: ChunkLogprob[];
  /** echo: the prompt's text and (with logprobs) its tokens' logprobs; first chunk only. */
  promptText?: string;
  promptLogprobs?: Array<ChunkLogprob | null>;
  finishReason: FinishReason;
  matchedStop?: string;
  matchedStopTokenId?: number;
  usage?: { promptTokens: number; completionTokens: number; cachedTokens: number };
  /** Set with finishReason ERROR. */
  error?: string;
}

export interface SequenceInit {
  id: number;
  promptIds: number[];
  promptText?: string;
  params: ValidSamplingParams;
  /** Most new tokens allowed (max_tokens, or what the context leaves). */
  maxNewTokens: number;
  eosTokenIds: number[];
  tokenizer: TokenInfoSource;
  /** Grammar-constrained decoding: the tokens must follow this constraint; generation ends when it is complete. */
  constraint?: TokenConstraint;
  onChunk: (chunk: EngineChunk) => void;
}

export class Sequence {
  readonly id: number;
  readonly promptIds: number[];
  readonly outputIds: number[] = [];
  readonly params: ValidSamplingParams;
  readonly maxNewTokens: number;
  readonly enqueuedAtMs = performance.now();
  firstTokenAtMs: number | undefined;
  lastTokenAtMs: number | undefined;
  kv: KvLocation | undefined;
  /** Prompt tokens whose keys and values came from the prefix cache (not prefilled). */
  cachedPromptTokens = 0;
  finish: FinishReason = FinishReason.FINISH_REASON_UNSPECIFIED;
  cancelled = false;
  readonly constraint: TokenConstraint | undefined;
  /**
   * Another choice of the same request (same prompt): when both are admitted in one step, this sequence takes a copy
   * of the leader's prefilled KV and first-token logits instead of prefilling the prompt again.
   */
  prefillLeader: Sequence | undefined;

  private readonly rng: Rng;
  private readonly history: TokenHistory;
  private readonly detok: IncrementalDetokenizer;
  private readonly stops: StopStringMatcher;
  private readonly stopTokens: Set<number>;
  private readonly eos: Set<number>;
  private readonly init: SequenceInit;
  /** Some logits processor changes the model's row (else it is sampled in place); fixed by the params. */
  private readonly processes: boolean;

  constructor(init: SequenceInit) {
    this.init = init;
    this.id = init.id;
    this.promptIds = init.promptIds;
    this.params = init.params;
    this.maxNewTokens = init.maxNewTokens;
    this.rng = new Rng(init.params.seed ?? randomSeed());
    this.history = newTokenHistory(init.promptIds);
    this.detok = new IncrementalDetokenizer(init.tokenizer, init.promptIds, init.params.skipSpecialTokens);
    this.stops = new StopStringMatcher(init.params.stop, init.params.includeStopStrInOutput);
    this.stopTokens = new Set(init.params.stopTokenIds);
    this.eos = new Set(init.params.ignoreEos ? [] : init.eosTokenIds);
    this.constraint = init.constraint;
    this.processes = changesLogits(init.params) || init.constraint !== undefined;
  }

  get totalLength(): number {
    return this.promptIds.length + this.outputIds.length;
  }

  get done(): boolean {
    return this.finish !== FinishReason.FINISH_REASON_UNSPECIFIED;
  }

  /** Why the sequence ended (UNSPECIFIED while it runs). */
  get finishReason(): FinishReason {
    return this.finish;
  }

  /**
   * The next token needs this sequence's logits row: it samples, some processor changes the row, or it reports
   * logprobs. Otherwise the row's argmax (the graph's or the addon's greedy token) is the answer.
   */
  get needsLogits(): boolean {
    return this.processes || this.params.temperature !== 0 || this.params.topLogprobs !== undefined;
  }

  /** Tokens that end this sequence when drawn: EOS (unless ignore_eos) and stop_token_ids. */
  get stopTokenIds(): number[] {
    return [...this.eos, ...this.stopTokens];
  }

  /** The last token fed back into the model at the next decode step. */
  get lastToken(): number {
    return this.outputIds[this.outputIds.length - 1];
  }

  /**
   * Samples from this sequence's logits row and emits the resulting chunk. `row` is a view into the
   * forward pass's output and is not modified. `greedy`, the row's argmax when the session thread computed it
   * natively, is taken as is by a greedy sequence whose logits nothing changes (no penalty, bias or grammar); such a
   * sequence (needsLogits false) may get an empty row when the logits stayed on the device.
   */
  acceptLogits(row: Float32Array, promptLogprobs?: Array<ChunkLogprob | null>, greedy?: number): void {
    if (row.length === 0 && (greedy === undefined || this.needsLogits)) throw new FleetError('internal', `sequence ${this.id} got neither its logits nor a greedy token it can use`);
    let logits = row;
    if (this.processes) {
      logits = processingRow(row);
      processLogits(logits, this.params, this.history);
      this.constraint?.apply(logits);
    }
    // `greedy` is the raw row's argmax (computed natively): the answer of a greedy draw on an unprocessed row.
    const token = greedy !== undefined && !this.processes && this.params.temperature === 0 ? greedy : sampleToken(logits, this.params, this.rng);
    const now = performance.now();
    this.firstTokenAtMs ??= now;
    this.lastTokenAtMs = now;
    const chunk: EngineChunk = { text: '', tokenIds: [token], logprobs: [], finishReason: FinishReason.FINISH_REASON_UNSPECIFIED };
    if (this.params.topLogprobs !== undefined) chunk.logprobs.push(this.logprobOf(row, token));
    if (this.outputIds.length === 0 && this.params.echo) {
      chunk.promptText = this.init.promptText ?? '';
      chunk.promptLogprobs = promptLogprobs;
    }
    this.outputIds.push(token);
    if (this.constraint) {
      this.constraint.accept(token);
      if (this.constraint.terminated && !this.eos.has(token) && !this.stopTokens.has(token)) {
        // The grammar is complete and ended on a token that is not a stop token (ignore_eos): end here.
        recordToken(this.history, token);
        chunk.text = this.stops.push(this.detok.push(token)).emit;
        this.end(chunk, FinishReason.FINISH_REASON_STOP);
        return;
      }
    }
    if (this.eos.has(token) || this.stopTokens.has(token)) {
      chunk.matchedStopTokenId = token;
      this.end(chunk, FinishReason.FINISH_REASON_STOP);
      return;
    }
    recordToken(this.history, token);
    const result = this.stops.push(this.detok.push(token));
    chunk.text = result.emit;
    if (result.matched !== undefined) {
      chunk.matchedStop = result.matched;
      this.end(chunk, FinishReason.FINISH_REASON_STOP, false);
      return;
    }
    if (this.outputIds.length >= this.maxNewTokens) {
      this.end(chunk, FinishReason.FINISH_REASON_LENGTH);
      return;
    }
    this.init.onChunk(chunk);
  }

  /** Ends the sequence from outside (cancellation, shutdown, engine failure). */
  abort(reason: FinishReason, error?: string): void {
    if (this.done) return;
    this.end({ text: '', tokenIds: [], logprobs: [], finishReason: reason, error }, reason, false);
  }

  private end(chunk: EngineChunk, reason: FinishReason, flush = true): void {
    if (flush) {
      const tail = this.stops.push(this.detok.flush());
      chunk.text += tail.emit;
      if (tail.matched !== undefined) {
        chunk.matchedStop = tail.matched;
        reason = FinishReason.FINISH_REASON_STOP;
      } else {
        chunk.text += this.stops.flush();
      }
    }
    this.finish = reason;
    this.constraint?.dispose();
    chunk.finishReason = reason;
    chunk.usage = { promptTokens: this.promptIds.length, completionTokens: this.outputIds.length, cachedTokens: this.cachedPromptTokens };
    this.init.onChunk(chunk);
  }

  private logprobOf(row: Float32Array, token: number): ChunkLogprob {
    const lp = rawLogprobs(row, this.params.topLogprobs ?? 0);
    return { tokenId: token, logprob: row[token] - lp.lse, top: lp.top };
  }
}

/** Prepares the masks of the constrained sequences among `seqs`. */
export async function prepareConstraints(seqs: ReadonlyArray<{ readonly constraint?: TokenConstraint; readonly done: boolean }>): Promise<void> {
  const pending: Promise<void>[] = [];
  for (const seq of seqs) if (seq.constraint && !seq.done) pending.push(seq.constraint.prepare());
  if (pending.length > 0) await Promise.all(pending);
}
