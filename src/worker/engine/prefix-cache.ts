/**
 * Prefix reuse across requests: the KV cache of finished sequences, kept under a memory budget with LRU eviction, so
 * that a request extending a cached prefix (the next turn of a chat, an arena turn, judge prompts sharing a system
 * message) prefills only its new suffix.
 *
 * Lookups go by hashed token blocks, as vLLM's prefix caching does: the key of block i hashes block i's tokens with
 * the key of block i - 1, so one key names a whole prefix. Each stored entry indexes every block boundary it covers;
 * a lookup walks the prompt's block keys and keeps the longest boundary found. The cache holds host memory only
 * (a device-resident cache is not copied out).
 */
import { createHash } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import type { KvData, KvSpec } from './session';

/** Tokens per hashed block: reuse happens in whole blocks. */
export const PREFIX_BLOCK_TOKENS = 16;

interface Entry {
  /** The tokens whose keys and values `kv` holds. */
  ids: number[];
  /** Per KvSpec.pastNames: [kvHeads, ids.length, headDim], compact. */
  kv: KvData[];
  bytes: number;
  /** This entry's block keys, in order (to unindex on eviction). */
  keys: string[];
}

/**
 * Positions 0, 1, ... of one head of one past input (KvSpec.pastNames order), compact [positions, headDim]: where a
 * finished sequence's cache is read from, or a hit's cached positions.
 */
export type KvRows = (input: number, head: number) => KvData;

/** A hit as views of the cached positions (the caller copies them where it needs them). */
export interface PrefixRows {
  length: number;
  rows: KvRows;
}

export interface PrefixHit {
  /** Cached positions reused: a multiple of the block size, less than the prompt's length. */
  length: number;
  /** Fresh tensors [1, kvHeads, length, headDim] per past input (the caller may hand them to a forward pass). */
  tensors: ort.Tensor[];
}

export interface PrefixCacheStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
  reusedTokens: number;
}

function blockKeys(ids: readonly number[], blocks: number): string[] {
  const keys: string[] = [];
  let previous = '';
  for (let b = 0; b < blocks; b++) {
    const block = Int32Array.from(ids.slice(b * PREFIX_BLOCK_TOKENS, (b + 1) * PREFIX_BLOCK_TOKENS));
    previous = createHash('sha256').update(previous).update(new Uint8Array(block.buffer)).digest('base64');
    keys.push(previous);
  }
  return keys;
}

export class PrefixCache {
  /** Insertion order is recency order: a hit re-inserts its entry. */
  private readonly entries = new Map<Entry, true>();
  /** Block key → the entry holding that prefix (the most recently stored one). */
  private readonly index = new Map<string, Entry>();
  private bytes = 0;
  private readonly counters = { hits: 0, misses: 0, reusedTokens: 0 };

  constructor(
    private readonly spec: KvSpec,
    private readonly budgetBytes: number,
  ) {}

  stats(): PrefixCacheStats {
    return { entries: this.entries.size, bytes: this.bytes, ...this.counters };
  }

  /**
   * Stores the cache of `ids` from row `row` of `tensors` ([rows, kvHeads, padded, headDim], the row's real positions
   * right-aligned). Only whole blocks are kept; an entry larger than the budget is not stored.
   */
  store(ids: readonly number[], tensors: readonly ort.Tensor[], row: number, padded: number, length: number): void {
    const { kvHeads, headDim } = this.spec;
    this.storeRows(ids, length, (input, h) => {
      const offset = ((row * kvHeads + h) * padded + (padded - length)) * headDim;
      return (tensors[input].data as KvData).subarray(offset, offset + length * headDim);
    });
  }

  /** Stores the first `length` positions of `ids` read through `rows` (whole blocks only, within the budget). */
  storeRows(ids: readonly number[], length: number, rows: KvRows): void {
    const blocks = Math.floor(Math.min(ids.length, length) / PREFIX_BLOCK_TOKENS);
    if (blocks === 0) return;
    const n = blocks * PREFIX_BLOCK_TOKENS;
    const keys = blockKeys(ids, blocks);
    const last = this.index.get(keys[keys.length - 1]);
    if (last && last.ids.length >= n) {
      this.touch(last);
      return;
    }
    const { kvHeads, headDim } = this.spec;
    const bytes = n * kvHeads * headDim * this.spec.pastNames.length * (this.spec.dtype === 'float32' ? 4 : 2);
    if (bytes > this.budgetBytes) return;
    const kv = this.spec.pastNames.map((_, input) => {
      const dst = this.spec.dtype === 'float32' ? new Float32Array(kvHeads * n * headDim) : new Uint16Array(kvHeads * n * headDim);
      for (let h = 0; h < kvHeads; h++) dst.set(rows(input, h).subarray(0, n * headDim), h * n * headDim);
      return dst;
    });
    const entry: Entry = { ids: ids.slice(0, n), kv, bytes, keys };
    this.entries.set(entry, true);
    for (const key of keys) this.index.set(key, entry);
    this.bytes += bytes;
    while (this.bytes > this.budgetBytes) this.evictOldest();
  }

  /** The longest cached prefix of `ids` that leaves at least one token to prefill, as views; undefined on a miss. */
  lookupRows(ids: readonly number[]): PrefixRows | undefined {
    const blocks = Math.floor((ids.length - 1) / PREFIX_BLOCK_TOKENS);
    let found: { entry: Entry; length: number } | undefined;
    const keys = blockKeys(ids, blocks);
    for (let b = 0; b < keys.length; b++) {
      const entry = this.index.get(keys[b]);
      if (!entry) break;
      found = { entry, length: (b + 1) * PREFIX_BLOCK_TOKENS };
    }
    if (!found) {
      this.counters.misses += 1;
      return undefined;
    }
    const { entry, length } = found;
    this.touch(entry);
    this.counters.hits += 1;
    this.counters.reusedTokens += length;
    const { headDim } = this.spec;
    const stored = entry.ids.length;
    return { length, rows: (input, h) => entry.kv[input].subarray(h * stored * headDim, (h * stored + length) * headDim) };
  }

  /** lookupRows, copied out into fresh tensors [1, kvHeads, length, headDim] per past input. */
  lookup(ids: readonly number[]): PrefixHit | undefined {
    const hit = this.lookupRows(ids);
    if (!hit) return undefined;
    const { kvHeads, headDim, dtype } = this.spec;
    const { length } = hit;
    const tensors = this.spec.pastNames.map((_, input) => {
      const out = dtype === 'float32' ? new Float32Array(kvHeads * length * headDim) : new Uint16Array(kvHeads * length * headDim);
      for (let h = 0; h < kvHeads; h++) out.set(hit.rows(input, h), h * length * headDim);
      return new ort.Tensor(dtype, out, [1, kvHeads, length, headDim]);
    });
    return { length, tensors };
  }

  private touch(entry: Entry): void {
    this.entries.delete(entry);
    this.entries.set(entry, true);
  }

  private evictOldest(): void {
    const oldest = this.entries.keys().next().value;
    if (!oldest) return;
    this.entries.delete(oldest);
    this.bytes -= oldest.bytes;
    for (const key of oldest.keys) if (this.index.get(key) === oldest) this.index.delete(key);
  }
}
