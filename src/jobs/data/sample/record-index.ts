/**
 * Random access to the records of a file for sampling in shuffled order without loading it: one scanning pass
 * stores each record's byte offset and length (16 bytes per record), then records are read back one by one.
 */
import { open } from 'node:fs/promises';
import { readRecords } from '../../io/record-reader';
import type { RawRecord } from '../../io/record-scanner';

export interface RecordIndex {
  count: number;
  /** Byte offset of each record; negative when the record was not readable (see `problems`). */
  offsets: Float64Array;
  lengths: Float64Array;
  /** Records the scanner could not delimit or that were too large, by index. */
  problems: Map<number, RawRecord>;
}

export async function indexRecords(path: string, maxRecordBytes: number): Promise<RecordIndex> {
  let offsets = new Float64Array(1024);
  let lengths = new Float64Array(1024);
  const problems = new Map<number, RawRecord>();
  let count = 0;
  for await (const raw of readRecords(path, { maxRecordBytes })) {
    if (count === offsets.length) {
      const grownOffsets = new Float64Array(count * 2);
      grownOffsets.set(offsets);
      offsets = grownOffsets;
      const grownLengths = new Float64Array(count * 2);
      grownLengths.set(lengths);
      lengths = grownLengths;
    }
    offsets[count] = raw.byteOffset;
    lengths[count] = raw.kind === 'bytes' ? raw.bytes.length : -1;
    if (raw.kind !== 'bytes') problems.set(count, raw);
    count++;
  }
  return { count, offsets: offsets.subarray(0, count), lengths: lengths.subarray(0, count), problems };
}

/** The records `order` names, read from the file in that order, with their original indexes. */
export async function* readIndexed(path: string, index: RecordIndex, order: ArrayLike<number>): AsyncGenerator<RawRecord> {
  const handle = await open(path, 'r');
  try {
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      const problem = index.problems.get(i);
      if (problem) {
        yield { ...problem, index: i };
        continue;
      }
      const bytes = Buffer.allocUnsafe(index.lengths[i]);
      await handle.read(bytes, 0, bytes.length, index.offsets[i]);
      yield { index: i, kind: 'bytes', bytes, byteOffset: index.offsets[i] };
    }
  } finally {
    await handle.close();
  }
}
