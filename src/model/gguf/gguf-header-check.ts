/**
 * A first pass over a GGUF header that allocates nothing per value: every count and length (tensors, key-values,
 * strings, arrays, dimensions) is checked against the bytes left in the file — and against fixed limits — before
 * the header is parsed into objects. A hostile header (a few bytes claiming millions of entries) is refused here
 * with a message naming the field, in a 1 MiB read window, instead of growing the parser's buffers and arrays.
 *
 * Layout (v2/v3, little-endian): "GGUF", u32 version, u64 tensor_count, u64 kv_count, kv_count × (string key,
 * u32 type, value), tensor_count × (string name, u32 n_dims, n_dims × u64 dim, u32 ggml type, u64 offset).
 * A string is u64 length + bytes; an array is u32 element type + u64 count + elements.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { FleetError } from '../../common/errors';

/** The limits of a header we parse (real models are far below: ~300 key-values, ~3k tensors, ~260k-entry vocabularies). */
export const GGUF_HEADER_LIMITS = {
  maxTensors: 1 << 20,
  maxKeyValues: 1 << 16,
  maxKeyBytes: 65_535,
  /** Longest string value (the library parsing the header stops at 1e7 too). */
  maxStringBytes: 10_000_000,
  /** Most elements in one metadata array (the library's own limit). */
  maxArrayLength: 1_000_000,
  /** Most array elements in the whole header: bounds the parsed metadata's memory whatever the file claims. */
  maxTotalArrayElements: 4_000_000,
  maxTensorNameBytes: 256,
  maxDims: 4,
} as const;

/** Value types: 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool, 8 string, 9 array, 10 u64, 11 i64, 12 f64. */
const FIXED_SIZE: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const STRING = 8;
const ARRAY = 9;
const WINDOW = 1 << 20;

class HeaderReader {
  private readonly buf = Buffer.allocUnsafe(WINDOW);
  private start = 0;
  private end = 0;
  pos = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly fail: (message: string) => FleetError,
  ) {}

  get remaining(): number {
    return this.size - this.pos;
  }

  private ensure(n: number, what: string): void {
    if (n > this.remaining) throw this.fail(`${what} runs past the end of the file (offset ${this.pos}, ${this.remaining} bytes left)`);
    if (this.pos >= this.start && this.pos + n <= this.end) return;
    this.start = this.pos;
    this.end = this.pos;
    while (this.end - this.start < Math.min(WINDOW, this.size - this.start)) {
      const got = readSync(this.fd, this.buf, this.end - this.start, WINDOW - (this.end - this.start), this.end);
      if (got === 0) break;
      this.end += got;
    }
    if (this.pos + n > this.end) throw this.fail(`${what} could not be read at offset ${this.pos}`);
  }

  u32(what: string): number {
    this.ensure(4, what);
    const v = this.buf.readUInt32LE(this.pos - this.start);
    this.pos += 4;
    return v;
  }

  /** A u64 that must be at most `max` (checked before it becomes a number). */
  u64(what: string, max: number): number {
    this.ensure(8, what);
    const lo = this.buf.readUInt32LE(this.pos - this.start);
    const hi = this.buf.readUInt32LE(this.pos - this.start + 4);
    this.pos += 8;
    // Above 2^53 the number is not exact, but it is then far above any limit anyway.
    const v = hi * 0x1_0000_0000 + lo;
    if (v > max) throw this.fail(`${what} is ${hi >= 0x20_0000 ? 'above 2^53' : v}, more than ${max}`);
    return v;
  }

  skip(n: number, what: string): void {
    if (n > this.remaining) throw this.fail(`${what} (${n} bytes) runs past the end of the file (offset ${this.pos}, ${this.remaining} bytes left)`);
    this.pos += n;
  }

  /** A short string (a key), read. */
  text(maxBytes: number, what: string): string {
    const length = this.u64(what, maxBytes);
    this.ensure(length, what);
    const value = this.buf.toString('utf8', this.pos - this.start, this.pos - this.start + length);
    this.pos += length;
    return value;
  }

  /** A string's length, checked, then skipped (never read into memory). */
  string(what: string, maxBytes: number): number {
    const length = this.u64(what, maxBytes);
    this.skip(length, what);
    return length;
  }
}

