/** The record meter finds where each CSV / NDJSON record ends, whatever the chunking. */
import { expect } from 'chai';
import { RecordMeter } from '../../lib/resume/record-meter.js';

/** Feeds `text` in chunks of `size` bytes; returns the byte offsets at which records 1..n were reported. */
async function ends(text: string, format: 'csv' | 'ndjson', size: number, n: number, opts: { skip?: number; startBytes?: number; startRecords?: number } = {}): Promise<{ at: number[]; out: string }> {
  const m = new RecordMeter({ format, ...opts });
  const at: number[] = [];
  const first = (opts.startRecords ?? 0) + 1;
  for (let r = first; r < first + n; r++) m.when(r, (b) => at.push(b));
  const out: Buffer[] = [];
  m.on('data', (c: Buffer) => out.push(c));
  const buf = Buffer.from(text);
  for (let i = 0; i < buf.length; i += size) m.write(buf.subarray(i, i + size));
  m.end();
  await new Promise((r) => m.on('end', r));
  return { at, out: Buffer.concat(out).toString() };
}

describe('record meter', () => {
  const csv = 'id,note\r\n1,"a ""quoted"" line\r\nwith a break"\r\n2,é plain\r\n3,"x,y"\r\n';
  const expected = [9, 46, 58, 67];

  for (const size of [1, 2, 3, 7, 1000]) {
    it(`CSV in chunks of ${size}: quoted line breaks and quotes do not end a record`, async () => {
      const { at, out } = await ends(csv, 'csv', size, 4);
      expect(at).to.deep.equal(expected);
      expect(out).to.equal(csv);
    });
  }

  it('NDJSON: every line feed ends a record (JSON escapes its own)', async () => {
    const text = '{"a":"x\\ny \\"q\\""}\n{"a":"z"}\n';
    expect((await ends(text, "ndjson", 3, 2)).at).to.deep.equal([19, 29]);
  });

  it('a resumed table: the repeated header is dropped and offsets go on from the checkpoint', async () => {
    const { at, out } = await ends('id,note\r\n4,d\r\n5,e\r\n', 'csv', 4, 2, { skip: 9, startBytes: 67, startRecords: 4 });
    expect(out).to.equal('4,d\r\n5,e\r\n');
    expect(at).to.deep.equal([72, 77]);
  });

  it('a target already passed is never reported (its offset is gone)', async () => {
    const m = new RecordMeter({ format: 'csv' });
    m.write(Buffer.from('a\r\nb\r\nc\r\n'));
    const at: number[] = [];
    m.when(2, (b) => at.push(b));
    m.when(3, (b) => at.push(b));
    expect(at).to.deep.equal([9]);
  });
});
