/**
 * `--begin` / `--end` with Python slice semantics (`content[begin:end]`, as FastChat's scripts): either may be
 * omitted or negative (counted from the end). Negative values need the record count, found by one extra
 * scanning pass over the input (no parsing, bounded memory).
 */
import { readRecords } from '../io/record-reader';

export interface RecordRange {
  begin?: number;
  end?: number;
}

/** Absolute [start, end) record indexes. */
export interface ResolvedRange {
  start: number;
  end: number;
}

/** Python's slice bounds for a sequence of `count` items. */
export function sliceBounds(range: RecordRange, count: number): ResolvedRange {
  const clamp = (v: number): number => Math.min(count, Math.max(0, v < 0 ? v + count : v));
  return { start: range.begin === undefined ? 0 : clamp(range.begin), end: range.end === undefined ? count : clamp(range.end) };
}

export async function countRecords(files: string[], maxRecordBytes: number): Promise<number> {
  let count = 0;
  for (const file of files) {
    for await (const _ of readRecords(file, { maxRecordBytes })) count++;
  }
  return count;
}

export async function resolveRange(range: RecordRange, files: string[], maxRecordBytes: number): Promise<ResolvedRange> {
  const negative = (range.begin ?? 0) < 0 || (range.end ?? 0) < 0;
  if (!negative) return { start: range.begin ?? 0, end: range.end ?? Number.POSITIVE_INFINITY };
  return sliceBounds(range, await countRecords(files, maxRecordBytes));
}
