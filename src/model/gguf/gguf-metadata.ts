/** Typed, checked access to a GGUF file's key-value metadata (a wrong or missing value is a FleetError naming the key). */
import { FleetError } from '../../common/errors';

export type GgufValue = string | number | bigint | boolean | GgufValue[];

export class GgufMetadata {
  constructor(
    private readonly values: ReadonlyMap<string, GgufValue>,
    private readonly file: string,
  ) {}

  has(key: string): boolean {
    return this.values.has(key);
  }

  keys(): string[] {
    return [...this.values.keys()];
  }

  private bad(key: string, what: string): FleetError {
    return new FleetError('invalid_request', `${this.file}: GGUF metadata '${key}' ${what}`, { code: 'invalid_gguf' });
  }

  private required(key: string): GgufValue {
    const value = this.values.get(key);
    if (value === undefined) throw this.bad(key, 'is missing');
    return value;
  }

  string(key: string): string {
    const value = this.required(key);
    if (typeof value !== 'string') throw this.bad(key, `must be a string, got ${typeof value}`);
    return value;
  }

  optionalString(key: string): string | undefined {
    return this.has(key) ? this.string(key) : undefined;
  }

  number(key: string): number {
    const value = this.required(key);
    if (typeof value === 'bigint') {
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) throw this.bad(key, `is out of range (${value})`);
      return Number(value);
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) throw this.bad(key, `must be a number, got ${String(value)}`);
    return value;
  }

  optionalNumber(key: string): number | undefined {
    return this.has(key) ? this.number(key) : undefined;
  }

  /** A non-negative integer (token ids, counts). */
  integer(key: string): number {
    const value = this.number(key);
    if (!Number.isSafeInteger(value) || value < 0) throw this.bad(key, `must be a non-negative integer, got ${value}`);
    return value;
  }

  optionalInteger(key: string): number | undefined {
    return this.has(key) ? this.integer(key) : undefined;
  }

  optionalBoolean(key: string): boolean | undefined {
    if (!this.has(key)) return undefined;
    const value = this.required(key);
    if (typeof value !== 'boolean') throw this.bad(key, `must be a boolean, got ${String(value)}`);
    return value;
  }

  stringArray(key: string): string[] {
    const value = this.required(key);
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw this.bad(key, 'must be an array of strings');
    return value as string[];
  }

  optionalStringArray(key: string): string[] | undefined {
    return this.has(key) ? this.stringArray(key) : undefined;
  }

  numberArray(key: string): number[] {
    const value = this.required(key);
    if (!Array.isArray(value)) throw this.bad(key, 'must be an array of numbers');
    return value.map((v) => {
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
      throw this.bad(key, 'must be an array of numbers');
    });
  }

  optionalNumberArray(key: string): number[] | undefined {
    return this.has(key) ? this.numberArray(key) : undefined;
  }
}
