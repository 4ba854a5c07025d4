/** The README documents every key the validator knows and every code it reports. */
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { knownKeyPaths } from '../../lib/config/spec.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const doc = readFileSync(path.join(root, 'README.md'), 'utf8');

describe('README.md', () => {
  it('names every key', () => {
    const keys = new Set(knownKeyPaths().map((p) => p.split('.').at(-1)!));
    const undocumented = [...keys].filter((k) => !doc.includes(`\`${k}\``) && !doc.includes(`${k}:`) && !doc.includes(`.${k}\``));
    expect(undocumented).to.deep.equal([]);
  });

  it('explains every error code the loader can report', () => {
    const dir = path.join(root, 'lib/config');
    const sources = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(path.join(dir, f), 'utf8'))
      .join('\n');
    const codes = new Set([...sources.matchAll(/'(ERR_[A-Z_]+)'/g)].map((m) => m[1]!));
    // Raised by the shared filter and path parsers, reported by the loader.
    codes.add('ERR_FILTER_SYNTAX').add('ERR_PATH_SYNTAX');
    codes.delete('ERR_CONFIG_INVALID'); // fallback of ConfigProblems, never expected
    const missing = [...codes].filter((c) => !doc.includes(`\`${c}\``));
    expect(missing).to.deep.equal([]);
  });
});
