/** The README shows every shipped pipeline as it is in pipelines/, so that the examples never drift. */
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

describe('README pipeline examples', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const file of readdirSync(join(ROOT, 'pipelines')).filter((f) => f.endsWith('.yaml'))) {
    it(`shows pipelines/${file} verbatim`, () => {
      const body = readFileSync(join(ROOT, 'pipelines', file), 'utf8').trimEnd();
      expect(readme.includes('```yaml\n' + body + '\n```'), `README's copy of pipelines/${file} differs`).to.equal(true);
    });
  }
});
