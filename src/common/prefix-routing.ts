/**
 * Prefix-aware routing: send a request to the worker that most likely holds its prompt's prefix in its prefix cache
 * (the previous turn of the same chat, another judge prompt with the same system message), unless that worker is
 * overloaded beyond a bound — then the plain load choice (src/common/dispatch.ts) decides, as llm-d's scheduler and
 * SGLang's cache-aware router do.
 *
 * The router cannot see the workers' caches, so it remembers where it sent what: an approximate index from the
 * chained hashes of a prompt's text blocks (key i names the whole prefix up to block i, see the gateway's
 * route-keys.ts) to the worker that last received that prefix, bounded by an entry count with LRU eviction. A lookup
 * walks the request's keys in order and takes the deepest one that maps to a live candidate.
 *
 * With no remembered prefix, the request's affinity key (the hash of its conversation's opening, the same on every
 * turn) picks a worker by rendezvous hashing: every router that sees the same workers picks the same one without
 * sharing any state, so several gateway replicas send a conversation's turns to one worker even when a load balancer
 * spreads the turns over the replicas.
 */
import { createHash } from 'node:crypto';
import { enumOption, floatOption, intOption, type ConfigOf } from './config';
import { FleetError } from './errors';
import { chooseCandidate, loadOf, type DispatchCandidate, type DispatchMethodName } from './dispatch';

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
   * The preferred worker is used unless its load (requests per slot, see dispatch.ts) exceeds the least loaded
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
