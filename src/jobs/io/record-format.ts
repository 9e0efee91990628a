/**
 * Output formats. `json` is the layout FastChat's scripts write (`json.dump(..., indent=2, ensure_ascii=False)`):
 * a JSON array with two-space indentation and non-ASCII characters kept as they are; `jsonl` is one compact
 * record per line. The format follows the output file's extension unless given explicitly.
 */
import { FleetError } from '../../common/errors';

export type OutputFormat = 'json' | 'jsonl';
export type OutputFormatChoice = OutputFormat | 'auto';

export function resolveOutputFormat(path: string, choice: OutputFormatChoice): OutputFormat {
  if (choice !== 'auto') return choice;
  return /\.jsonl$/i.test(path) ? 'jsonl' : 'json';
}

/** One record as it appears in the output (without the separators between records). */
export function serializeRecord(value: unknown, format: OutputFormat): string {
  if (format === 'jsonl') return JSON.stringify(value);
  const text = JSON.stringify(value, null, 2);
  if (text === undefined) throw new FleetError('internal', 'record is not serialisable as JSON');
  // Nest the element one level inside the array: JSON strings never hold a raw newline, so this is exact.
  return `  ${text.replace(/\n/g, '\n  ')}`;
}
