/**
 * Battle-log files, streamed: FastChat writes a JSON array (`json.dump(..., indent=2)`), other tools JSON lines.
 * The reader tells them apart by the first non-blank character and yields one raw value at a time, so a
 * multi-gigabyte log is read in bounded memory. A bad JSON line is reported and skipped; a syntax error inside a
 * JSON array cannot be skipped safely (the rest of the array has no reliable boundaries) and stops the read.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { JSONParser } from '@streamparser/json';
import { FleetError } from '../common/errors';
import type { BattleLogRecord } from './battle-log';

export type BattleLogItem =
  | { kind: 'value'; value: unknown; location: string }
  | { kind: 'syntax_error'; location: string; problem: string };

export type BattleLogFormat = 'json' | 'jsonl';

async function detectFormat(path: string): Promise<BattleLogFormat> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 4096 });
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      const first = /[^\s\uFEFF]/.exec(chunk);
      if (first) return first[0] === '[' ? 'json' : 'jsonl';
    }
    return 'jsonl';
  } catch (err) {
    throw new FleetError('invalid_request', `cannot read battle log ${path}: ${(err as Error).message}`, { param: 'battles', cause: err });
  } finally {
    stream.destroy();
  }
}

async function* readJsonLines(path: string): AsyncGenerator<BattleLogItem> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    const text = lineNo === 1 ? line.replace(/^\uFEFF/, '') : line;
    if (text.trim() === '') continue;
    try {
      yield { kind: 'value', value: JSON.parse(text) as unknown, location: `line ${lineNo}` };
    } catch (err) {
      yield { kind: 'syntax_error', location: `line ${lineNo}`, problem: `not valid JSON: ${(err as Error).message}` };
    }
  }
}

async function* readJsonArray(path: string): AsyncGenerator<BattleLogItem> {
  const parser = new JSONParser({ paths: ['$.*'], keepStack: false });
  let ready: BattleLogItem[] = [];
  let failure: Error | undefined;
  let count = 0;
  parser.onValue = ({ value }) => {
    ready.push({ kind: 'value', value, location: `record ${count++}` });
  };
  parser.onError = (err) => {
    failure ??= err;
  };
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    parser.write(chunk);
    yield* drain();
    if (failure) break;
  }
  if (!failure && !parser.isEnded) parser.end();
  yield* drain();
  if (failure) {
    throw new FleetError('invalid_request', `${path} is not a valid JSON array after record ${count - 1}: ${failure.message}`, { param: 'battles' });
  }

  function drain(): BattleLogItem[] {
    const out = ready;
    ready = [];
    return out;
  }
}

/** Streams the raw records of a battle log (JSON array or JSON lines). */
export async function* readBattleLog(path: string): AsyncGenerator<BattleLogItem> {
  const format = await detectFormat(path);
  yield* format === 'json' ? readJsonArray(path) : readJsonLines(path);
}

/** Writes records as FastChat does (`json`: an indented JSON array) or one per line (`jsonl`); returns the count. */
export async function writeBattleLog(records: AsyncIterable<BattleLogRecord>, path: string, format: BattleLogFormat): Promise<number> {
  let handle;
  try {
    handle = await open(path, 'w');
  } catch (err) {
    throw new FleetError('invalid_request', `cannot write battle log ${path}: ${(err as Error).message}`, { param: 'out', cause: err });
  }
  const out = handle.createWriteStream({ encoding: 'utf8' });
  const closed = once(out, 'close');
  let count = 0;
  const put = async (text: string): Promise<void> => {
    if (!out.write(text)) await once(out, 'drain');
  };
  try {
    if (format === 'json') await put('[');
    for await (const record of records) {
      if (format === 'json') await put(`${count === 0 ? '\n' : ',\n'}  ${JSON.stringify(record, null, 2).replace(/\n/g, '\n  ')}`);
      else await put(`${JSON.stringify(record)}\n`);
      count++;
    }
    if (format === 'json') await put(count === 0 ? ']\n' : '\n]\n');
  } finally {
    out.end();
    await closed;
  }
  return count;
}
