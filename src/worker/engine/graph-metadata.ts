/**
 * An ONNX model's metadata_props (ModelProto field 14), read before a session is created: the top-level protobuf
 * fields are walked by their lengths with positional reads, so the graph and its weights are skipped, not read
 * (fleetchat's writer puts the metadata before the graph; other writers after it — both are found).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ATTENTION_KERNEL_METADATA, FLEETCHAT_ATTENTION } from '../../common/graph-metadata';
import { FleetError } from '../../common/errors';

const METADATA_PROPS_FIELD = 14;
/** Largest metadata entry read (the generator's JSON is a few hundred bytes). */
const MAX_ENTRY_BYTES = 1 << 20;

/** A varint at `at` of `buf`: [value, next offset]; undefined when it runs past the buffer. */
function varint(buf: Uint8Array, at: number, end = buf.length): [number, number] | undefined {
  let value = 0;
  let scale = 1;
  for (let i = at; i < end && i < at + 10; i++) {
    value += (buf[i] & 0x7f) * scale;
    if ((buf[i] & 0x80) === 0) return [value, i + 1];
    scale *= 128;
  }
  return undefined;
}

/** The key and value of one StringStringEntryProto (fields 1 and 2). */
function entry(buf: Uint8Array): [string, string] {
  let key = '';
  let value = '';
  let at = 0;
  while (at < buf.length) {
    const tag = varint(buf, at);
    if (!tag || (tag[0] & 7) !== 2) break;
    const len = varint(buf, tag[1]);
    if (!len || len[1] + len[0] > buf.length) break;
    const text = Buffer.from(buf.subarray(len[1], len[1] + len[0])).toString('utf8');
    if (tag[0] >>> 3 === 1) key = text;
    else if (tag[0] >>> 3 === 2) value = text;
    at = len[1] + len[0];
  }
  return [key, value];
}

/** The model's metadata_props; a file that is not a readable ModelProto yields what was found before the damage. */
export function readOnnxMetadata(path: string): Map<string, string> {
  const out = new Map<string, string>();
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new FleetError('not_found', `cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const size = fstatSync(fd).size;
    const head = new Uint8Array(24);
    let pos = 0;
    while (pos < size) {
      const n = readSync(fd, head, 0, head.length, pos);
      const tag = varint(head, 0, n);
      if (!tag) break;
      const [field, wire] = [Math.floor(tag[0] / 8), tag[0] % 8];
      let next: number;
      if (wire === 0) {
        const v = varint(head, tag[1], n);
        if (!v) break;
        next = pos + v[1];
      } else if (wire === 1 || wire === 5) {
        next = pos + tag[1] + (wire === 1 ? 8 : 4);
      } else if (wire === 2) {
        const len = varint(head, tag[1], n);
        if (!len) break;
        const start = pos + len[1];
        next = start + len[0];
        if (field === METADATA_PROPS_FIELD && len[0] <= MAX_ENTRY_BYTES && next <= size) {
          const buf = new Uint8Array(len[0]);
          readSync(fd, buf, 0, len[0], start);
          const [key, value] = entry(buf);
          out.set(key, value);
        }
      } else {
        break; // groups (3, 4) are not in ModelProto: not an ONNX model
      }
      pos = next;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/**
 * The graph's GroupQueryAttention runs only on fleetchat's CPU kernel: a float16 KV cache under float32 activations
 * (`--kv-cache fp16`, marked in its metadata by the generator and the importers).
 */
export function needsFleetchatAttention(path: string): boolean {
  return readOnnxMetadata(path).get(ATTENTION_KERNEL_METADATA) === FLEETCHAT_ATTENTION;
}
