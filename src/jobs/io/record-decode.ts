/**
 * Turns one record's bytes into a JSON value. Invalid UTF-8 is decoded with U+FFFD replacement characters and
 * flagged (so the record can be reported as changed); invalid JSON is an error value, never an exception.
 */
import { isUtf8 } from 'node:buffer';

export type DecodedRecord =
  | { ok: true; value: unknown; invalidUtf8: boolean }
  | { ok: false; reason: 'invalid_json'; message: string };

const MAX_MESSAGE_CHARS = 200;

export function decodeRecord(bytes: Uint8Array): DecodedRecord {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const invalidUtf8 = !isUtf8(buffer);
  const text = buffer.toString('utf8');
  try {
    return { ok: true, value: JSON.parse(text) as unknown, invalidUtf8 };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: 'invalid_json', message: message.slice(0, MAX_MESSAGE_CHARS) };
  }
}
