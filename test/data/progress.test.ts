import { Writable } from 'node:stream';
import pino from 'pino';
import { createProgress } from '../../src/jobs/io/progress';

class Sink extends Writable {
  chunks: string[] = [];
  isTTY?: boolean;
  columns = 100;
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.chunks.push(chunk.toString());
    done();
  }
}

describe('progress', () => {
  it('logs structured progress lines at the interval when stderr is not a terminal', () => {
    const logs = new Sink();
    let now = 0;
    const progress = createProgress({ label: 'clean-sharegpt', totalBytes: 2000, logger: pino(logs), stream: new Sink(), logIntervalMs: 1000, now: () => now });
    progress.update({ bytesRead: 100, records: 1, kept: 1, dropped: 0 });
    now = 1500;
    progress.update({ bytesRead: 1000, records: 10, kept: 9, dropped: 1 });
    now = 3000;
    progress.done({ bytesRead: 2000, records: 20, kept: 18, dropped: 2 });
    const lines = logs.chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.msg, l.percent, l.records])).toEqual([['progress', 50, 10], ['finished', 100, 20]]);
    expect(lines[1]).toMatchObject({ job: 'clean-sharegpt', kept: 18, dropped: 2, totalBytes: 2000, elapsedMs: 3000 });
  });

  it('redraws one bar line on a terminal', () => {
    const tty = new Sink();
    tty.isTTY = true;
    let now = 0;
    const progress = createProgress({ label: 'split-long', totalBytes: 4 * 1024 * 1024, logger: pino({ level: 'silent' }), stream: tty, now: () => now });
    now = 1000;
    progress.update({ bytesRead: 1024 * 1024, records: 5, kept: 4, dropped: 1 });
    progress.done({ bytesRead: 4 * 1024 * 1024, records: 20, kept: 18, dropped: 2 });
    expect(tty.chunks[0]).toMatch(/^\rsplit-long \[#{6}-{18}\] 25\.0% 1\.0\/4\.0 MB 1\.0 MB\/s {2}records 5 kept 4 dropped 1/);
    expect(tty.chunks[1]).toContain('100.0%');
    expect(tty.chunks[2]).toBe('\n');
  });
});
