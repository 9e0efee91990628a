/**
 * The scheduler of continuous batching over one decoder session: who runs, not how (the forward passes are in
 * step.ts).
 *
 *   loop: admit (FCFS under three budgets: running sequences, prompt tokens per step, KV-cache memory)
 *         → prefillStep for the admitted (their KV caches and first tokens)
 *         → decodeStep for every running sequence (one shared forward pass)
 *         → retire finished / cancelled sequences (their slots, caches and KV reservations are freed at once)
 */
import { FleetError } from '../../common/errors';
import { FinishReason } from '../../common/gen/worker';
import type { EngineOptions, EngineRequest, EngineStatus, SequenceHandle } from './engine-types';
import { Sequence, type ChunkLogprob } from './sequence';
import { PrefixCache, type PrefixCacheStats } from './prefix-cache';
import { bytesPerPosition, formatKvBytes as size, isDeviceKv, type DecoderSession } from './session';
import { decodeStep, prefillStep, runningBatch, type RunningBatch } from './step';
import { bindFusedPool, fusedKv, fusedPrefillStep, keepFusedPrefix, type FusedKv } from './fused-step';
import { fusedDecodeStep } from './fused-decode';

/** Largest logits tensor a prefill pass may produce, in floats (256 MB). */
const MAX_PREFILL_LOGITS = 64 * 1024 * 1024;

const yieldToEventLoop = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

export class Scheduler {
  private readonly waiting: Sequence[] = [];
  private readonly running: Sequence[] = [];
  private batch: RunningBatch | undefined;
  private nextId = 1;
  private loopPromise: Promise<void> | undefined;
  private draining = false;
  private generatedTokens = 0;
  private speed = 0;
  private idleWaiters: Array<() => void> = [];
  /** KV bytes reserved by the running sequences. */
  private kvReserved = 0;
  private readonly kvReservations = new Map<Sequence, number>();

  /** Keys and values of finished sequences, for requests that extend them (see prefix-cache.ts). */
  private readonly prefixes: PrefixCache | undefined;
  /** A fused graph's in-place KV pool: one slot per running sequence (see fused-step.ts). */
  private readonly fused: FusedKv | undefined;
  /** The fused pool bound to the session's passes (once, before the first pass). */
  private poolBound: Promise<void> | undefined;
  /** Positions a sequence may reach: the context length, or a fused pool's slot capacity when smaller. */
  private readonly contextLimit: number;

  constructor(
    private readonly session: DecoderSession,
    private readonly options: EngineOptions,
  ) {
    // The prefix cache holds host memory: a device-resident cache is not copied out.
    this.prefixes = (options.prefixCacheBytes ?? 0) > 0 && !session.kvOnDevice ? new PrefixCache(session.kv, options.prefixCacheBytes ?? 0) : undefined;
    this.fused = session.fused ? fusedKv(session, session.fused, options, this.prefixes) : undefined;
    this.contextLimit = this.fused ? this.fused.slots.capacity : options.contextLength;
  }

  /** The KV slot capacity of a fused model (positions), or undefined for a standard graph. */
  get kvSlotCapacity(): number | undefined {
    return this.fused?.slots.capacity;
  }

  /** Prefix-cache counters (undefined when the cache is off). */
  prefixCacheStats(): PrefixCacheStats | undefined {
    return this.prefixes?.stats();
  }

  /** Prefill computes the lm_head for the last prompt position only (the graph has `num_logits_to_keep`). */
  get trimsLogits(): boolean {
    return this.session.trimsLogits;
  }

  /** Queues a request. Throws `context_length_exceeded`, `overloaded` or `unavailable` (draining). */
  submit(request: EngineRequest): SequenceHandle {
    return this.enqueue(request, undefined).handle;
  }

  /**
   * Queues the n choices of one request (the same prompt, their own sampling parameters and sinks): they are queued
   * together, admitted together where slots allow, and the prompt is prefilled once — the others copy its KV cache
   * and first-token logits (see prefillStep). All or none are queued.
   */
  submitChoices(requests: EngineRequest[]): SequenceHandle[] {
    const queued: Array<{ handle: SequenceHandle; seq: Sequence }> = [];
    try {
      for (const request of requests) queued.push(this.enqueue(request, queued[0]?.seq));
    } catch (err) {
      for (const q of queued) q.handle.cancel();
      throw err;
    }
    return queued.map((q) => q.handle);
  }