/** A count that claims at least `minBytesEach` per entry must fit in the bytes left. */
function checkCount(r: HeaderReader, count: number, minBytesEach: number, what: string, fail: (m: string) => FleetError): void {
  if (count * minBytesEach > r.remaining) {
    throw fail(`${what} claims ${count} entries (at least ${count * minBytesEach} bytes) but only ${r.remaining} bytes remain`);
  }
}

function checkValue(r: HeaderReader, type: number, key: string, budget: { elements: number }, fail: (m: string) => FleetError): void {
  const fixed = FIXED_SIZE[type];
  if (fixed !== undefined) return r.skip(fixed, `value of '${key}'`);
  if (type === STRING) {
    r.string(`string '${key}'`, GGUF_HEADER_LIMITS.maxStringBytes);
    return;
  }
  if (type !== ARRAY) throw fail(`metadata '${key}' has unknown value type ${type}`);
  const elementType = r.u32(`array type of '${key}'`);
  if (elementType === ARRAY) throw fail(`metadata '${key}' is an array of arrays (not supported)`);
  const count = r.u64(`array length of '${key}'`, GGUF_HEADER_LIMITS.maxArrayLength);
  const each = elementType === STRING ? 8 : FIXED_SIZE[elementType];
  if (each === undefined) throw fail(`array '${key}' has unknown element type ${elementType}`);
  checkCount(r, count, each, `array '${key}'`, fail);
  budget.elements += count;
  if (budget.elements > GGUF_HEADER_LIMITS.maxTotalArrayElements) throw fail(`the metadata arrays hold more than ${GGUF_HEADER_LIMITS.maxTotalArrayElements} elements in all`);
  if (elementType !== STRING) return r.skip(count * each, `array '${key}'`);
  const what = `a string of array '${key}'`;
  for (let i = 0; i < count; i++) r.string(what, GGUF_HEADER_LIMITS.maxStringBytes);
}

/** Checks the header of the GGUF file at `path`; throws a FleetError (invalid_gguf) naming what is wrong. */
export function checkGgufHeader(path: string): void {
  const fail = (message: string): FleetError => new FleetError('invalid_request', `${path} is not a readable GGUF file: ${message}`, { code: 'invalid_gguf' });
  const fd = openSync(path, 'r');
  try {
    const r = new HeaderReader(fd, fstatSync(fd).size, fail);
    const L = GGUF_HEADER_LIMITS;
    const magic = r.u32('magic');
    if (magic !== 0x46554747) throw fail('it does not start with the GGUF magic number');
    const version = r.u32('version');
    if (version !== 2 && version !== 3) throw fail(`version ${version} is not supported (GGUF v2 or v3, little-endian)`);
    const tensorCount = r.u64('tensor count', L.maxTensors);
    const kvCount = r.u64('metadata count', L.maxKeyValues);
    // A key-value is at least 8 + 1 + 4 + 1 bytes; a tensor info at least 8 + 1 + 4 + 8 + 4 + 8.
    checkCount(r, kvCount, 14, 'the metadata count', fail);
    checkCount(r, tensorCount, 33, 'the tensor count', fail);
    const budget = { elements: 0 };
    for (let i = 0; i < kvCount; i++) {
      const key = r.text(L.maxKeyBytes, `key ${i}`);
      if (key.length === 0) throw fail(`key ${i} is empty`);
      checkValue(r, r.u32(`type of '${key}'`), key, budget, fail);
    }
    checkCount(r, tensorCount, 33, 'the tensor count', fail);
    for (let i = 0; i < tensorCount; i++) {
      const nameLength = r.string(`name of tensor ${i}`, L.maxTensorNameBytes);
      if (nameLength === 0) throw fail(`tensor ${i} has an empty name`);
      const dims = r.u32(`dimension count of tensor ${i}`);
      if (dims < 1 || dims > L.maxDims) throw fail(`tensor ${i} has ${dims} dimensions (1..${L.maxDims})`);
      for (let d = 0; d < dims; d++) r.u64(`dimension ${d} of tensor ${i}`, Number.MAX_SAFE_INTEGER);
      r.u32(`type of tensor ${i}`);
      r.u64(`offset of tensor ${i}`, r.size);
    }
  } finally {
    closeSync(fd);
  }
}
