/**
 * A small SCIM Users/Groups server on startHttp that behaves like real servers
 * seen in the field, one quirk at a time:
 *  - urnAttributes400: scimmy — an extension URN in attributes= → HTTP 400;
 *  - dropExtension: scimgateway — extension attributes named in attributes= are left out;
 *  - hollowComplex: python scim2-server — a complex attribute named whole comes back {} / [{}];
 *  - refuseFilterOn: better-auth — a filter reading this attribute → 400 invalidFilter;
 *  - strictBooleans: SCIMServer — "true" (a string) matches no boolean;
 *  - schemas: served at /Schemas (else 404, as ServiceProviderConfig always is).
 * It filters (lib/scim/filter.ts evaluation), projects attributes= and
 * excludedAttributes=, and pages by startIndex/count.
 */
import { parseFilter, matchesFilter, hasQuotedBoolean, getAttr } from '../../lib/scim/filter.js';
import { startHttp, sendJson, listResponse, type TestServer } from '../helpers/http-server.js';

export const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

export interface Quirks {
  urnAttributes400?: boolean;
  dropExtension?: boolean;
  hollowComplex?: boolean;
  refuseFilterOn?: string;
  strictBooleans?: boolean;
  schemas?: unknown[];
}

type Resource = Record<string, unknown>;

export function sampleUsers(n: number): Resource[] {
  return Array.from({ length: n }, (_, i) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENT],
    id: `u${String(i).padStart(3, '0')}`,
    userName: `user${i}@example.com`,
    active: i % 3 !== 0,
    name: { givenName: `Given${i}`, familyName: `Family${i}` },
    emails: [
      { value: `home${i}@example.org`, type: 'home' },
      { value: `user${i}@example.com`, type: 'work', primary: true },
    ],
    groups: [{ value: 'g1', display: 'All' }],
    [ENT]: { employeeNumber: `E${i}`, department: i % 2 ? 'Sales' : 'R&D' },
  }));
}

export async function startQuirky(users: Resource[], quirks: Quirks = {}): Promise<TestServer> {
  return startHttp((req, res) => {
    const url = new URL(req.url, 'http://x');
    const path = url.pathname.replace(/^\/v2\//, '');
    if (path === 'Schemas' && quirks.schemas) return sendJson(res, 200, listResponse(quirks.schemas, quirks.schemas.length));
    if (path !== 'Users') return sendJson(res, 404, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404', detail: 'not found' });
    const q = url.searchParams;
    const attributes = q.get('attributes')?.split(',').filter(Boolean);
    const excluded = q.get('excludedAttributes')?.split(',').filter(Boolean);
    if (quirks.urnAttributes400 && attributes?.some((a) => a.startsWith('urn:'))) {
      return sendJson(res, 400, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', detail: "Cannot read properties of undefined (reading 'includes')" });
    }
    let list = users;
    const filterText = q.get('filter');
    if (filterText) {
      if (quirks.refuseFilterOn && filterText.toLowerCase().includes(quirks.refuseFilterOn.toLowerCase())) {
        return sendJson(res, 400, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', scimType: 'invalidFilter', detail: `${quirks.refuseFilterOn} is not filterable` });
      }
      const ast = parseFilter(filterText);
      list = quirks.strictBooleans && hasQuotedBoolean(ast) ? [] : list.filter((u) => matchesFilter(u, ast));
    }
    const start = Math.max(1, Number(q.get('startIndex') ?? 1));
    const count = Number(q.get('count') ?? 100);
    const page = list.slice(start - 1, start - 1 + count).map((u) => project(u, attributes, excluded, quirks));
    sendJson(res, 200, listResponse(page, list.length, start));
  });
}

function project(u: Resource, attributes: string[] | undefined, excluded: string[] | undefined, quirks: Quirks): Resource {
  if (excluded) {
    const out = { ...u };
    for (const e of excluded) delete out[e];
    return out;
  }
  if (!attributes) return u;
  const out: Resource = { id: u.id };
  for (const a of attributes) {
    if (a.startsWith('urn:')) {
      if (quirks.dropExtension) continue;
      const cut = a.lastIndexOf(':');
      const schema = a.slice(0, cut);
      const ext = getAttr(u, schema) as Resource | undefined;
      if (ext) out[schema] = { ...(out[schema] as Resource), [a.slice(cut + 1)]: ext[a.slice(cut + 1)] };
      continue;
    }
    const [attr, sub] = a.split('.') as [string, string | undefined];
    const v = u[attr];
    if (v === undefined) continue;
    if (sub === undefined) {
      out[attr] = quirks.hollowComplex && typeof v === 'object' && v !== null ? (Array.isArray(v) ? v.map(() => ({})) : {}) : v;
    } else if (Array.isArray(v)) {
      const prev = (out[attr] as Resource[] | undefined) ?? v.map(() => ({}));
      out[attr] = v.map((el, i) => ({ ...prev[i], ...((el as Resource)[sub] !== undefined ? { [sub]: (el as Resource)[sub] } : {}) }));
    } else if (v && typeof v === 'object') {
      out[attr] = { ...(out[attr] as Resource), [sub]: (v as Resource)[sub] };
    }
  }
  return out;
}
