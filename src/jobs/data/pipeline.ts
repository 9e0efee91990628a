/**
 * The streaming runner every record-by-record data job uses:
 *
 *   input file(s) ─scan─▶ batches ─▶ task (worker threads, or inline with --threads 0) ─▶ in-order results
 *     ─▶ sequential finisher (dedup, stats) ─▶ output writer + drop/change report + progress
 *
 * Memory stays bounded: a few batches are in flight at a time and the reader waits for them. Results are used
 * strictly in input order, and the finisher runs on this thread, so the output is identical byte for byte for
 * any thread count.
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../common/log';
import { createProgress, type Progress } from '../io/progress';
import type { OutputFormat } from '../io/record-format';
import { readRecords, inputFileBytes } from '../io/record-reader';
import type { RawRecord } from '../io/record-scanner';
import { RecordWriter } from '../io/record-writer';
import { formatReportSummary, RecordReport, type ReportSummary } from '../io/report';
import { WorkerPool, type PoolItem } from '../io/worker-pool';
import { resolveRange, type RecordRange } from './range';
import { droppedResult, isDropped, type RecordResult } from './record-result';
import { createBytesHandler, type TaskSpec } from './tasks';

export interface JobLimits {
  maxRecordBytes: number;
  recordTimeoutMs: number;
  maxWorkerHeapMb: number;
}

export interface PipelineOptions {
  label: string;
  inFiles: string[];
  /** Output file; none for jobs that only summarise (get-stats). */
  outFile?: string;
  outFormat: OutputFormat;
  /** Second output (JSON Lines) for results' extraOutputs. */
  extraOutFile?: string;
  reportFile?: string;
  range: RecordRange;
  /** Records to process instead of reading `inFiles` in order (sampling); `range` is then ignored. */
  source?: { records: () => AsyncIterable<RawRecord>; totalBytes: number };
  /** Worker threads; 0 runs the task on this thread (no per-record timeout then). */
  threads: number;
  task: TaskSpec;
  limits: JobLimits;
  logger: Logger;
  /** Where the progress bar / summary go (process.stderr). */
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Sequential hook: returns a drop for a record the task kept (dedup), or undefined. */
  finish?: (result: RecordResult) => { reason: string; detail?: string } | undefined;
  /** Sequential hook called with every result (statistics). */
  observe?: (result: RecordResult) => void;
}

export interface PipelineSummary {
  records: number;
  kept: number;
  dropped: number;
  changed: number;
  written: number;
  outOfRange: number;
  bytesRead: number;
  elapsedMs: number;
  report: ReportSummary;
}

const BATCH_RECORDS = 256;
const BATCH_BYTES = 1 << 20;

/** A default thread count: every core. */
export function defaultThreads(): number {
  return Math.max(1, cpus().length);
}

type Slot = { premade: RecordResult } | { item: PoolItem };

interface Executor {
  run(items: PoolItem[]): Promise<RecordResult[]>;
  close(): Promise<void>;
}

async function createExecutor(options: PipelineOptions): Promise<Executor> {
  if (options.threads === 0) {
    const handle = await createBytesHandler(options.task);
    return { run: async (items) => items.map((i) => handle(i.index, i.bytes)), close: async () => undefined };
  }
  const ext = __filename.endsWith('.ts') ? '.ts' : '.js';
  return WorkerPool.start<RecordResult>({
    workerFile: join(__dirname, `worker-main${ext}`),
    workerData: options.task,
    threads: options.threads,
    recordTimeoutMs: options.limits.recordTimeoutMs,
    maxWorkerHeapMb: options.limits.maxWorkerHeapMb,
    onFailure: (index, reason, detail) => droppedResult(index, `#${index}`, reason === 'timeout' ? 'record_timeout' : reason, detail),
  });
}

function premadeFor(raw: RawRecord, maxRecordBytes: number): RecordResult | undefined {
  if (raw.kind === 'oversized') {
    return droppedResult(raw.index, `#${raw.index}`, 'record_too_large', `${raw.byteLength} bytes > --max-record-bytes ${maxRecordBytes}`);
  }
  if (raw.kind === 'scan_error') return droppedResult(raw.index, `#${raw.index}`, 'malformed_input', `${raw.message} (byte ${raw.byteOffset})`);
  return undefined;
}

async function runBatch(executor: Executor, slots: Slot[]): Promise<RecordResult[]> {
  const items = slots.flatMap((s) => ('item' in s ? [s.item] : []));
  const computed = await executor.run(items);
  let next = 0;
  return slots.map((s) => ('premade' in s ? s.premade : computed[next++]));
}

/** Every raw record of the input files in order, with indexes running on across files. */
async function* allRecords(options: PipelineOptions, onBytes: (n: number) => void): AsyncGenerator<RawRecord> {
  let base = 0;
  let bytesBefore = 0;
  for (const file of options.inFiles) {
    let last = -1;
    for await (const raw of readRecords(file, { maxRecordBytes: options.limits.maxRecordBytes, onBytes: (n) => onBytes(bytesBefore + n) })) {
      last = raw.index;
      yield { ...raw, index: base + raw.index };
    }
    base += last + 1;
    bytesBefore += await inputFileBytes(file);
  }
}

