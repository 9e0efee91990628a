/**
 * The store's votes as a downloadable FastChat battle log: `json` is an indented JSON array laid out like
 * FastChat's `json.dump(indent=2)` (records streamed one by one), `jsonl` one record per line.
 */
import type { ArenaStore, ExportOptions } from '../../arena/store';
import type { BattleLogFormat } from './requests';

export async function* battleLogText(store: ArenaStore, format: BattleLogFormat, options: ExportOptions): AsyncGenerator<string> {
  let count = 0;
  if (format === 'json') yield '[';
  for await (const record of store.exportBattleLog(options)) {
    if (format === 'json') yield `${count === 0 ? '\n' : ',\n'}  ${JSON.stringify(record, null, 2).replace(/\n/g, '\n  ')}`;
    else yield `${JSON.stringify(record)}\n`;
    count++;
  }
  if (format === 'json') yield count === 0 ? ']\n' : '\n]\n';
}

export function battleLogContentType(format: BattleLogFormat): string {
  return format === 'json' ? 'application/json; charset=utf-8' : 'application/x-ndjson; charset=utf-8';
}
