/**
 * The drop/change report: every record a job drops or changes, with the reason, goes to a JSON Lines report
 * file as it happens (so memory stays bounded however many there are); counts per reason and the first few
 * ids per reason are kept for the closing summary, which is written as the report's last line and printed
 * on stderr.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname } from 'node:path';

export type RecordAction = 'dropped' | 'changed';

export interface RecordEvent {
  /** Position of the record in the input (0-based, across all input files). */
  index: number;
  /** The record's id when it has one. */
  id?: string;
  action: RecordAction;
  /** A stable snake_case reason, e.g. `blocked_words`, `too_short`. */
  reason: string;
  detail?: string;
}

export interface ReasonSummary {
  count: number;
  /** The first ids (or `#index` for records without one) seen for this reason. */
  examples: string[];
}

export interface ReportSummary {
  dropped: Record<string, ReasonSummary>;
  changed: Record<string, ReasonSummary>;
  droppedTotal: number;
  changedTotal: number;
}

const EXAMPLES_PER_REASON = 5;
const FLUSH_CHARS = 1 << 16;

export class RecordReport {
  private readonly counts: ReportSummary = { dropped: {}, changed: {}, droppedTotal: 0, changedTotal: 0 };
  private buffer: string[] = [];
  private bufferedChars = 0;

  private constructor(private readonly stream: WriteStream | undefined) {}

  /** A report that writes events to `path` (or keeps only counts when no path is given). */
  static async open(path: string | undefined): Promise<RecordReport> {
    if (path === undefined) return new RecordReport(undefined);
    await mkdir(dirname(path), { recursive: true });
    const stream = createWriteStream(path);
    await once(stream, 'open');
    return new RecordReport(stream);
  }

  add(event: RecordEvent): void {
    const bucket = event.action === 'dropped' ? this.counts.dropped : this.counts.changed;
    const entry = bucket[event.reason] ?? (bucket[event.reason] = { count: 0, examples: [] });
    entry.count++;
    if (entry.examples.length < EXAMPLES_PER_REASON) entry.examples.push(event.id ?? `#${event.index}`);
    if (event.action === 'dropped') this.counts.droppedTotal++;
    else this.counts.changedTotal++;
    if (!this.stream) return;
    const line = `${JSON.stringify(event)}\n`;
    this.buffer.push(line);
    this.bufferedChars += line.length;
  }

  get summary(): ReportSummary {
    return this.counts;
  }

  /** Writes buffered events when enough have accumulated (call between batches). */
  async flushIfNeeded(): Promise<void> {
    if (this.bufferedChars >= FLUSH_CHARS) await this.flush();
  }

  /** Writes the remaining events and a final `{"summary": {…extra, dropReasons, changeReasons}}` line, then closes the file. */
  async close(extra: Record<string, unknown>): Promise<void> {
    if (!this.stream) return;
    const { dropped, changed } = this.counts;
    const line = `${JSON.stringify({ summary: { ...extra, dropReasons: dropped, changeReasons: changed } })}\n`;
    this.buffer.push(line);
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
  }

  private async flush(): Promise<void> {
    if (!this.stream || this.buffer.length === 0) return;
    const text = this.buffer.join('');
    this.buffer = [];
    this.bufferedChars = 0;
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }
}

/** The human-readable summary printed on stderr at the end of a job. */
export function formatReportSummary(summary: ReportSummary, header: string): string {
  const lines = [header];
  const section = (title: string, bucket: Record<string, ReasonSummary>): void => {
    const reasons = Object.keys(bucket).sort();
    if (reasons.length === 0) return;
    lines.push(`  ${title}:`);
    for (const reason of reasons) {
      const { count, examples } = bucket[reason];
      const more = count > examples.length ? ', …' : '';
      lines.push(`    ${reason.padEnd(28)} ${String(count).padStart(9)}  (${examples.join(', ')}${more})`);
    }
  };
  section(`dropped records ${summary.droppedTotal}`, summary.dropped);
  section(`changes ${summary.changedTotal}`, summary.changed);
  return `${lines.join('\n')}\n`;
}
