/**
 * Issue 18, files: a 16 MB GGUF whose header claims more entries than its bytes can hold is refused with a message
 * naming the field, before the parser allocates for the claim. Measured on the real CLI (`fleetchat model
 * import-gguf`) in a child process: its peak RSS stays within 64 MiB of the same command refusing an 8-byte file.
 * (Before the check: +275 MiB and 8 s for the tensor claim; the string-array claim was even accepted after 31 s.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'fc-gguf-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MIB = 1024 * 1024;

function header(tensors: number, keyValues: number): { buf: Buffer; at: number } {
  const buf = Buffer.alloc(16 * MIB);
  buf.write('GGUF', 0, 'latin1');
  buf.writeUInt32LE(3, 4);
  buf.writeBigUInt64LE(BigInt(tensors), 8);
  buf.writeBigUInt64LE(BigInt(keyValues), 16);
  return { buf, at: 24 };
}

/** One million tensor infos claimed (at least 33 MB of them) in a 16 MB file of zeros. */
function tensorClaim(): Buffer {
  return header(1_000_000, 0).buf;
}

/** A vocabulary array of one million strings, each claiming 16 bytes: 24 MB of strings in a 16 MB file. */
function stringArrayClaim(): Buffer {
  const { buf, at } = header(0, 1);
  let o = at;
  buf.writeBigUInt64LE(21n, o);
  o += 8;
  o += buf.write('tokenizer.ggml.tokens', o);
  buf.writeUInt32LE(9, o); // ARRAY
  buf.writeUInt32LE(8, o + 4); // of STRING
  buf.writeBigUInt64LE(1_000_000n, o + 8);
  for (o += 16; o + 24 <= buf.length; o += 24) buf.writeBigUInt64LE(16n, o);
  return buf;
}

/** `fleetchat model import-gguf FILE` in a child; its exit status, stderr and peak RSS in MiB. */
function importGguf(name: string, content: Buffer): { status: number | null; stderr: string; maxRssMiB: number } {
  const file = join(dir, name);
  writeFileSync(file, content);
  const r = spawnSync(process.execPath, ['-r', '@swc-node/register', '-r', join(__dirname, 'support/report-rss.cjs'), join(ROOT, 'src/cli/main.ts'), 'model', 'import-gguf', file, '--out', join(dir, `${name}.out`)], {
    cwd: ROOT, encoding: 'utf8', timeout: 90_000,
  });
  rmSync(file, { force: true });
  const rss = /FLEETCHAT_MAX_RSS_KIB=(\d+)/.exec(r.stderr);
  if (!rss) throw new Error(`no RSS report from the child (status ${r.status}): ${r.stderr.slice(-2000)}`);
  return { status: r.status, stderr: r.stderr, maxRssMiB: Number(rss[1]) / 1024 };
}

describe('hostile GGUF headers', () => {
  let baselineMiB = 0;
  beforeAll(() => {
    const base = importGguf('tiny.gguf', Buffer.from('GGUF\x03\x00\x00\x00', 'latin1'));
    expect(base.status).not.toBe(0); // refused, one way or another
    baselineMiB = base.maxRssMiB;
  }, 120_000);

  it.each([
    ['a tensor count', tensorClaim, /the tensor count claims 1000000 entries \(at least 33000000 bytes\) but only \d+ bytes remain/],
    ['a string array', stringArrayClaim, /a string of array 'tokenizer\.ggml\.tokens' runs past the end of the file/],
  ])('refuses %s larger than the file, with small memory', (_what, make, message) => {
    const r = importGguf('hostile.gguf', make());
    expect(r.maxRssMiB - baselineMiB).toBeLessThan(64);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/is not a readable GGUF file/);
    expect(r.stderr).toMatch(message);
  }, 120_000);
});
