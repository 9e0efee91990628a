/**
 * Which sequence holds which slot of a fused graph's KV pool (see fused-kv-pool.ts). The running sequences always
 * hold slots 0 .. n-1, so one decode pass covers them all: when a sequence leaves, the one in the last slot moves into
 * its place (a copy of that one sequence's positions, made at once through `move`), and a new sequence takes slot n.
 * Slots are reused across requests; nothing is allocated per request.
 */
import { FleetError } from '../../common/errors';

export class KvSlots<T> {
  private readonly order: T[] = [];
  private readonly lengths = new Map<T, number>();

  constructor(
    /** Slots in the pool. */
    readonly slots: number,
    /** Positions per slot. */
    readonly capacity: number,
    /** Copies `length` positions of slot `from` into slot `to` (the pool's move). */
    private readonly move: (from: number, to: number, length: number) => void,
  ) {
    if (slots < 1 || capacity < 1) throw new FleetError('internal', `a KV pool needs slots and capacity, got ${slots} × ${capacity}`);
  }

  /** Holders in slot order (slot i = index i). */
  members(): readonly T[] {
    return this.order;
  }

  /** Takes the next free slot (empty: length 0). */
  acquire(item: T): number {
    if (this.lengths.has(item)) throw new FleetError('internal', 'a sequence asked for a second KV slot');
    if (this.order.length >= this.slots) throw new FleetError('internal', `all ${this.slots} KV slots are taken`);
    this.order.push(item);
    this.lengths.set(item, 0);
    return this.order.length - 1;
  }

  slotOf(item: T): number {
    const i = this.order.indexOf(item);
    if (i < 0) throw new FleetError('internal', 'the sequence holds no KV slot');
    return i;
  }

  /** Positions the holder's slot holds. */
  lengthOf(item: T): number {
    return this.lengths.get(item) ?? 0;
  }

  setLength(item: T, length: number): void {
    if (!this.lengths.has(item)) throw new FleetError('internal', 'the sequence holds no KV slot');
    if (length > this.capacity) throw new FleetError('internal', `${length} positions exceed the KV slot capacity ${this.capacity}`);
    this.lengths.set(item, length);
  }

  /** Frees the holder's slot (a no-op for one that holds none); the last slot's holder moves into it. */
  release(item: T): void {
    const i = this.order.indexOf(item);
    if (i < 0) return;
    this.lengths.delete(item);
    const last = this.order.length - 1;
    const moved = this.order[last];
    this.order.pop();
    if (i === last) return;
    this.order[i] = moved;
    const length = this.lengths.get(moved) ?? 0;
    if (length > 0) this.move(last, i, length);
  }

  clear(): void {
    this.order.length = 0;
    this.lengths.clear();
  }
}
