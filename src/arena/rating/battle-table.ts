/**
 * Battles as compact columns (model indices, outcome, time) so that ratings over millions of battles fit in a few
 * tens of megabytes and bootstrap rounds touch only typed arrays. Conversations are never kept.
 */
import type { Winner } from '../battle-log';
import { STYLE_WIDTH } from './style/style-features';

/** Outcome codes, from model A's side: 2 = A won, 1 = tie, 0 = B won. */
export const OUTCOME_B_WINS = 0;
export const OUTCOME_TIE = 1;
export const OUTCOME_A_WINS = 2;

export interface BattleTable {
  /** Model names; indices into this list are used everywhere else. */
  models: string[];
  length: number;
  a: Int32Array; // [length]
  b: Int32Array; // [length]
  outcome: Uint8Array; // [length]
  tstampS: Float64Array; // [length], ascending
  /** Style numbers per battle ([length × 8], see style-features; NaN rows where unknown), when collected. */
  style?: Float64Array;
}

export function outcomeOf(winner: Winner): number {
  if (winner === 'model_a') return OUTCOME_A_WINS;
  if (winner === 'model_b') return OUTCOME_B_WINS;
  return OUTCOME_TIE;
}

export interface TableBattle {
  modelA: string;
  modelB: string;
  winner: Winner;
  tstampS: number;
  /** The battle's 8 style numbers (style control), when measured. */
  style?: Float64Array;
}

/** Collects battles one at a time (growing typed arrays) and builds a table sorted by time. */
export class BattleTableBuilder {
  private readonly modelIndex = new Map<string, number>();
  private readonly models: string[] = [];
  private length = 0;
  private a = new Int32Array(1024);
  private b = new Int32Array(1024);
  private outcome = new Uint8Array(1024);
  private tstampS = new Float64Array(1024);
  private style: Float64Array | undefined;

  /** Keeps the style numbers of the battles added (style control). */
  constructor(withStyle = false) {
    if (withStyle) this.style = new Float64Array(1024 * STYLE_WIDTH).fill(Number.NaN);
  }

  get size(): number {
    return this.length;
  }

  add(battle: TableBattle): void {
    if (this.length === this.a.length) this.grow();
    this.a[this.length] = this.indexOf(battle.modelA);
    this.b[this.length] = this.indexOf(battle.modelB);
    this.outcome[this.length] = outcomeOf(battle.winner);
    this.tstampS[this.length] = battle.tstampS;
    if (this.style && battle.style) this.style.set(battle.style, this.length * STYLE_WIDTH);
    this.length++;
  }

  /** The table in time order (a stable sort: battles with equal timestamps keep their input order). */
  build(): BattleTable {
    const order = Array.from({ length: this.length }, (_, i) => i);
    order.sort((x, y) => this.tstampS[x] - this.tstampS[y]);
    const table: BattleTable = {
      models: [...this.models],
      length: this.length,
      a: new Int32Array(this.length),
      b: new Int32Array(this.length),
      outcome: new Uint8Array(this.length),
      tstampS: new Float64Array(this.length),
    };
    const style = this.style;
    if (style) {
      const sorted = new Float64Array(this.length * STYLE_WIDTH);
      order.forEach((from, to) => sorted.set(style.subarray(from * STYLE_WIDTH, (from + 1) * STYLE_WIDTH), to * STYLE_WIDTH));
      table.style = sorted;
    }
    order.forEach((from, to) => {
      table.a[to] = this.a[from];
      table.b[to] = this.b[from];
      table.outcome[to] = this.outcome[from];
      table.tstampS[to] = this.tstampS[from];
    });
    return table;
  }

  private indexOf(model: string): number {
    let index = this.modelIndex.get(model);
    if (index === undefined) {
      index = this.models.length;
      this.models.push(model);
      this.modelIndex.set(model, index);
    }
    return index;
  }

  private grow(): void {
    const size = this.a.length * 2;
    const grown = <T extends Int32Array | Uint8Array | Float64Array>(old: T, fresh: T): T => {
      fresh.set(old);
      return fresh;
    };
    this.a = grown(this.a, new Int32Array(size));
    this.b = grown(this.b, new Int32Array(size));
    this.outcome = grown(this.outcome, new Uint8Array(size));
    this.tstampS = grown(this.tstampS, new Float64Array(size));
    if (this.style) this.style = grown(this.style, new Float64Array(size * STYLE_WIDTH).fill(Number.NaN));
  }
}

/** A table from a list of battles (tests, small inputs). */
export function battleTable(battles: Iterable<TableBattle>, withStyle = false): BattleTable {
  const builder = new BattleTableBuilder(withStyle);
  for (const battle of battles) builder.add(battle);
  return builder.build();
}

/** Number of battles each model took part in. */
export function battleCounts(table: BattleTable): Float64Array {
  const counts = new Float64Array(table.models.length);
  for (let k = 0; k < table.length; k++) {
    counts[table.a[k]]++;
    counts[table.b[k]]++;
  }
  return counts;
}
