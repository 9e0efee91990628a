/**
 * Choosing a worker for a request: pure, shared by the controller (GetWorkerAddress, ListModels) and the gateway
 * (local dispatch from its live view of the workers).
 *
 * The load policy, as FastChat's controller has it: `shortest_queue` (the least loaded relative to its capacity,
 * counting requests the chooser itself sent since the worker's last report) or `lottery` (random, weighted by speed).
 *
 * Prefix-aware routing: send a request to the worker that most likely holds its prompt's prefix in its prefix cache
 * (the previous turn of the same chat, another judge prompt with the same system message), unless that worker is
 * overloaded beyond a bound — then the load policy decides, as llm-d's scheduler and SGLang's cache-aware router do.
 *
 * The router cannot see the workers' caches, so it remembers where it sent what: an approximate index from the
 * chained hashes of a prompt's text blocks (key i names the whole prefix up to block i, see `routeKeysOf`) to the
 * worker that last received that prefix, bounded by an entry count with LRU eviction. A lookup walks the request's
 * keys in order and takes the deepest one that maps to a live candidate.
 *
 * The keys (`routeKeysOf`, computed by the gateway, which sends them to the controller when it asks there): the
 * request is written as one text in which a later chat turn extends an earlier one (a header with the model, template
 * and tools, then each message in order), cut into blocks of ROUTE_BLOCK_CHARS; key i hashes blocks 0..i, so equal
 * keys mean equal prefixes. The affinity key hashes the conversation's opening — every message up to and including
 * the first user message — so it is the same on every turn of one chat; for a raw prompt it is the first block (or the
 * whole short prompt). Text, not tokens: the gateway does not tokenize, and a block boundary only approximates the
 * worker's token blocks.
 *
 * With no remembered prefix, the request's affinity key (the hash of its conversation's opening, the same on every
 * turn) picks a worker by rendezvous hashing: every router that sees the same workers picks the same one without
 * sharing any state, so several gateway replicas send a conversation's turns to one worker even when a load balancer
 * spreads the turns over the replicas.
 */
import { createHash, type Hash } from 'node:crypto';
import { enumOption, floatOption, intOption, type ConfigOf } from './config';
import { FleetError } from './errors';
import type { WorkerInfo } from './gen/controller';
import { ModelKind, type ChatMessage, type GenerateRequest, type WorkerStatus } from './gen/worker';
import { ANONY_ONLY_LABEL } from './worker-labels';

export type DispatchMethodName = 'shortest_queue' | 'lottery';

export interface DispatchCandidate {
  status: WorkerStatus | undefined;
  /** Requests sent to this worker that its last reported status does not include yet. */
  pending: number;
}

/** Requests per slot: queued, running and not yet reported, over the worker's concurrency. */
export function loadOf(c: DispatchCandidate): number {
  const s = c.status;
  const capacity = Math.max(1, s?.maxConcurrency ?? 1);
  return ((s?.queueLength ?? 0) + (s?.running ?? 0) + c.pending) / capacity;
}

export function chooseCandidate<T extends DispatchCandidate>(candidates: T[], method: DispatchMethodName, random: () => number = Math.random): T {
  const live = candidates.filter((c) => !c.status?.draining);
  if (live.length === 0) throw new FleetError('unavailable', 'no live worker can take the request', { retryAfterS: 1 });
  if (method === 'lottery') {
    const weights = live.map((c) => Math.max(c.status?.speed ?? 0, 1e-3));
    const total = weights.reduce((a, b) => a + b, 0);
    let u = random() * total;
    for (let i = 0; i < live.length; i++) {
      u -= weights[i];
      if (u < 0) return live[i];
    }
    return live[live.length - 1];
  }
  const loads = live.map(loadOf);
  const best = Math.min(...loads);
  const tied = live.filter((_, i) => loads[i] === best);
  return tied[Math.floor(random() * tied.length)];
}

/** Most prefix keys one request carries (longer prompts route on their first blocks). */
export const MAX_PREFIX_KEYS = 2048;
/** Longest accepted key (the gateway's keys are 22 characters). */
export const MAX_ROUTE_KEY_CHARS = 64;

export interface RouteKeys {
  /** Chained block hashes of the prompt, in order. */
  prefixKeys: string[];
  /** Hash of the conversation's opening ('' = none). */
  affinityKey: string;
}

export type RouteReason = 'prefix' | 'affinity' | 'load';

export interface PrefixRoutingOptions {
  /**
   * The preferred worker is used unless its load (requests per slot, see `loadOf`) exceeds the least loaded
   * candidate's by more than this, or it has no free slot while another candidate has one.
   */
  maxImbalance: number;
  /** Entries of the prefix index (LRU beyond). */
  maxEntries: number;
}

