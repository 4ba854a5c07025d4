/**
 * A deterministic directory, seeded through the server's own SCIM API:
 * names that need CSV quoting (comma, quote, non-ASCII), several emails with
 * the primary one not always first, the enterprise extension on some users,
 * some inactive users, and groups of different sizes (one empty, one that
 * holds every user).
 */
import type { Resource, ScimApi } from './real-server.js';

export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

const GIVEN = ['Ada', 'Grace', 'Zoë', 'Jean-Luc', 'Ōtomo', 'Chloé', 'Brendan', 'Amélie', 'Ngozi', 'Sørina'];
const FAMILY = ['Lovelace', "O'Brien", 'Smith, Jr.', 'Hopper', 'Nguyễn', 'van der Berg', 'Quote "Q"', 'Müller', 'Åström', 'Okafor'];

export interface SeedUser {
  userName: string;
  givenName: string;
  familyName: string;
  /** In the order sent; `primary` marks the one scim-etl must pick. */
  emails: { value: string; type: string; primary?: boolean }[];
  active: boolean;
  employeeNumber?: string;
  department?: string;
}

export function seedUser(n: number): SeedUser {
  const given = GIVEN[n % GIVEN.length]!;
  const family = FAMILY[Math.floor(n / GIVEN.length) % FAMILY.length]!;
  const userName = `user${String(n).padStart(3, '0')}@example.com`;
  const work = { value: userName, type: 'work' };
  const home = { value: `home${n}@example.org`, type: 'home' };
  // Every third user has two emails, the primary one second: "first" would be wrong.
  const emails = n % 3 === 0 ? [home, { ...work, primary: true }] : [{ ...work, primary: true }];
  return {
    userName,
    givenName: given,
    familyName: family,
    emails,
    active: n % 7 !== 3,
    ...(n % 2 === 0 ? { employeeNumber: `E${1000 + n}`, department: n % 4 === 0 ? 'R&D, Lab "North"' : 'Sales' } : {}),
  };
}

export function userBody(u: SeedUser, enterprise: boolean): Record<string, unknown> {
  const withExt = enterprise && u.employeeNumber !== undefined;
  return {
    schemas: withExt ? [CORE_USER, ENTERPRISE] : [CORE_USER],
    userName: u.userName,
    name: { givenName: u.givenName, familyName: u.familyName },
    emails: u.emails,
    active: u.active,
    ...(withExt ? { [ENTERPRISE]: { employeeNumber: u.employeeNumber, department: u.department } } : {}),
  };
}

export interface Seeded {
  users: Resource[];
  groups: Resource[];
}

/** Which seeded users (by index) group g holds: g0 everyone, g1..g3 strided, g4 empty. */
export function groupMembers(g: number, userCount: number): number[] {
  const all = [...Array(userCount).keys()];
  if (g === 0) return all;
  if (g === 4) return [];
  return all.filter((n) => n % (g + 1) === 0);
}

export const GROUP_NAMES = ['Everyone', 'Halves', 'Thirds, "the third"', 'Quarters Ωmega', 'Empty'];

export async function seed(api: ScimApi, opts: { users: number; enterprise: boolean }): Promise<Seeded> {
  const users: Resource[] = [];
  // One after the other: ids then follow the seed order on servers that number them.
  for (let n = 0; n < opts.users; n++) users.push(await api.create('Users', userBody(seedUser(n), opts.enterprise)));
  const groups: Resource[] = [];
  for (let g = 0; g < GROUP_NAMES.length; g++) {
    const group = await api.create('Groups', { schemas: [CORE_GROUP], displayName: GROUP_NAMES[g] });
    const members = groupMembers(g, users.length).map((n) => ({ value: users[n]!.id }));
    // 50 per PATCH: servers cap member changes per request (better-auth at 100).
    for (let i = 0; i < members.length; i += 50) {
      await api.patch(`/Groups/${group.id}`, [{ op: 'add', path: 'members', value: members.slice(i, i + 50) }]);
    }
    groups.push(group);
  }
  return { users, groups };
}