  private enqueue(request: EngineRequest, leader: Sequence | undefined): { handle: SequenceHandle; seq: Sequence } {
    if (this.draining) throw new FleetError('unavailable', 'worker is shutting down', { retryAfterS: 1 });
    const contextLength = this.contextLimit;
    const promptLen = request.promptIds.length;
    if (promptLen === 0) throw new FleetError('invalid_request', 'prompt is empty (0 tokens)', { param: 'prompt' });
    if (promptLen >= contextLength) {
      throw new FleetError('context_length_exceeded', `prompt has ${promptLen} tokens but the model's context length is ${contextLength}; there is no room for a completion`, { param: 'messages', code: 'context_length_exceeded' });
    }
    const maxTokens = request.params.maxTokens;
    if (maxTokens !== undefined && promptLen + maxTokens > contextLength) {
      throw new FleetError('context_length_exceeded', `prompt (${promptLen} tokens) + max_tokens (${maxTokens}) = ${promptLen + maxTokens} exceeds the context length ${contextLength}`, { param: 'max_tokens', code: 'context_length_exceeded' });
    }
    const kvNeed = this.kvBytesFor(promptLen + (maxTokens ?? contextLength - promptLen));
    if (kvNeed > this.options.maxKvBytes) {
      throw new FleetError('context_length_exceeded', `this request reserves ${size(kvNeed)} of KV cache (prompt + max_tokens positions) but the worker's KV budget is ${size(this.options.maxKvBytes)}; lower max_tokens`, { param: 'max_tokens', code: 'context_length_exceeded' });
    }
    // Requests that the next step admits into free slots are not "queued"; beyond them, at most maxQueue wait.
    const freeSlots = Math.max(0, this.options.maxConcurrency - this.running.length);
    if (this.waiting.length - freeSlots >= this.options.maxQueue) {
      throw new FleetError('overloaded', `queue is full (${this.options.maxQueue} waiting)`, { retryAfterS: 1 });
    }
    const seq = new Sequence({
      id: this.nextId++,
      promptIds: request.promptIds,
      promptText: request.promptText,
      params: request.params,
      maxNewTokens: maxTokens ?? contextLength - promptLen,
      eosTokenIds: this.options.eosTokenIds,
      tokenizer: this.options.tokenizer,
      constraint: request.constraint,
      onChunk: request.onChunk,
    });
    seq.prefillLeader = leader;
    this.waiting.push(seq);
    this.kick();
    return { handle: { id: seq.id, cancel: () => this.cancel(seq) }, seq };
  }

  status(): EngineStatus {
    return {
      queueLength: this.waiting.length,
      running: this.running.length,
      maxConcurrency: this.options.maxConcurrency,
      speed: this.speed,
      generatedTokens: this.generatedTokens,
      draining: this.draining,
    };
  }

