/**
 * Writes serialized records (see record-format.ts) to a file incrementally, honouring the stream's backpressure.
 * The data goes to a temporary file next to the target and is renamed into place only when every record has
 * been written, so a Kubernetes Job that dies half-way never leaves a truncated output behind. The temporary name
 * is this writer's own (`<file>.<pid>.<random>.tmp`, created exclusively), so two jobs writing the same output never
 * share a file, and the data is flushed to disk (fsync) before the rename, and the rename before close() returns
 * (the naming and the directory fsync are atomic-file.ts's, shared with whole-file writes).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname } from 'node:path';
import { FleetError } from '../../common/errors';
import { syncDirectory, temporaryPathFor } from './atomic-file';
import type { OutputFormat } from './record-format';

const FLUSH_CHARS = 1 << 20;

export class RecordWriter {
  private readonly stream: WriteStream;
  private readonly tmpPath: string;
  private buffer: string[] = [];
  private bufferedChars = 0;
  private count = 0;
  private failure: Error | undefined;

  private constructor(
    private readonly path: string,
    private readonly format: OutputFormat,
  ) {
    this.tmpPath = temporaryPathFor(path);
    // flush: fsync before the descriptor closes.
    this.stream = createWriteStream(this.tmpPath, { flags: 'wx', flush: true });
    this.stream.on('error', (err) => {
      this.failure = err;
    });
  }

  static async open(path: string, format: OutputFormat): Promise<RecordWriter> {
    await mkdir(dirname(path), { recursive: true });
    const writer = new RecordWriter(path, format);
    await once(writer.stream, 'open').catch((err: Error) => {
      throw new FleetError('invalid_request', `cannot write output file ${path}: ${err.message}`, { param: 'out-file', cause: err });
    });
    return writer;
  }

  /** Records written so far. */
  get written(): number {
    return this.count;
  }

  /** Appends one serialized record. */
  async write(record: string): Promise<void> {
    if (this.format === 'json') this.push(this.count === 0 ? '[\n' : ',\n');
    this.push(record);
    if (this.format === 'jsonl') this.push('\n');
    this.count++;
    if (this.bufferedChars >= FLUSH_CHARS) await this.flush();
  }

  /** Finishes the file and moves it into place. */
  async close(): Promise<void> {
    if (this.format === 'json') this.push(this.count === 0 ? '[]' : '\n]');
    await this.flush();
    this.stream.end();
    if (!this.stream.closed) await once(this.stream, 'close');
    this.throwIfFailed();
    await rename(this.tmpPath, this.path);
    await syncDirectory(dirname(this.path));
  }

  /** Drops the partial output. */
  async abort(): Promise<void> {
    this.stream.destroy();
    await rm(this.tmpPath, { force: true });
  }

  private push(text: string): void {
    this.buffer.push(text);
    this.bufferedChars += text.length;
  }

  private async flush(): Promise<void> {
    this.throwIfFailed();
    if (this.buffer.length === 0) return;
    const text = this.buffer.join('');
    this.buffer = [];
    this.bufferedChars = 0;
    if (!this.stream.write(text)) await once(this.stream, 'drain');
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw new FleetError('internal', `writing ${this.path} failed: ${this.failure.message}`, { cause: this.failure });
  }
}