class Run {
  readonly report: RecordReport;
  readonly summary: Omit<PipelineSummary, 'report' | 'elapsedMs' | 'written'> = { records: 0, kept: 0, dropped: 0, changed: 0, outOfRange: 0, bytesRead: 0 };
  constructor(
    readonly options: PipelineOptions,
    readonly writer: RecordWriter | undefined,
    readonly extraWriter: RecordWriter | undefined,
    report: RecordReport,
    readonly progress: Progress,
  ) {
    this.report = report;
  }

  /** Uses one result, in input order. */
  async consume(result: RecordResult): Promise<void> {
    this.summary.records++;
    let events = result.events;
    const drop = !isDropped(result) && this.options.finish ? this.options.finish(result) : undefined;
    if (drop) events = [...events, { action: 'dropped', ...drop }];
    this.options.observe?.(result);
    for (const e of events) this.report.add({ index: result.index, id: result.id, ...e });
    if (events.some((e) => e.action === 'dropped')) this.summary.dropped++;
    else this.summary.kept++;
    if (events.some((e) => e.action === 'changed')) this.summary.changed++;
    if (drop || !this.writer) return;
    for (const out of result.outputs) await this.writer.write(out);
    for (const out of result.extraOutputs ?? []) await this.extraWriter?.write(out);
  }

  tick(): void {
    const { records, kept, dropped, bytesRead } = this.summary;
    this.progress.update({ bytesRead, records, kept, dropped });
  }
}

export async function runPipeline(options: PipelineOptions): Promise<PipelineSummary> {
  const started = Date.now();
  const totalBytes = options.source?.totalBytes ?? (await Promise.all(options.inFiles.map(inputFileBytes))).reduce((a, b) => a + b, 0);
  const range = options.source ? { start: 0, end: Number.POSITIVE_INFINITY } : await resolveRange(options.range, options.inFiles, options.limits.maxRecordBytes);
  const writer = options.outFile === undefined ? undefined : await RecordWriter.open(options.outFile, options.outFormat);
  const extraWriter = options.extraOutFile === undefined ? undefined : await RecordWriter.open(options.extraOutFile, 'jsonl');
  const report = await RecordReport.open(options.reportFile);
  const progress = createProgress({ label: options.label, totalBytes, logger: options.logger, stream: options.stderr });
  const run = new Run(options, writer, extraWriter, report, progress);
  let executor: Executor | undefined;
  try {
    executor = await createExecutor(options);
    await pump(run, executor, range);
    await writer?.close();
    await extraWriter?.close();
  } catch (err) {
    await writer?.abort();
    await extraWriter?.abort();
    throw err;
  } finally {
    await executor?.close();
  }
  const { records, kept, dropped, bytesRead } = run.summary;
  progress.done({ bytesRead, records, kept, dropped });
  const summary: PipelineSummary = { ...run.summary, written: writer?.written ?? 0, elapsedMs: Date.now() - started, report: report.summary };
  await report.close({ job: options.label, inFiles: options.inFiles, outFile: options.outFile, records, kept, dropped, changed: run.summary.changed, written: summary.written });
  const where = options.reportFile ? `; report: ${options.reportFile}` : '';
  options.stderr.write(formatReportSummary(report.summary,
    `${options.label}: ${records} records in, ${kept} kept, ${dropped} dropped, ${run.summary.changed} changed, ${summary.written} written${where}`));
  return summary;
}

/** Reads, batches and runs records, keeping at most `window` batches in flight, and consumes results in order. */
async function pump(run: Run, executor: Executor, range: { start: number; end: number }): Promise<void> {
  const { options } = run;
  const window = options.threads === 0 ? 1 : options.threads * 2;
  const inflight: Array<Promise<RecordResult[]>> = [];
  let slots: Slot[] = [];
  let batchBytes = 0;
  const drainHead = async (): Promise<void> => {
    const results = await (inflight.shift() as Promise<RecordResult[]>);
    for (const r of results) await run.consume(r);
    await run.report.flushIfNeeded();
    run.tick();
  };
  const flush = async (): Promise<void> => {
    if (slots.length === 0) return;
    const batch = runBatch(executor, slots);
    batch.catch(() => undefined); // awaited in order below; this only keeps a failure from being "unhandled" meanwhile
    inflight.push(batch);
    slots = [];
    batchBytes = 0;
    while (inflight.length >= window) await drainHead();
  };
  const records = options.source?.records() ?? allRecords(options, (n) => {
    run.summary.bytesRead = n;
  });
  for await (const raw of records) {
    if (options.source && raw.kind === 'bytes') run.summary.bytesRead += raw.bytes.length;
    if (raw.index < range.start) {
      run.summary.outOfRange++;
      continue;
    }
    if (raw.index >= range.end) break;
    const premade = premadeFor(raw, options.limits.maxRecordBytes);
    if (premade) slots.push({ premade });
    else if (raw.kind === 'bytes') {
      slots.push({ item: { index: raw.index, bytes: raw.bytes } });
      batchBytes += raw.bytes.length;
    }
    if (slots.length >= BATCH_RECORDS || batchBytes >= BATCH_BYTES) await flush();
  }
  await flush();
  while (inflight.length > 0) await drainHead();
}