  /** Stops admitting new requests and resolves when every queued and running sequence has finished. */
  async drain(): Promise<void> {
    this.draining = true;
    if (this.waiting.length === 0 && this.running.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Cancels everything (forced shutdown). */
  abortAll(reason: FinishReason = FinishReason.FINISH_REASON_CANCELLED): void {
    for (const seq of [...this.waiting, ...this.running]) seq.abort(reason);
    this.waiting.length = 0;
  }

  private cancel(seq: Sequence): void {
    if (seq.done) return;
    seq.cancelled = true;
    const i = this.waiting.indexOf(seq);
    if (i >= 0) {
      this.waiting.splice(i, 1);
      seq.abort(FinishReason.FINISH_REASON_CANCELLED);
    }
  }

  private kick(): void {
    this.loopPromise ??= this.loop().finally(() => {
      this.loopPromise = undefined;
      if (this.waiting.length > 0) this.kick();
    });
  }

  private async loop(): Promise<void> {
    // Starting from idle: let the rest of this I/O turn's requests arrive first (a burst read from one socket is
    // submitted within one turn), so they share the first prefill instead of queueing behind a lone one.
    await yieldToEventLoop();
    while (this.waiting.length > 0 || this.running.length > 0) {
      try {
        await this.step();
      } catch (err) {
        this.failRunning(err);
      }
      // Yield to the event loop so cancellations and new requests are seen between steps.
      await yieldToEventLoop();
    }
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async step(): Promise<void> {
    if (this.fused) return this.fusedStep(this.fused);
    this.retire();
    const limits = { maxTokens: this.options.maxPrefillTokens, maxLogits: MAX_PREFILL_LOGITS, vocab: this.options.vocab, trimsLogits: this.session.trimsLogits };
    await prefillStep(this.session, this.admit(), limits, this.deliverFn, this.observeFn, this.prefixes);
    this.retire();
    if (this.running.length > 0) {
      this.batch = await runningBatch(this.session, this.running, this.batch);
      const started = performance.now();
      await decodeStep(this.session, this.batch, this.deliverFn, this.observeFn);
      const b = this.batch.seqs.length;
      const seconds = (performance.now() - started) / 1000;
      this.speed = this.speed === 0 ? b / seconds : 0.8 * this.speed + 0.2 * (b / seconds);
    }
    this.retire();
  }

  private async fusedStep(fused: FusedKv): Promise<void> {
    await (this.poolBound ??= bindFusedPool(fused));
    this.retire();
    const limits = { maxTokens: this.options.maxPrefillTokens, maxLogits: MAX_PREFILL_LOGITS, vocab: this.options.vocab, trimsLogits: true };
    await fusedPrefillStep(fused, this.admit(), limits, this.deliverFn, this.observeFn);
    this.retire();
    const started = performance.now();
    const tokens = await fusedDecodeStep(fused, this.deliverFn, this.observeFn, this.options.greedyRuns === false ? undefined : this.keepRunningFn);
    if (tokens > 0) {
      const seconds = (performance.now() - started) / 1000;
      this.speed = this.speed === 0 ? tokens / seconds : 0.8 * this.speed + 0.2 * (tokens / seconds);
    }
    this.retire();
  }

  /** A greedy run goes on while no request waits for a free slot (else it ends, and the next step admits it). */
  private readonly keepRunningFn = (): boolean => this.waiting.length === 0 || this.running.length >= this.options.maxConcurrency;

  private kvBytesFor(positions: number): number {
    return positions * bytesPerPosition(this.session.kv);
  }

  /**
   * FCFS admission under the concurrency cap, the prefill token budget and the KV memory budget. The head of the
   * queue is never skipped (no starvation): when it does not fit, admission stops until sequences retire.
   */
  private admit(): Sequence[] {
    const admitted: Sequence[] = [];
    let budget = this.options.maxPrefillTokens;
    while (this.waiting.length > 0 && this.running.length < this.options.maxConcurrency) {
      const next = this.waiting[0];
      // A choice whose leader is prefilled in this step costs no prefill tokens (it copies the leader's cache).
      const cost = next.prefillLeader && admitted.includes(next.prefillLeader) ? 0 : next.promptIds.length;
      if (admitted.length > 0 && cost > budget) break;
      const kv = this.kvBytesFor(next.promptIds.length + next.maxNewTokens);
      if (this.running.length > 0 && this.kvReserved + kv > this.options.maxKvBytes) break;
      this.waiting.shift();
      budget -= cost;
      this.kvReserved += kv;
      this.kvReservations.set(next, kv);
      this.running.push(next);
      admitted.push(next);
    }
    return admitted;
  }

  private readonly deliverFn = (seq: Sequence, row: Float32Array, promptLogprobs?: Array<ChunkLogprob | null>, greedy?: number): void => this.deliver(seq, row, promptLogprobs, greedy);
  private readonly observeFn = (batch: number, seconds: number, prefillTokens?: number): void => {
    this.options.observer?.onStep?.(batch, seconds);
    if (prefillTokens) this.options.observer?.onPrefillTokens?.(prefillTokens);
  };

  /** A sequence's logits row from a step: it picks its next token; metrics see first and inter-token times. */
  private deliver(seq: Sequence, row: Float32Array, promptLogprobs?: Array<ChunkLogprob | null>, greedy?: number): void {
    const first = seq.outputIds.length === 0;
    const previous = seq.lastTokenAtMs;
    seq.acceptLogits(row, promptLogprobs, greedy);
    this.generatedTokens += 1;
    this.options.observer?.onTokens?.(1);
    if (first && seq.firstTokenAtMs !== undefined) this.options.observer?.onFirstToken?.((seq.firstTokenAtMs - seq.enqueuedAtMs) / 1000);
    if (!first && previous !== undefined && seq.lastTokenAtMs !== undefined) this.options.observer?.onInterToken?.((seq.lastTokenAtMs - previous) / 1000);
  }

  /** Removes finished and cancelled sequences from the running set (freeing their slots and caches). */
  private retire(): void {
    for (let i = this.running.length - 1; i >= 0; i--) {
      const seq = this.running[i];
      if (seq.cancelled && !seq.done) seq.abort(FinishReason.FINISH_REASON_CANCELLED);
      if (seq.done) {
        this.keepPrefix(seq);
        this.fused?.slots.release(seq);
        seq.kv = undefined;
        this.kvReserved -= this.kvReservations.get(seq) ?? 0;
        this.kvReservations.delete(seq);
        this.running.splice(i, 1);
      }
    }
    if (this.running.length === 0) this.batch = undefined;
  }

  /** A finished sequence's keys and values go to the prefix cache (host memory only; not after an error). */
  private keepPrefix(seq: Sequence): void {
    if (this.fused && seq.finishReason !== FinishReason.FINISH_REASON_ERROR) keepFusedPrefix(this.fused, seq);
    const kv = seq.kv;
    if (!this.prefixes || !kv || isDeviceKv(kv.tensors) || seq.finishReason === FinishReason.FINISH_REASON_ERROR) return;
    const ids = [...seq.promptIds, ...seq.outputIds].slice(0, kv.length);
    this.prefixes.store(ids, kv.tensors, kv.row, kv.padded, kv.length);
  }

  private failRunning(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    for (const seq of this.running) seq.abort(FinishReason.FINISH_REASON_ERROR, message);
    this.running.length = 0;
    this.kvReserved = 0;
    this.kvReservations.clear();
    this.batch = undefined;
    this.fused?.slots.clear();
  }
}
