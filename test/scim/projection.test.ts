import { expect } from 'chai';
import { probeProjection } from '../../lib/scim/projection.js';
import { parseColumnPath } from '../../lib/scim/path.js';
import { BUILTIN_SCHEMAS } from '../../lib/scim/schemas.js';
import { ScimHttpError } from '../../lib/scim/errors.js';
import type { ScimRequest } from '../../lib/scim/client.js';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/** Answers each request with `answer(searchParams)`: resources, or an error to throw. */
function client(answer: (q: Record<string, unknown>) => unknown[] | Error) {
  const asked: Array<Record<string, unknown>> = [];
  return {
    asked,
    async request<T>(req: ScimRequest) {
      const q = { ...req.searchParams };
      asked.push(q);
      const a = answer(q);
      if (a instanceof Error) throw a;
      return { status: 200, headers: {}, body: { totalResults: a.length, Resources: a } as T, attempts: 1 };
    },
  };
}
const http400 = (info: { scimType?: string; detail?: string }) => new ScimHttpError({ method: 'GET', path: 'Users' }, 400, info, 1);
const columns = (...texts: string[]) => texts.map((t) => parseColumnPath(t));

describe('probeProjection', () => {
  it('keeps attributes= when the data itself holds an empty object (the plain page has it empty too)', async () => {
    const users = [{ id: 'a', [ENT]: { manager: {} } }];
    const c = client(() => users);
    const p = await probeProjection(c, { endpoint: 'Users', columns: columns('id', `${ENT}:manager:value`), schemas: BUILTIN_SCHEMAS });
    expect(p).to.deep.include({ mode: 'attributes', attributes: ['id', `${ENT}:manager`], requests: 2 });
    // The page to compare with: no attributes=, and not the heavy groups either.
    expect(c.asked[1]).to.deep.include({ attributes: undefined, excludedAttributes: 'groups' });
  });

  it('keeps the projection when the page to compare with cannot be read', async () => {
    const c = client((q) => (q.excludedAttributes ? new ScimHttpError({ method: 'GET', path: 'Groups' }, 504, {}, 1) : [{ id: 'g' }]));
    const p = await probeProjection(c, { endpoint: 'Groups', columns: columns('id', 'externalId'), schemas: BUILTIN_SCHEMAS });
    expect(p).to.deep.include({ mode: 'attributes', attributes: ['id', 'externalId'], requests: 2 });
    expect(c.asked[1]).to.deep.include({ excludedAttributes: 'members' });
  });

  it('costs one request on an empty table', async () => {
    const p = await probeProjection(client(() => []), { endpoint: 'Users', columns: columns('id', 'userName'), schemas: BUILTIN_SCHEMAS, count: 5 });
    expect(p).to.deep.include({ mode: 'attributes', requests: 1 });
  });

  it('passes on a 400 that no request shape avoids', async () => {
    const c = client(() => http400({ detail: 'nope' }));
    const err = await probeProjection(c, { endpoint: 'Users', columns: columns('id'), schemas: BUILTIN_SCHEMAS }).catch((e) => e);
    expect(err).to.be.instanceOf(ScimHttpError);
    // attributes=, excludedAttributes=groups, then plain.
    expect(c.asked.map((q) => [q.attributes, q.excludedAttributes])).to.deep.equal([
      ['id', undefined],
      [undefined, 'groups'],
      [undefined, undefined],
    ]);
  });

  it('refuses a filter it cannot evaluate locally: ERR_EXPORT_FILTER_UNSUPPORTED', async () => {
    const c = client((q) => (q.filter ? http400({ scimType: 'invalidFilter', detail: 'bad' }) : [{ id: 'a' }]));
    const err = await probeProjection(c, { endpoint: 'Users', columns: columns('id'), filter: 'x eq 1', schemas: BUILTIN_SCHEMAS }).catch((e) => e);
    expect(err?.code).to.equal('ERR_EXPORT_FILTER_UNSUPPORTED');
  });

  it('sends the first-page parameters of cursor paging', async () => {
    const c = client(() => [{ id: 'a', userName: 'x' }]);
    await probeProjection(c, { endpoint: 'Users', columns: columns('id', 'userName'), schemas: BUILTIN_SCHEMAS, firstPage: { cursor: '' }, count: 3 });
    expect(c.asked[0]).to.deep.include({ cursor: '', count: 3, attributes: 'id,userName' });
  });
});
