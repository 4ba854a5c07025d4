import { expect } from 'chai';
import { parseColumnPath } from '../../lib/scim/path.js';
import { applyCells, patchOperations, patchPathOf, templateFromFilter, unflatten, type Cell } from '../../lib/scim/unflatten.js';
import { parseFilter } from '../../lib/scim/filter.js';
import { readColumn } from '../../lib/scim/read-column.js';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const cell = (text: string, value: unknown): Cell => ({ path: parseColumnPath(text), value });
const MULTI = new Set(['emails', 'phoneNumbers']);
const isMultiValued = (p: { attr: string }) => MULTI.has(p.attr);

describe('unflatten', () => {
  it('builds a resource from simple, sub-attribute, extension and filtered columns', () => {
    const r = unflatten(
      [
        cell('userName', 'ada'),
        cell('name:givenName', 'Ada'),
        cell('name:familyName', 'Lovelace'),
        cell(`${ENT}:employeeNumber`, 'E1'),
        cell(`${ENT}:manager:value`, 'boss-id'),
        cell('emails[type eq "work"]:value', 'ada@work'),
        cell('emails[type eq "home"]:value', 'ada@home'),
        cell('active', true),
      ],
      { isMultiValued },
    );
    expect(r).to.deep.equal({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENT],
      userName: 'ada',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      [ENT]: { employeeNumber: 'E1', manager: { value: 'boss-id' } },
      emails: [
        { type: 'work', value: 'ada@work' },
        { type: 'home', value: 'ada@home' },
      ],
      active: true,
    });
  });

  it('writes an unfiltered multi-valued sub-attribute to the primary element, which the export reads back', () => {
    const r = unflatten([cell('emails:value', 'a@x'), cell('emails:type', 'work')], { isMultiValued });
    expect(r.emails).to.deep.equal([{ primary: true, value: 'a@x', type: 'work' }]);
    expect(readColumn(r, parseColumnPath('emails:value'))).to.equal('a@x');
  });

  it('keeps a value-filtered element apart from the primary one, whatever the column order', () => {
    for (const cols of [
      ['emails[type eq "work"]:value', 'emails:value'],
      ['emails:value', 'emails[type eq "work"]:value'],
    ]) {
      const values: Record<string, string> = { 'emails[type eq "work"]:value': 'work@example.com', 'emails:value': 'home@example.com' };
      const r = unflatten(cols.map((c) => cell(c, values[c])), { isMultiValued });
      expect(r.emails, cols.join(' then ')).to.have.deep.members([{ type: 'work', value: 'work@example.com' }, { primary: true, value: 'home@example.com' }]);
      expect(readColumn(r, parseColumnPath('emails:value'))).to.equal('home@example.com');
      expect(readColumn(r, parseColumnPath('emails[type eq "work"]:value'))).to.equal('work@example.com');
    }
  });

  it('round-trips with the export column reader', () => {
    const cols = ['userName', 'name:givenName', 'emails[type eq "work"]:value', `${ENT}:manager:value`];
    const r = unflatten(cols.map((c, i) => cell(c, `v${i}`)), { isMultiValued });
    expect(cols.map((c) => readColumn(r, parseColumnPath(c)))).to.deep.equal(['v0', 'v1', 'v2', 'v3']);
  });

  it('builds an element template from eq terms joined by and, and refuses other filters', () => {
    expect(templateFromFilter(parseFilter('type eq "work" and primary eq true'))).to.deep.equal({ type: 'work', primary: true });
    expect(() => templateFromFilter(parseFilter('type eq "work" or type eq "home"'))).to.throw().with.property('code', 'ERR_PATH_UNSUPPORTED');
    expect(() => templateFromFilter(parseFilter('value co "x"'))).to.throw().with.property('code', 'ERR_PATH_UNSUPPORTED');
  });

  it('gives PATCH paths in dot syntax with filters and URNs', () => {
    expect(patchPathOf(parseColumnPath('name:givenName'))).to.equal('name.givenName');
    expect(patchPathOf(parseColumnPath('emails[type eq "work"]:value'))).to.equal('emails[type eq "work"].value');
    expect(patchPathOf(parseColumnPath('emails:value'), true)).to.equal('emails[primary eq true].value');
    expect(patchPathOf(parseColumnPath(`${ENT}:manager:value`))).to.equal(`${ENT}:manager.value`);
  });

  it('makes replace / add / remove operations and skips unchanged cells', () => {
    const ops = patchOperations([cell('title', 'Boss'), cell('nickName', null), cell('displayName', undefined), cell('emails[type eq "work"]:value', 'w@x')], { isMultiValued });
    expect(ops).to.deep.equal([
      { op: 'replace', path: 'title', value: 'Boss' },
      { op: 'remove', path: 'nickName' },
      { op: 'add', path: 'emails[type eq "work"].value', value: 'w@x' },
    ]);
  });

  it('applies cells to a fetched resource for PUT, clearing nulls, without touching the original', () => {
    const current = { id: '1', userName: 'a', title: 'T', name: { givenName: 'A' }, emails: [{ type: 'work', value: 'old' }] };
    const next = applyCells(current, [cell('title', null), cell('name:givenName', 'B'), cell('emails[type eq "work"]:value', 'new')], { isMultiValued });
    expect(next).to.deep.equal({ id: '1', userName: 'a', name: { givenName: 'B' }, emails: [{ type: 'work', value: 'new' }] });
    expect(current.title).to.equal('T');
  });
});