export const DEFAULT_PREFIX_ROUTING: PrefixRoutingOptions = { maxImbalance: 0.5, maxEntries: 65_536 };

/** The flags of whoever dispatches (the gateway's local dispatch, the controller). */
export const prefixRoutingOptions = {
  prefixRouting: enumOption({ flag: '--prefix-routing', description: 'prefer the worker that holds the longest prefix of a request (the previous turn of a chat), else the conversation\'s rendezvous-hash worker, falling back to load beyond --prefix-routing-max-imbalance', default: 'on', choices: ['on', 'off'] as const }),
  prefixRoutingMaxImbalance: floatOption({ flag: '--prefix-routing-max-imbalance', description: 'how much busier (requests per slot) than the least loaded worker the preferred worker may be; a full worker is skipped while another has a free slot', default: DEFAULT_PREFIX_ROUTING.maxImbalance, min: 0, max: 1000 }),
  prefixRoutingEntries: intOption({ flag: '--prefix-routing-entries', description: 'prefix blocks remembered for routing (LRU; about 150 bytes each); 0 = rendezvous hashing only', default: DEFAULT_PREFIX_ROUTING.maxEntries, min: 0, max: 10_000_000 }),
};

/** The routing options from parsed flags; undefined when prefix routing is off. */
export function prefixRoutingFrom(config: ConfigOf<typeof prefixRoutingOptions>): PrefixRoutingOptions | undefined {
  return config.prefixRouting === 'on' ? { maxImbalance: config.prefixRoutingMaxImbalance, maxEntries: config.prefixRoutingEntries } : undefined;
}

/** Throws invalid_request when keys exceed the documented limits (the controller checks what gateways send). */
export function checkRouteKeys(keys: RouteKeys): void {
  if (keys.prefixKeys.length > MAX_PREFIX_KEYS) throw new FleetError('invalid_request', `at most ${MAX_PREFIX_KEYS} prefix_keys`, { param: 'prefix_keys' });
  if (keys.affinityKey.length > MAX_ROUTE_KEY_CHARS || keys.prefixKeys.some((k) => k.length > MAX_ROUTE_KEY_CHARS)) {
    throw new FleetError('invalid_request', `route keys are at most ${MAX_ROUTE_KEY_CHARS} characters`, { param: 'prefix_keys' });
  }
}

/** Characters per block of a request's routing text (one prefix key per block). */
export const ROUTE_BLOCK_CHARS = 128;
const SEP = '\u0000';
const END = '\u0001';

const digest = (h: Hash): string => h.digest('base64url').slice(0, 22);

function messageText(m: ChatMessage): string {
  return [m.role, m.name, m.content, m.toolCallId, m.toolCallsJson].join(SEP) + END;
}

/** The request as text, and where its conversation's opening ends in it (chars). */
function requestText(request: GenerateRequest): { text: string; anchorEnd: number } {
  const header = ['fleetchat-route-v1', request.model].join(SEP) + END;
  if (request.chat) {
    const chat = request.chat;
    let text = header + ['chat', chat.convTemplate, chat.toolsJson].join(SEP) + END;
    let anchorEnd = -1;
    for (const m of chat.messages) {
      text += messageText(m);
      if (anchorEnd < 0 && m.role === 'user') anchorEnd = text.length;
    }
    return { text, anchorEnd: anchorEnd < 0 ? text.length : anchorEnd };
  }
  const body = request.promptTokenIds.length > 0 ? `ids${SEP}${request.promptTokenIds.join(',')}` : `prompt${SEP}${request.prompt}`;
  const text = header + body;
  return { text, anchorEnd: Math.min(text.length, header.length + ROUTE_BLOCK_CHARS) };
}

/** A request's routing keys: the chained hashes of its text's blocks and its affinity key (see the header). */
export function routeKeysOf(request: GenerateRequest): RouteKeys {
  const { text, anchorEnd } = requestText(request);
  const blocks = Math.min(MAX_PREFIX_KEYS, Math.floor(text.length / ROUTE_BLOCK_CHARS));
  const hash = createHash('sha256');
  const prefixKeys: string[] = [];
  for (let b = 0; b < blocks; b++) {
    hash.update(text.slice(b * ROUTE_BLOCK_CHARS, (b + 1) * ROUTE_BLOCK_CHARS));
    prefixKeys.push(digest(hash.copy()));
  }
  const affinityKey = digest(createHash('sha256').update(text.slice(0, anchorEnd)));
  return { prefixKeys, affinityKey };
}

