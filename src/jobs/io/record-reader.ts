/**
 * Streams the records of a JSON-array or JSON Lines file (see record-scanner.ts): one chunk in memory at a time,
 * with the stream's own backpressure. Reports the bytes read so far for progress.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { FleetError } from '../../common/errors';
import { RecordScanner, type RawRecord } from './record-scanner';

export interface ReadOptions {
  maxRecordBytes: number;
  /** Read chunk size in bytes. */
  chunkBytes?: number;
  /** Called after each chunk with the total number of bytes read from this file. */
  onBytes?: (bytesRead: number) => void;
}

/** Size of an input file in bytes; a clear error when it is missing or not a file. */
export async function inputFileBytes(path: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new FleetError('invalid_request', `input ${path} is not a file`, { param: 'in-file' });
    return info.size;
  } catch (err) {
    if (err instanceof FleetError) throw err;
    throw new FleetError('not_found', `cannot read input file ${path}: ${(err as Error).message}`, { param: 'in-file', cause: err });
  }
}

/** Every record of the file, in order. Stops reading as soon as the consumer stops iterating. */
export async function* readRecords(path: string, options: ReadOptions): AsyncGenerator<RawRecord> {
  const scanner = new RecordScanner({ maxRecordBytes: options.maxRecordBytes });
  const stream = createReadStream(path, { highWaterMark: options.chunkBytes ?? 1 << 20 });
  let bytesRead = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytesRead += chunk.length;
      for (const record of scanner.push(chunk)) yield record;
      options.onBytes?.(bytesRead);
    }
    for (const record of scanner.end()) yield record;
  } finally {
    stream.destroy();
  }
}
