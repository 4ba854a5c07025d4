import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIALECTS } from '../../lib/config/spec.js';
import { dialectOf, DIALECT_MODULES } from '../../lib/scim/dialects/index.js';

const LIB = fileURLToPath(new URL('../../lib/', import.meta.url));

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Code with comments removed: a comment may name a dialect, code may not compare one. */
function code(file: string): string {
  return readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
}

describe('dialect modules', () => {
  it('no dialect name is compared or written as a string outside lib/scim/dialects/, lib/sandbox/ and the key table', () => {
    const allowed = ['scim/dialects/', 'sandbox/', 'config/spec.ts', 'config/types.ts'];
    const names = DIALECTS.filter((d) => d !== 'RFC');
    const offenders: string[] = [];
    for (const f of tsFiles(LIB)) {
      const rel = relative(LIB, f).split('\\').join('/');
      if (allowed.some((a) => rel.startsWith(a))) continue;
      const text = code(f);
      // Case-sensitive: the secret source key `cyberArk` is not the dialect.
      for (const n of names) if (new RegExp(`['"\`]${n}['"\`]`).test(text)) offenders.push(`${rel}: ${n}`);
    }
    expect(offenders).to.deep.equal([]);
  });

  it('every scimSyntax has its module, chosen in any case', () => {
    for (const n of DIALECTS) {
      expect(dialectOf(n).name).to.equal(n);
      expect(dialectOf(n.toUpperCase()).name).to.equal(n);
    }
    expect(DIALECT_MODULES.map((d) => d.name).sort()).to.deep.equal([...DIALECTS].sort());
  });

  it('Salesforce wraps a members add; RFC sends the list', () => {
    const list = [{ value: 'u1' }];
    expect(dialectOf('Salesforce').membersAddValue(list)).to.deep.equal({ members: list });
    expect(dialectOf('RFC').membersAddValue(list)).to.equal(list);
  });

  it('Salesforce and Slack deprovision by deactivating (their DELETE does); RFC and CyberArk delete', () => {
    expect(DIALECT_MODULES.filter((d) => d.deleteDeactivatesUsers).map((d) => d.name).sort()).to.deep.equal(['Salesforce', 'Slack']);
    expect(DIALECT_MODULES.filter((d) => d.deprovision === 'deactivate').map((d) => d.name).sort()).to.deep.equal(['Salesforce', 'Slack']);
  });
});

describe('layering', () => {
  it('no file under lib/streams/ imports lib/fulfill/, lib/cli/ or lib/sandbox/', () => {
    const offenders: string[] = [];
    for (const f of tsFiles(join(LIB, 'streams'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/from\s+'([^']+)'/g)) {
        if (/\/(fulfill|cli|sandbox)(\/|\.js$)/.test(m[1]!)) offenders.push(`${relative(LIB, f)} → ${m[1]}`);
      }
    }
    expect(offenders).to.deep.equal([]);
  });
});
