import { expect } from 'chai';
import { ConcurrencyRamp } from '../../lib/streams/sources/concurrency-ramp.js';

/** A ramp fed pages whose duration depends on the width and the page's index (`msPerPage(width, i)`, fake clock); the widths after each page. */
function drive(max: number, pages: number, msPerPage: (width: number, page: number) => number): number[] {
  let t = 0;
  const widths: number[] = [];
  const ramp = new ConcurrencyRamp({ max, now: () => t });
  expect(ramp.width).to.equal(1);
  for (let i = 0; i < pages; i++) {
    t += msPerPage(ramp.width, i);
    ramp.consumed(100);
    widths.push(ramp.width);
  }
  return widths;
}

describe('concurrency ramp (list pages in flight)', () => {
  it('starts at one page and widens while the rows per second grow, up to the configured concurrency', () => {
    // A latency-bound server: two in flight serve twice as fast.
    const widths = drive(4, 30, (w) => 100 / w);
    expect(Math.max(...widths)).to.equal(4);
    expect(widths.at(-1)).to.equal(4);
  });

  it('stays at one page when a second one does not make the table faster (CPU-bound)', () => {
    const widths = drive(4, 30, () => 50);
    expect(widths.at(-1)).to.equal(1);
    expect(Math.max(...widths)).to.be.at.most(2);
  });

  it('does not take the slower first pages (the process warming up) for a gain of the next width', () => {
    // CPU-bound, and the first three pages take twice as long.
    const widths = drive(4, 60, (_w, i) => (i < 3 ? 100 : 50));
    expect(widths.at(-1)).to.equal(1);
    expect(Math.max(...widths)).to.be.at.most(2);
  });

  it('settles on the best width once a wider one stops paying', () => {
    // Faster up to 3 in flight, then no better.
    const widths = drive(8, 60, (w) => 100 / Math.min(w, 3));
    expect(widths.at(-1)).to.equal(3);
    expect(Math.max(...widths)).to.equal(4);
  });

  it('never goes past a configured concurrency of 1', () => {
    expect(drive(1, 20, (w) => 100 / w).every((w) => w === 1)).to.equal(true);
  });
});