/** Where prefixes were sent: block key → worker id, least recently used first. */
export class PrefixIndex {
  private readonly entries = new Map<string, string>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The worker of the deepest key of `keys` (walked in order, stopping at the first unknown one) accepted by `live`. */
  deepest(keys: readonly string[], live: (workerId: string) => boolean): string | undefined {
    let found: string | undefined;
    for (const key of keys) {
      const worker = this.entries.get(key);
      if (worker === undefined) break;
      if (live(worker)) found = worker;
    }
    return found;
  }

  record(keys: readonly string[], workerId: string): void {
    if (this.maxEntries <= 0) return;
    for (const key of keys) {
      this.entries.delete(key);
      this.entries.set(key, workerId);
    }
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }
}

/** Rendezvous (highest random weight) hashing: the candidate whose hash with `key` is largest. */
export function rendezvous<T>(key: string, candidates: readonly T[], idOf: (c: T) => string): T {
  let best = candidates[0];
  if (candidates.length === 1) return best; // one candidate wins whatever its hash (no hashing per request)
  let bestScore = '';
  for (const c of candidates) {
    const score = createHash('sha256').update(key).update('\u0000').update(idOf(c)).digest('hex');
    if (score > bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}

export interface RoutedCandidate extends DispatchCandidate {
  workerId: string;
}

/** Too busy to be worth its cache: beyond the imbalance bound, or full while another worker has a free slot. */
function overloaded(preferred: RoutedCandidate, live: readonly RoutedCandidate[], maxImbalance: number): boolean {
  const loads = live.map(loadOf);
  const least = Math.min(...loads);
  const own = loadOf(preferred);
  if (own - least > maxImbalance) return true;
  return own >= 1 && least < 1;
}

/**
 * Chooses among `candidates` (draining ones never): the worker holding the longest known prefix, else the affinity
 * key's rendezvous worker, unless overloaded; then `method`. Records the request's prefix keys for the chosen one.
 */
export function routeRequest<T extends RoutedCandidate>(
  candidates: T[],
  keys: RouteKeys,
  index: PrefixIndex,
  options: { method: DispatchMethodName; maxImbalance: number; random?: () => number },
): { chosen: T; route: RouteReason } {
  const live = candidates.filter((c) => !c.status?.draining);
  if (live.length === 0) throw new FleetError('unavailable', 'no live worker can take the request', { retryAfterS: 1 });
  const byId = new Map(live.map((c) => [c.workerId, c]));
  let preferred: T | undefined;
  let route: RouteReason = 'load';
  const cached = index.deepest(keys.prefixKeys, (id) => byId.has(id));
  if (cached !== undefined) {
    preferred = byId.get(cached);
    route = 'prefix';
  } else if (keys.affinityKey) {
    preferred = rendezvous(keys.affinityKey, live, (c) => c.workerId);
    route = 'affinity';
  }
  let chosen: T;
  if (preferred && !overloaded(preferred, live, options.maxImbalance)) chosen = preferred;
  else {
    chosen = chooseCandidate(live, options.method, options.random);
    route = 'load';
  }
  index.record(keys.prefixKeys, chosen.workerId);
  return { chosen, route };
}

/** One served model name across the workers that serve it. */
export interface ModelTotals {
  name: string;
  kind: ModelKind;
  workers: number;
  /** The smallest context length among its workers (a request must fit any of them). */
  contextLength: number;
  queueLength: number;
  running: number;
  maxConcurrency: number;
  /** Every worker serving it is labelled anonymous-only (see worker-labels.ts). */
  anonyOnly: boolean;
}

/** Per-model totals over a set of workers, sorted by name; shared by the controller (ListModels) and the gateway. */
export function modelTotals(workers: Iterable<WorkerInfo>): ModelTotals[] {
  const byName = new Map<string, ModelTotals>();
  for (const w of workers) {
    for (const name of w.modelNames) {
      const m = byName.get(name) ?? { name, kind: w.kind, workers: 0, contextLength: w.contextLength, queueLength: 0, running: 0, maxConcurrency: 0, anonyOnly: true };
      m.workers += 1;
      m.anonyOnly &&= w.labels[ANONY_ONLY_LABEL] === 'true';
      m.contextLength = Math.min(m.contextLength || w.contextLength, w.contextLength || m.contextLength);
      m.queueLength += w.status?.queueLength ?? 0;
      m.running += w.status?.running ?? 0;
      m.maxConcurrency += w.status?.maxConcurrency ?? 0;
      if (m.kind === ModelKind.MODEL_KIND_UNSPECIFIED) m.kind = w.kind;
      byName.set(name, m);
    }
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}
