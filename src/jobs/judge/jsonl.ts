/**
 * JSONL files as the judge pipelines use them: read whole (MT-bench-sized files), tolerate an
 * incomplete last line (a write interrupted by a kill), repair it before resuming, and append one
 * record per write from a single writer so concurrent tasks never interleave lines.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FleetError } from '../../common/errors';

export interface JsonlLine {
  /** 1-based line number. */
  lineNo: number;
  raw: string;
  value: unknown;
}

export interface JsonlFile {
  path: string;
  lines: JsonlLine[];
  /** The last line has no newline and is not valid JSON: an interrupted write. */
  incompleteTail?: { lineNo: number; byteOffset: number };
  /** The last line is complete JSON but lacks its newline. */
  missingFinalNewline: boolean;
}

function parseLine(raw: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** Reads a JSONL file; a missing file reads as empty when `allowMissing`. Bad lines other than the tail are errors. */
export function readJsonl(path: string, allowMissing = false): JsonlFile {
  if (!existsSync(path)) {
    if (allowMissing) return { path, lines: [], missingFinalNewline: false };
    throw new FleetError('not_found', `file not found: ${path}`);
  }
  const text = readFileSync(path, 'utf8');
  const parts = text.split('\n');
  const tail = parts.pop() ?? '';
  const file: JsonlFile = { path, lines: [], missingFinalNewline: false };
  parts.forEach((raw, i) => {
    if (raw.trim() === '') return;
    const parsed = parseLine(raw);
    if (!parsed.ok) throw new FleetError('invalid_request', `${path}:${i + 1}: not valid JSON (${parsed.error}); fix or remove this line`);
    file.lines.push({ lineNo: i + 1, raw, value: parsed.value });
  });
  if (tail.trim() !== '') {
    const parsed = parseLine(tail);
    const lineNo = parts.length + 1;
    if (parsed.ok) {
      file.lines.push({ lineNo, raw: tail, value: parsed.value });
      file.missingFinalNewline = true;
    } else {
      file.incompleteTail = { lineNo, byteOffset: Buffer.byteLength(text) - Buffer.byteLength(tail) };
    }
  }
  return file;
}

/** Makes a file safe to append to: drops an incomplete last line, adds a missing final newline. */
export function repairForAppend(file: JsonlFile): void {
  if (file.incompleteTail) truncateSync(file.path, file.incompleteTail.byteOffset);
  else if (file.missingFinalNewline) appendFileSync(file.path, '\n');
}

/** Appends lines in call order; each line is one write. */
export class JsonlAppender {
  private last: Promise<void> = Promise.resolve();
  private count = 0;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  append(line: string): Promise<void> {
    const next = this.last.then(() => appendFile(this.path, `${line}\n`, 'utf8'));
    this.last = next.catch(() => undefined);
    return next.then(() => {
      this.count += 1;
    });
  }

  get written(): number {
    return this.count;
  }
}
