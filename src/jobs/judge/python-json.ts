/**
 * JSON text as Python's `json.dumps` writes it with default arguments, so files written by fleetchat
 * match FastChat's byte for byte in layout: `", "` and `": "` separators, every character outside
 * printable ASCII escaped as `\uXXXX`, floats that are whole numbers written with `.0`.
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A number Python holds as a float (e.g. a time.time() timestamp): `1700000000` → `1700000000.0`. */
export class PyFloat {
  constructor(readonly value: number) {}
}

export type PyValue = JsonValue | PyFloat | PyValue[] | { [key: string]: PyValue };

function pyString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function pyNumber(n: number, float: boolean): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
  const text = String(n);
  return float && Number.isInteger(n) && !text.includes('e') ? `${text}.0` : text;
}

export function pyJson(value: PyValue): string {
  if (value instanceof PyFloat) return pyNumber(value.value, true);
  if (value === null) return 'null';
  if (typeof value === 'string') return pyString(value);
  if (typeof value === 'number') return pyNumber(value, false);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map(pyJson).join(', ')}]`;
  return `{${Object.entries(value).map(([k, v]) => `${pyString(k)}: ${pyJson(v)}`).join(', ')}}`;
}
