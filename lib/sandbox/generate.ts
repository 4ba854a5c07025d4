/**
 * A deterministic directory: the same (users, groups, members, seed) always
 * gives the same ids, names and memberships, so benchmarks and tests can name
 * expected values. Values are deliberately awkward: non-ASCII letters, commas,
 * quotes, newlines, several emails with the primary one not always first,
 * missing attributes. Users come out as plain objects, ready for the store.
 */
import type { ScimResource } from '../types.js';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from '../scim/schemas.js';
import type { MemberRef } from './store.js';

export interface GenerateOptions {
  users: number;
  groups: number;
  /** Members of the one very large group (the first group). Default min(users, 1000). */
  members?: number;
  seed?: number;
}

/** mulberry32: tiny, fast, good enough for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GIVEN = ['Ana', 'José', 'Zoë', 'Łukasz', 'Søren', 'Chloé', 'Mohammed', 'Siobhán', 'Jürgen', 'Aiko', 'Nguyễn Văn', 'Olu', 'Priya', 'Björk', 'Renée', 'Dmitrij', 'François', 'Mei', 'Ángel', 'Ingrid', 'John', 'Mary', 'Wei', 'Ólafur'];
const FAMILY = ['García', "O'Brien", 'Müller', 'Smith, Jr.', 'Nakamura', 'Dvořák', 'Kowalski', 'Ødegaard', 'Lefèvre', 'van der Berg', 'Çelik', 'Hernández', 'Ng', 'Brown', 'Schäfer', 'Østergaard', 'Papadopoulos', 'Li', 'Novák', 'Doe'];
const DEPARTMENTS = ['Sales, EMEA', 'R&D', 'Finance', 'Human Resources', 'Support "Tier 2"', 'Legal', 'IT Operations', 'Marketing', 'Logistics', 'Procurement'];
const TITLES = ['Engineer', 'Director, "Special" Projects', 'Analyst', 'Manager', 'Consultant', 'VP, Sales', 'Intern', ''];
const CITIES = ['Zürich', 'São Paulo', 'Kraków', 'Montréal', 'Reykjavík', 'Paris', 'Tokyo', 'Lagos'];

/** Strips accents and anything not usable in a mailbox name. */
const mailboxes = new Map<string, string>();
function mailbox(s: string): string {
  let m = mailboxes.get(s);
  if (m === undefined) mailboxes.set(s, (m = toMailbox(s)));
  return m;
}

function toMailbox(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ø/gi, 'o')
    .replace(/ł/gi, 'l')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '');
}

// Number#toString(16) is slow; a byte table makes a million ids cheap.
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
const hex8 = (x: number) => {
  const n = x >>> 0;
  return HEX[n >>> 24]! + HEX[(n >>> 16) & 255]! + HEX[(n >>> 8) & 255]! + HEX[n & 255]!;
};

function uuid(rnd: () => number): string {
  const a = hex8(rnd() * 0x100000000);
  const b = hex8(rnd() * 0x100000000);
  const c = hex8(rnd() * 0x100000000);
  const d = hex8(rnd() * 0x100000000);
  return `${a}-${b.slice(0, 4)}-4${b.slice(5)}-${'89ab'[(rnd() * 4) | 0]}${c.slice(1, 4)}-${c.slice(4)}${d}`;
}

const EPOCH = Date.UTC(2024, 0, 1);

export interface GeneratedGroup {
  group: ScimResource;
  members: MemberRef[];
}

/** Each user has its own PRNG stream, so user i can be rebuilt alone, at any time, in any order. */
function userRng(seed: number, i: number): () => number {
  return prng((Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(seed, 0x85ebca6b)) >>> 0);
}

export interface UserHeader {
  id: string;
  userName: string;
  displayName: string;
}

/** What the store indexes for user i (id, userName) and shows in member lists, without building the user. */
export function userHeader(seed: number, i: number): UserHeader {
  return header(userRng(seed, i), i).h;
}

function header(rnd: () => number, i: number) {
  const given = GIVEN[(rnd() * GIVEN.length) | 0]!;
  const family = FAMILY[(rnd() * FAMILY.length) | 0]!;
  const id = uuid(rnd);
  const local = `${mailbox(given)}.${mailbox(family)}`;
  // Every 7th userName keeps its non-ASCII letters (a valid, awkward identifier).
  const userName = i % 7 === 3 ? `${given.toLowerCase().replace(/\s+/g, '')}.${i}@example.com` : `${local}.${i}@example.com`;
  const displayName = i % 5 === 2 ? `${family}, ${given}` : `${given} ${family}`;
  return { h: { id, userName, displayName }, given, family, local };
}

