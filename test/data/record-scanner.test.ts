import { RecordScanner, type RawRecord } from '../../src/jobs/io/record-scanner';

function scan(text: string | Buffer, chunkSize: number, maxRecordBytes = 1 << 20): RawRecord[] {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const scanner = new RecordScanner({ maxRecordBytes });
  const out: RawRecord[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) out.push(...scanner.push(bytes.subarray(i, i + chunkSize)));
  out.push(...scanner.end());
  return out;
}

function values(records: RawRecord[]): unknown[] {
  return records.map((r) => (r.kind === 'bytes' ? JSON.parse(r.bytes.toString()) : r.kind));
}

const tricky = [
  { id: 'a', conversations: [{ from: 'human', value: 'brackets ] } [ { and , commas' }] },
  { id: 'b"q', conversations: [{ from: 'gpt', value: 'escaped \\" quote and backslash \\\\ at end \\' }] },
  { id: 'ü', conversations: [{ from: 'gpt', value: '日本語 ✓ 😀' }] },
  'a bare string, with comma',
  42,
  null,
  [1, [2, [3]]],
];

describe('RecordScanner', () => {
  it.each([1, 2, 3, 7, 64, 1 << 16])('splits a JSON array into its elements whatever the chunk size (%i bytes)', (chunk) => {
    const text = JSON.stringify(tricky, null, 2);
    expect(values(scan(text, chunk))).toEqual(tricky);
  });

  it.each([1, 5, 1 << 16])('splits JSON Lines (CRLF, blank lines, no final newline) with chunk size %i', (chunk) => {
    const text = `${tricky.slice(0, 3).map((v) => JSON.stringify(v)).join('\r\n')}\n\n  \n${JSON.stringify(tricky[3])}`;
    expect(values(scan(text, chunk))).toEqual(tricky.slice(0, 4));
  });

  it('reads an empty array and a BOM', () => {
    expect(scan('  [ ]  ', 2)).toEqual([]);
    expect(values(scan(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[{"id":"x"}]')]), 3))).toEqual([{ id: 'x' }]);
  });

  it('numbers records and gives their byte offsets', () => {
    const text = '[{"a":1},\n {"b":2}]';
    const records = scan(text, 4);
    expect(records.map((r) => [r.index, r.byteOffset])).toEqual([[0, 1], [1, 11]]);
  });

  it('skips an oversized record without buffering it and goes on', () => {
    const big = { id: 'big', v: 'x'.repeat(5000) };
    const records = scan(JSON.stringify([{ id: 1 }, big, { id: 3 }]), 100, 1000);
    expect(records.map((r) => r.kind)).toEqual(['bytes', 'oversized', 'bytes']);
    expect(records[1]).toMatchObject({ index: 1, byteLength: JSON.stringify(big).length });
    expect(values([records[2]])).toEqual([{ id: 3 }]);
  });

  it('reports a truncated array and trailing garbage', () => {
    expect(scan('[{"id":1},{"id":', 3).map((r) => r.kind)).toEqual(['bytes', 'scan_error']);
    expect(scan('[{"id":1}', 3).map((r) => r.kind)).toEqual(['bytes', 'scan_error']);
    const trailing = scan('[{"id":1}] oops', 3);
    expect(trailing.map((r) => r.kind)).toEqual(['bytes', 'scan_error']);
  });

  it('isolates a record with an extra closing brace so the next ones survive', () => {
    const records = scan('[{"id":1}}, {"id":2}]', 4);
    expect(records).toHaveLength(2);
    expect(() => JSON.parse((records[0] as { bytes: Buffer }).bytes.toString())).toThrow();
    expect(values([records[1]])).toEqual([{ id: 2 }]);
  });
});
