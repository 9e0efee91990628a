/**
 * Random JSON schemas from a seed, for the structured-output suites: nested objects (some properties required, the
 * rest optional), arrays with minItems / maxItems, enums, const, strings with lengths / patterns / formats, integers
 * and numbers with one- and two-sided, inclusive and exclusive bounds, booleans, nullable types, anyOf, and $defs
 * referenced by $ref. Every string and array is bounded and the tree has a node budget, so an answer always fits in
 * `maxTokensFor(schema)` tokens — a length cut is then an engine bug, not the model rambling.
 */
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

type Schema = Record<string, unknown>;
type Rng = ReturnType<typeof xoroshiro128plus>;

const NAMES = ['id', 'name', 'title', 'age', 'count', 'price', 'tags', 'items', 'owner', 'city', 'status', 'score', 'level', 'note', 'kind', 'size', 'date', 'email', 'color', 'enabled', 'parent', 'children', 'rating', 'code'];
const WORDS = ['red', 'green', 'blue', 'low', 'high', 'open', 'closed', 'cat', 'dog', 'yes', 'no', 'north', 'south', 'alpha', 'beta', 'draft', 'done'];
const PATTERNS = ['^[A-Z]{3}-[0-9]{2}$', '^[a-z]{2,6}$', '^[0-9]{4}$', '^(ok|fail)-[0-9]$', '^#[0-9a-f]{6}$'];
/** Formats of bounded length (emails, hostnames, URIs, time fractions are enforced but unbounded: a small model can ramble in them until max_tokens). */
const FORMATS = ['date', 'uuid', 'ipv4'];

class Generator {
  private budget = 9; // nodes left in this schema
  readonly defs: Record<string, Schema> = {};

  constructor(private readonly rng: Rng) {}

  int(lo: number, hi: number): number {
    return uniformInt(this.rng, lo, hi);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)];
  }

  private chance(percent: number): boolean {
    return this.int(1, 100) <= percent;
  }

  private distinct<T>(xs: readonly T[], n: number): T[] {
    const pool = [...xs];
    const out: T[] = [];
    while (out.length < n && pool.length > 0) out.push(pool.splice(this.int(0, pool.length - 1), 1)[0]);
    return out;
  }

  node(depth: number): Schema {
    this.budget -= 1;
    const composite = depth < 3 && this.budget > 2;
    const roll = this.int(1, 100);
    if (composite && roll <= 25) return this.object(depth);
    if (composite && roll <= 40) return this.array(depth);
    if (composite && roll <= 47) return { anyOf: this.distinct([0, 1, 2, 3], this.int(2, 3)).map(() => this.leaf()) };
    if (composite && roll <= 52) return this.ref(depth);
    return this.leaf();
  }

  object(depth: number): Schema {
    const names = this.distinct(NAMES, this.int(1, 4));
    const properties: Record<string, Schema> = {};
    for (const n of names) properties[n] = this.node(depth + 1);
    const required = names.filter(() => this.chance(70));
    return { type: 'object', properties, required, additionalProperties: false };
  }

  private array(depth: number): Schema {
    const minItems = this.int(0, 2);
    return { type: 'array', items: this.node(depth + 1), minItems, maxItems: minItems + this.int(0, 2) };
  }

  private ref(depth: number): Schema {
    const name = `def${Object.keys(this.defs).length}`;
    this.defs[name] = this.object(depth + 1);
    return { $ref: `#/$defs/${name}` };
  }

  private leaf(): Schema {
    switch (this.int(0, 9)) {
      case 0: {
        const minLength = this.int(0, 3);
        return { type: 'string', minLength, maxLength: minLength + this.int(1, 6) };
      }
      case 1:
        return { type: 'string', pattern: this.pick(PATTERNS) };
      case 2:
        return { type: 'string', format: this.pick(FORMATS) };
      case 3:
        return this.integer();
      case 4:
        return this.number();
      case 5:
        return { type: 'boolean' };
      case 6:
        return { enum: this.distinct(WORDS, this.int(2, 5)) };
      case 7:
        return this.chance(50) ? { const: this.pick(WORDS) } : { enum: [this.pick(WORDS), this.int(-9, 9), null, true] };
      case 8:
        return { type: ['string', 'null'], maxLength: this.int(1, 8) };
      default:
        return { type: ['integer', 'null'], minimum: this.int(-50, 0), maximum: this.int(1, 50) };
    }
  }

  private integer(): Schema {
    const lo = this.int(-1000, 100);
    switch (this.int(0, 3)) {
      case 0:
        return { type: 'integer', minimum: lo, maximum: lo + this.int(0, 500) };
      case 1:
        return { type: 'integer', minimum: lo };
      case 2:
        return { type: 'integer', maximum: lo };
      default:
        return { type: 'integer', exclusiveMinimum: lo, exclusiveMaximum: lo + this.int(2, 100) };
    }
  }

  /** Bounded numbers (enforced as integer ranges: each range here holds an integer); unbounded digits could run on. */
  private number(): Schema {
    const lo = this.int(-100, 100) / 4;
    switch (this.int(0, 2)) {
      case 0:
        return { type: 'number', minimum: lo, maximum: lo + this.int(2, 40) / 2 };
      case 1:
        return { type: 'number', exclusiveMinimum: lo, exclusiveMaximum: lo + this.int(3, 40) / 2 };
      default:
        return { type: 'number', minimum: lo };
    }
  }
}

/** The `i`-th schema of the seeded sequence: an object at the root (as OpenAI's json_schema wants) with optional $defs. */
export function generateSchemas(seed: number, count: number): Schema[] {
  const rng = xoroshiro128plus(seed);
  const out: Schema[] = [];
  for (let i = 0; i < count; i++) {
    const g = new Generator(rng);
    const root = g.object(0);
    out.push(Object.keys(g.defs).length > 0 ? { ...root, $defs: g.defs } : root);
  }
  return out;
}

/** Keywords used anywhere in `schema` (to show the suite covers what it claims). */
export function keywordsOf(schema: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) schema.forEach((s) => keywordsOf(s, into));
  else if (typeof schema === 'object' && schema !== null) {
    for (const [k, v] of Object.entries(schema)) {
      into.add(k);
      if (k === 'properties' || k === '$defs') Object.values(v as object).forEach((s) => keywordsOf(s, into));
      else if (k !== 'enum' && k !== 'const' && k !== 'required') keywordsOf(v, into);
    }
  }
  return into;
}
