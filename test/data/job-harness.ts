/** Runs data jobs in tests: temporary directories, a silent logger, stderr captured. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseConfig, type ConfigOf, type OptionSchema } from '../../src/common/config';
import { silentLogger } from '../../src/common/log';
import type { JobIo } from '../../src/jobs/data/options';

export class CapturedStderr extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export function jobIo(): JobIo & { stderr: CapturedStderr } {
  return { logger: silentLogger(), stderr: new CapturedStderr() };
}

export function tempDir(): { dir: string; path: (name: string) => string; write: (name: string, text: string | Buffer) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'fleetchat-data-'));
  return {
    dir,
    path: (name) => join(dir, name),
    write: (name, text) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Parses flags with a job's schema, exactly as the CLI does. */
export function flags<S extends OptionSchema>(schema: S, argv: string[]): ConfigOf<S> {
  return parseConfig(schema, argv);
}

export function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

export function readJsonl(path: string): unknown[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown);
}

export interface ReportLine {
  index?: number;
  id?: string;
  action?: 'dropped' | 'changed';
  reason?: string;
  detail?: string;
  summary?: Record<string, unknown>;
}

export function readReport(path: string): ReportLine[] {
  return readJsonl(path) as ReportLine[];
}

export const FIXTURES = join(__dirname, '..', 'fixtures');

/** A ShareGPT record. */
export function conv(id: string, ...turns: Array<[string, string]>): { id: string; conversations: Array<{ from: string; value: string }> } {
  return { id, conversations: turns.map(([from, value]) => ({ from, value })) };
}
