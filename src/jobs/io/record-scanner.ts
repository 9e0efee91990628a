/**
 * Incremental record scanner: splits a byte stream holding either a JSON array of records (ShareGPT's format)
 * or JSON Lines into one byte slice per record, without parsing the records and without ever holding more
 * than one record (plus the current input chunk) in memory.
 *
 * The format is detected from the first non-whitespace byte: `[` means a JSON array, anything else JSON Lines.
 * The structural bytes of JSON (`[ ] { } " \ , \n`) are ASCII, so scanning bytes is safe for UTF-8 input.
 * An array element ends at the `,` or `]` found outside strings at nesting depth 0; a JSON Lines record ends
 * at the newline. A record larger than `maxRecordBytes` is skipped (its bytes are never buffered) and reported
 * as oversized. Garbage after the closing `]`, or an array cut short, becomes a scan error record.
 */

export type InputFormat = 'json' | 'jsonl';

/** One record found in the input: its bytes, or why it has none. `index` counts records from 0. */
export type RawRecord =
  | { index: number; kind: 'bytes'; bytes: Buffer; byteOffset: number }
  | { index: number; kind: 'oversized'; byteLength: number; byteOffset: number }
  | { index: number; kind: 'scan_error'; message: string; byteOffset: number };

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

function isSpace(b: number): boolean {
  return b === SPACE || b === LF || b === CR || b === TAB;
}

/** start: before the first byte; between: outside any record; record: inside one; after: past the closing `]`. */
type Phase = 'start' | 'between' | 'record' | 'after' | 'done';

export class RecordScanner {
  private format: InputFormat | undefined;
  private phase: Phase = 'start';
  private readonly maxRecordBytes: number;
  private pieces: Buffer[] = [];
  private recordBytes = 0;
  private recordOffset = 0;
  private oversized = false;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private offset = 0;
  private nextIndex = 0;
  private firstChunk = true;

  constructor(options: { maxRecordBytes: number }) {
    this.maxRecordBytes = options.maxRecordBytes;
  }

  /** The detected input format (undefined until the first non-whitespace byte). */
  get detectedFormat(): InputFormat | undefined {
    return this.format;
  }

  /** Feeds the next chunk; returns the records completed inside it. */
  push(chunk: Buffer): RawRecord[] {
    const out: RawRecord[] = [];
    let pos = this.skipBom(chunk);
    let segStart = this.phase === 'record' ? pos : -1;
    while (pos < chunk.length) {
      if (this.phase !== 'record') {
        pos = this.outside(chunk, pos, out);
        if (this.inRecord()) segStart = pos;
        continue;
      }
      const end = this.format === 'jsonl' ? this.lineEnd(chunk, pos) : this.elementEnd(chunk, pos);
      if (end < 0) {
        pos = chunk.length;
        break;
      }
      this.keep(chunk.subarray(segStart, end));
      this.emit(out);
      pos = end + 1;
      if (this.format === 'json' && chunk[end] === CLOSE_BRACKET) this.phase = 'after';
    }
    if (this.phase === 'record') this.keep(chunk.subarray(segStart, chunk.length));
    this.offset += chunk.length;
    return out;
  }

  /** Ends the input; returns the last JSON Lines record (no final newline) or a truncation error. */
  end(): RawRecord[] {
    const out: RawRecord[] = [];
    const complete = this.depth === 0 && !this.inString;
    if (this.phase === 'record' && (this.format === 'jsonl' || complete)) this.emit(out);
    if (this.phase === 'record') out.push(this.error('input ends inside a record (truncated JSON array)', this.recordOffset));
    else if (this.format === 'json' && this.phase === 'between') out.push(this.error('input ends before the closing ] of the JSON array', this.offset));
    this.phase = 'done';
    return out;
  }

  private inRecord(): boolean {
    return this.phase === 'record';
  }

  private skipBom(chunk: Buffer): number {
    if (!this.firstChunk || chunk.length === 0) return 0;
    this.firstChunk = false;
    return chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf ? 3 : 0;
  }

  /** Outside a record: skips separators, detects the format, starts the next record. Returns the next position. */
  private outside(chunk: Buffer, pos: number, out: RawRecord[]): number {
    const b = chunk[pos];
    if (this.phase === 'done') return chunk.length;
    if (isSpace(b)) return pos + 1;
    if (this.phase === 'after') {
      out.push(this.error('unexpected data after the closing ] of the JSON array', this.offset + pos));
      this.phase = 'done';
      return chunk.length;
    }
    if (this.phase === 'start') {
      this.format = b === OPEN_BRACKET ? 'json' : 'jsonl';
      this.phase = 'between';
      if (this.format === 'json') return pos + 1;
    }
    if (this.format === 'json' && b === COMMA) return pos + 1;
    if (this.format === 'json' && b === CLOSE_BRACKET) {
      this.phase = 'after';
      return pos + 1;
    }
    this.beginRecord(pos);
    return pos;
  }

  private beginRecord(pos: number): void {
    this.phase = 'record';
    this.pieces = [];
    this.recordBytes = 0;
    this.oversized = false;
    this.recordOffset = this.offset + pos;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
  }

  /** Position of the newline ending the current line, or -1. */
  private lineEnd(chunk: Buffer, pos: number): number {
    return chunk.indexOf(LF, pos);
  }

  /** Position of the `,` or `]` ending the current array element (outside strings, depth 0), or -1. */
  private elementEnd(chunk: Buffer, pos: number): number {
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    const n = chunk.length;
    for (let p = pos; p < n; p++) {
      const b = chunk[p];
      if (inString) {
        if (escaped) escaped = false;
        else if (b === BACKSLASH) escaped = true;
        else if (b === QUOTE) inString = false;
      } else if (b === QUOTE) inString = true;
      else if (b === OPEN_BRACE || b === OPEN_BRACKET) depth++;
      else if (depth > 0 && (b === CLOSE_BRACE || b === CLOSE_BRACKET)) depth--;
      else if (depth === 0 && (b === COMMA || b === CLOSE_BRACKET)) {
        this.depth = 0;
        return p;
      }
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    return -1;
  }

  private keep(piece: Buffer): void {
    this.recordBytes += piece.length;
    if (this.oversized || piece.length === 0) return;
    if (this.recordBytes > this.maxRecordBytes) {
      this.oversized = true;
      this.pieces = [];
      return;
    }
    this.pieces.push(piece);
  }

  private emit(out: RawRecord[]): void {
    const index = this.nextIndex++;
    if (this.oversized) {
      out.push({ index, kind: 'oversized', byteLength: this.recordBytes, byteOffset: this.recordOffset });
    } else {
      const bytes = this.pieces.length === 1 ? this.pieces[0] : Buffer.concat(this.pieces, this.recordBytes);
      out.push({ index, kind: 'bytes', bytes, byteOffset: this.recordOffset });
    }
    this.pieces = [];
    this.recordBytes = 0;
    this.phase = 'between';
  }

  private error(message: string, byteOffset: number): RawRecord {
    return { index: this.nextIndex++, kind: 'scan_error', message, byteOffset };
  }
}