/** Managers are among the first 50 users of a seed: their headers are built once. */
const managers = new Map<number, UserHeader[]>();
function managerHeader(seed: number, m: number): UserHeader {
  let list = managers.get(seed);
  if (!list) {
    list = Array.from({ length: 50 }, (_, k) => userHeader(seed, k));
    managers.set(seed, list);
  }
  return list[m]!;
}

/** User i of a generated directory (meta.created / lastModified included; the store adds location and version). */
export function generateUser(seed: number, i: number): ScimResource {
  const rnd = userRng(seed, i);
  const { h, given, family, local } = header(rnd, i);
  const created = EPOCH + i * 60_000 + ((rnd() * 30_000) | 0);
  const lastModified = created + ((rnd() * 86_400_000 * 30) | 0);
  const work = { value: `${local}.${i}@example.com`, type: 'work', primary: true };
  const home = { value: `${local}${i}@home.example.org`, type: 'home' };
  const emails = i % 3 === 0 ? [home, work] : i % 3 === 1 ? [work] : [home, work, { value: `${i}+"quoted"@example.net`, type: 'other' }];
  const u: ScimResource = {
    schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
    id: h.id,
    externalId: `E${String(i).padStart(7, '0')}`,
    userName: h.userName,
    name: i % 11 === 5 ? { familyName: family } : { formatted: `${given} ${family}`, familyName: family, givenName: given },
    displayName: h.displayName,
    active: rnd() < 0.9,
    emails,
  };
  const title = TITLES[(rnd() * TITLES.length) | 0]!;
  if (title) u.title = title;
  if (i % 4 === 1) u.phoneNumbers = [{ value: `+41 44 ${String(i % 1000).padStart(3, '0')} ${String(i % 100).padStart(2, '0')} 00`, type: 'work' }];
  if (i % 6 === 0) {
    const city = CITIES[(rnd() * CITIES.length) | 0]!;
    u.addresses = [{ formatted: `${i} Main Street\n${city}`, streetAddress: `${i} Main Street`, locality: city, type: 'work', primary: true }];
  }
  const ext: Record<string, unknown> = { employeeNumber: String(100000 + i), department: DEPARTMENTS[(rnd() * DEPARTMENTS.length) | 0] };
  if (i % 9 !== 4) ext.costCenter = `CC-${(rnd() * 90 + 10) | 0}`;
  if (i > 0 && i % 10 !== 0) {
    // Managers are among the first 50 users.
    const m = managerHeader(seed, (rnd() * Math.min(i, 50)) | 0);
    ext.manager = { value: m.id, displayName: m.displayName };
  }
  u[ENTERPRISE_USER_SCHEMA] = ext;
  u.meta = { resourceType: 'User', created: new Date(created).toISOString(), lastModified: new Date(lastModified).toISOString() };
  return u;
}

/** Users, in order (eager form of generateUser, for tools that want them all). */
export function* generateUsers(opts: GenerateOptions): Generator<ScimResource> {
  for (let i = 0; i < opts.users; i++) yield generateUser(opts.seed ?? 1, i);
}

/**
 * Groups: the first one is large (`members` users, in user order); the others
 * have up to 50 random members, every 10th also holds the second group, and
 * the last one is empty. `userIds` are the generated users' ids in order.
 */
export function* generateGroups(opts: GenerateOptions, userIds: readonly string[]): Generator<GeneratedGroup> {
  const rnd = prng((opts.seed ?? 1) ^ 0x5bd1e995);
  const big = Math.min(opts.members ?? Math.min(opts.users, 1000), userIds.length);
  const groupIds: string[] = [];
  for (let g = 0; g < opts.groups; g++) {
    const id = uuid(rnd);
    groupIds.push(id);
    const displayName = g === 0 ? 'All Staff' : `${DEPARTMENTS[g % DEPARTMENTS.length]} #${g}`;
    let members: MemberRef[] = [];
    if (g === 0) {
      members = new Array(big);
      for (let k = 0; k < big; k++) members[k] = { value: userIds[k]!, type: 'User' };
    } else if (g < opts.groups - 1 || opts.groups === 1) {
      const n = userIds.length ? (rnd() * Math.min(51, userIds.length + 1)) | 0 : 0;
      const seen = new Set<string>();
      for (let k = 0; k < n; k++) {
        const uid = userIds[(rnd() * userIds.length) | 0]!;
        if (!seen.has(uid)) {
          seen.add(uid);
          members.push({ value: uid, type: 'User' });
        }
      }
      if (g % 10 === 0 && g > 1) members.push({ value: groupIds[1]!, type: 'Group' });
    }
    const created = EPOCH + g * 3_600_000;
    yield {
      group: {
        schemas: [GROUP_SCHEMA],
        id,
        displayName,
        ...(g % 3 === 1 ? { externalId: `G${g}` } : {}),
        meta: { created: new Date(created).toISOString(), lastModified: new Date(created + 1000).toISOString() },
      },
      members,
    };
  }
}
