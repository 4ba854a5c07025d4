import { expect } from 'chai';
import { idLines } from '../../lib/resume/run-resume.js';
import type { ScimResource } from '../../lib/types.js';

describe('idLines (the id file text of a page)', () => {
  it('writes JSON.stringify(id) a line for every string id, the others left out', () => {
    const ids: unknown[] = [
      '2819c223-7f76-453a-919d-413861904646',
      '',
      'quote"inside',
      'back\\slash',
      'tab\there',
      'nl\nhere',
      '\u0000\u001f\u007f',
      'ü€😀',
      'lone \ud800 high',
      'lone \udfff low',
      '\u2028\u2029',
      42,
      undefined,
      null,
    ];
    const resources = ids.map((id) => (id === undefined ? {} : { id })) as ScimResource[];
    const expected = ids.filter((id): id is string => typeof id === 'string').map((id) => `${JSON.stringify(id)}\n`).join('');
    expect(idLines(resources)).to.equal(expected);
    // Each line reads back as the id (readIds parses a line at a time).
    const back = idLines(resources).split('\n').slice(0, -1).map((l) => JSON.parse(l) as string);
    expect(back).to.deep.equal(ids.filter((id) => typeof id === 'string'));
  });

  it('is empty for a page without string ids', () => {
    expect(idLines([])).to.equal('');
    expect(idLines([{ id: 7 } as unknown as ScimResource])).to.equal('');
  });
});
