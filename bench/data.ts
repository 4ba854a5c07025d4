/**
 * Deterministic benchmark data: the same N gives the same users, the same
 * group and the same order lines on every run and every machine (no clock,
 * no randomness). Users look like the sandbox's generated ones (about 1 KB
 * of JSON each, non-ASCII names, a title with a comma or a quote so that CSV
 * quoting is exercised).
 */

export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

const GIVEN = ['Wei', 'José', 'Ana', 'Björn', 'Chloé', 'Dmitri', 'Fatima', 'Grace', 'Hiroshi', 'Inès', 'Kwame', 'Leilani', 'Mateo'];
const FAMILY = ['Lefèvre', 'Østergaard', 'Smith', 'Müller', 'García', 'Kowalski', 'Nakamura', "O'Brien", 'Rossi', 'Dubois', 'Nguyen'];
const TITLES = ['Manager', 'Engineer, Platform', 'Consultant', 'Analyst', 'Director "Field Sales"', 'Designer', 'Accountant'];
const CITIES = ['São Paulo', 'Zürich', 'Lyon', 'Kraków', 'Osaka', 'Accra', 'Oslo'];

/** A 32-bit integer hash (xorshift-multiply), to make ids look random but stay fixed. */
function mix(i: number, salt: number): number {
  let x = (i + 1) * 0x9e3779b1 + salt;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0').slice(-width);

/** A UUID-shaped id, unique per (kind, i). */
export function benchId(kind: number, i: number): string {
  return `${hex(mix(i, kind), 8)}-${hex(mix(i, kind + 1), 4)}-4${hex(mix(i, kind + 2), 3)}-8${hex(mix(i, kind + 3), 3)}-${hex(kind, 4)}${hex(i, 8)}`;
}

export const userId = (i: number) => benchId(1, i);
export const groupId = (i: number) => benchId(2, i);

export function user(i: number, base: string): Record<string, unknown> {
  const given = GIVEN[i % GIVEN.length]!;
  const family = FAMILY[(i * 7) % FAMILY.length]!;
  const id = userId(i);
  const login = `${given}.${family}.${i}`.toLowerCase().replace(/'/g, '');
  const day = String(1 + (i % 28)).padStart(2, '0');
  return {
    schemas: [CORE_USER, ENTERPRISE_USER],
    id,
    externalId: `E${String(i).padStart(7, '0')}`,
    userName: `${login}@example.com`,
    name: { formatted: `${given} ${family}`, familyName: family, givenName: given },
    displayName: `${given} ${family}`,
    active: i % 10 !== 9,
    emails: [
      { value: `${login}@home.example.org`, type: 'home' },
      { value: `${login}@example.com`, type: 'work', primary: true },
    ],
    title: TITLES[i % TITLES.length],
    addresses: [{ formatted: `${i} Main Street\n${CITIES[i % CITIES.length]}`, streetAddress: `${i} Main Street`, locality: CITIES[i % CITIES.length], type: 'work', primary: true }],
    [ENTERPRISE_USER]: { employeeNumber: String(100000 + i), department: 'Sales, EMEA', costCenter: `CC-${i % 97}` },
    meta: {
      resourceType: 'User',
      created: `2024-01-${day}T00:00:00.000Z`,
      lastModified: `2024-02-${day}T12:00:00.000Z`,
      location: `${base}/v2/Users/${id}`,
      version: `W/"${1 + (i % 5)}"`,
    },
  };
}

/** The members array of the one big group: `{value, $ref, display}` per member, as most servers send them. */
export function member(i: number, base: string): Record<string, unknown> {
  const id = userId(i);
  return { value: id, $ref: `${base}/v2/Users/${id}`, display: `${GIVEN[i % GIVEN.length]} ${FAMILY[(i * 7) % FAMILY.length]}` };
}

/** The 8 exported user columns (scim-etl column paths) and the jq expressions that read the same values. */
export const USER_COLUMNS: ReadonlyArray<readonly [column: string, jq: string]> = [
  ['id', '.id'],
  ['userName', '.userName'],
  ['active', '.active'],
  ['name:givenName', '.name.givenName'],
  ['name:familyName', '.name.familyName'],
  ['emails:value', '((.emails // []) | (map(select(.primary == true))[0] // .[0]) | .value)'],
  ['title', '.title'],
  [`${ENTERPRISE_USER}:employeeNumber`, `.["${ENTERPRISE_USER}"].employeeNumber`],
];

/** An order CSV of n inserts (CRLF, like a spreadsheet's), with a password column when asked. */
export function insertOrders(n: number, withPassword: boolean): string {
  const head = ['command', 'orderId', 'userName', 'name:givenName', 'name:familyName', 'title', ...(withPassword ? ['password'] : [])];
  const lines = [head.join(',')];
  for (let i = 0; i < n; i++) {
    const cells = ['insert', `o${i}`, `bench.user.${i}@example.com`, GIVEN[i % GIVEN.length]!, FAMILY[(i * 7) % FAMILY.length]!, 'Tester'];
    if (withPassword) cells.push(`Pw-${mix(i, 9).toString(36)}-secret!`);
    lines.push(cells.join(','));
  }
  return lines.join('\r\n') + '\r\n';
}
