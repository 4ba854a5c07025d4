import { expect } from 'chai';
import { ListingCounts } from '../../lib/streams/sources/listing-counts.js';

/** Feeds pages of `step` items at startIndex 1, 1+step, … with the given totals. */
function listing(totals: number[], step = 10, maxPages = 1000): ListingCounts {
  const c = new ListingCounts('Users', step, maxPages);
  totals.forEach((t, i) => {
    c.request();
    c.observe(t, 1 + i * step, step);
  });
  return c;
}

describe('ListingCounts', () => {
  it('accepts rows equal to an unchanged totalResults, and names both numbers otherwise', () => {
    expect(listing([30, 30, 30]).verdict(30, true)).to.deep.equal({ kind: 'ok' });
    expect(listing([30, 30, 30]).verdict(29, true)).to.deep.include({ kind: 'mismatch' }).and.have.property('message').that.matches(/only 29 .* totalResults 30/);
    expect(listing([30, 30, 30]).verdict(31, true)).to.have.property('message').that.matches(/31 distinct resources arrived but the server said totalResults 30/);
  });

  it('asks for a re-read from the page where totalResults first dropped, moved back by the drop', () => {
    expect(listing([50, 50, 48, 48, 48]).verdict(48, true)).to.deep.equal({ kind: 'reread', from: 19 });
    // After the re-read (or where none is possible), anything between the smallest and largest total is right.
    expect(listing([50, 50, 48, 48, 48]).verdict(49, false)).to.deep.equal({ kind: 'ok' });
    expect(listing([50, 50, 48, 48, 48]).verdict(47, false).kind).to.equal('mismatch');
  });

  it('does not re-read for a growing totalResults (insertions give duplicates, not gaps)', () => {
    expect(listing([30, 31, 31]).verdict(30, true)).to.deep.equal({ kind: 'ok' });
  });

  it('does not check a listing whose totalResults was proved wrong', () => {
    const c = listing([10, 10]);
    c.distrust('counts the page');
    expect(c.verdict(300, true)).to.deep.equal({ kind: 'ok' });
    expect(c.expected).to.equal(undefined);
  });

  it('spends the page budget: twice the expected pages plus two, or maxPages', () => {
    const c = listing([100]);
    for (let i = 0; i < 21; i++) c.request();
    expect(() => c.request()).to.throw().with.property('code', 'ERR_EXPORT_PAGE_BUDGET');
    const capped = new ListingCounts('Users', 10, 3);
    for (let i = 0; i < 3; i++) capped.request();
    expect(() => capped.request()).to.throw(/3 list requests without reaching the end/);
    expect(() => new ListingCounts('Users', 200, 1000).observe(1_000_000, 1, 1)).to.throw(/serves 1 per page \(asked 200\): 1000000 requests/);
  });
});
