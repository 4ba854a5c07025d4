/**
 * Quirk profiles: behaviours of real SCIM servers that do not install here,
 * as data beside the dialects. Each quirk is one switch (some take a value),
 * they combine freely, and a bundle names all the quirks of one server. The
 * handlers read the normalised QuirkSet; nothing else branches on a server.
 */
import { ScimEtlError } from '../errors.js';

/** Quirks that are on or off. */
export type SwitchQuirk =
  | 'dropExtensionAttributes'
  | 'emptyParentProjection'
  | 'totalIsPageLength'
  | 'ignoreDottedReplace'
  | 'quotedBooleanNeverMatches'
  | 'bulkPatchIgnored'
  | 'createWithoutId'
  | 'clientErrorAs500'
  | 'deleteMissing500'
  | 'activeNotFilterable'
  | 'attributesUrn400'
  | 'lastModifiedNeverMatches';

/** Quirks that take a value: `rootPath=/scim/v2/endpoints/abc`, `memberPatchLimit=100`, `pageCap=50`. */
export interface ValuedQuirks {
  /** The SCIM root served instead of /v2. Required. */
  rootPath: string;
  /** Most members one PATCH may name (default 100). */
  memberPatchLimit: number;
  /** Page size the server silently caps `count` at, without advertising it (default 50). */
  pageCap: number;
}

export type QuirkName = SwitchQuirk | keyof ValuedQuirks;

export type QuirkBundle = 'scimgateway' | 'scim2-server' | 'SCIMServer' | 'better-auth' | 'scimmy';

/** The active quirks, as the handlers read them. */
export type QuirkSet = { readonly [K in SwitchQuirk]?: true } & { readonly [K in keyof ValuedQuirks]?: ValuedQuirks[K] };

/**
 * One entry of `quirks: [...]` in process: a quirk or bundle name (any case),
 * `name=value` as on the command line, or an object of names to values
 * (`true` for a switch): `{ rootPath: '/scim/v2/endpoints/abc', pageCap: 20 }`.
 */
export type QuirkSpec =
  | QuirkName
  | QuirkBundle
  | `${keyof ValuedQuirks}=${string}`
  | { [K in SwitchQuirk | QuirkBundle]?: boolean } & { [K in keyof ValuedQuirks]?: ValuedQuirks[K] | string };

interface QuirkInfo {
  /** The real server it was observed on. */
  server: string;
  /** What it does, one line (printed by the CLI, mirrored in the README table). */
  behaviour: string;
  value?: { kind: 'path' | 'int'; default?: string | number };
}

export const QUIRKS: Readonly<Record<QuirkName, QuirkInfo>> = {
  dropExtensionAttributes: { server: 'scimgateway 6.1.18', behaviour: 'extension attributes named in attributes= are silently left out of list and GET replies' },
  emptyParentProjection: { server: 'scim2-server 0.1.7', behaviour: 'attributes=name,emails returns "name":{} and "emails":[{},{}]; sub-attribute paths work' },
  totalIsPageLength: { server: 'scim2-server 0.1.7', behaviour: 'totalResults is the number of resources in the page' },
  pageCap: { server: 'scim2-server 0.1.7', behaviour: 'count silently capped at N (default 50), not advertised in the ServiceProviderConfig', value: { kind: 'int', default: 50 } },
  rootPath: { server: 'SCIMServer 0.55.13', behaviour: 'the SCIM root is at the given path (e.g. /scim/v2/endpoints/abc) instead of /v2', value: { kind: 'path' } },
  ignoreDottedReplace: { server: 'SCIMServer 0.55.13', behaviour: 'PATCH replace with a dotted path (name.givenName) answers 200 and changes nothing; path "name" with an object value works' },
  quotedBooleanNeverMatches: { server: 'SCIMServer 0.55.13', behaviour: 'active eq "true" matches nothing; active eq true works' },
  bulkPatchIgnored: { server: 'scimgateway 6.1.18', behaviour: 'PATCH operations in /Bulk answer 200 and apply nothing (POST, PUT, DELETE work)' },
  memberPatchLimit: { server: 'better-auth SCIM 1.7.5', behaviour: 'a PATCH naming more than N members (default 100) is 400; N or fewer work', value: { kind: 'int', default: 100 } },
  createWithoutId: { server: 'scimgateway 6.1.18', behaviour: 'POST /Users with "(" in userName answers 201 without id and Location …/Users/undefined; the user is created' },
  clientErrorAs500: { server: 'scim2-server 0.1.7', behaviour: 'client errors (bad filter, bad attribute path…) are 500, with the right scimType in the body' },
  deleteMissing500: { server: 'scimgateway 6.1.18', behaviour: 'DELETE of a missing user is 500 instead of 404' },
  activeNotFilterable: { server: 'better-auth SCIM 1.7.5', behaviour: 'a filter on active is 400 invalidFilter' },
  attributesUrn400: { server: 'scimmy 1.3.5', behaviour: `attributes= with an extension URN is 400 "Cannot read properties of undefined (reading 'includes')"` },
  lastModifiedNeverMatches: { server: 'seen on a production server', behaviour: 'filters on meta.lastModified match nothing (gt, ge, lt, le, eq)' },
};

/** A real server's quirks, all at once. */
export const QUIRK_BUNDLES: Readonly<Record<QuirkBundle, Partial<Record<QuirkName, true | string | number>>>> = {
  scimgateway: { dropExtensionAttributes: true, bulkPatchIgnored: true, createWithoutId: true, deleteMissing500: true },
  'scim2-server': { emptyParentProjection: true, totalIsPageLength: true, pageCap: 50, clientErrorAs500: true },
  SCIMServer: { rootPath: '/scim/v2/endpoints/sandbox', ignoreDottedReplace: true, quotedBooleanNeverMatches: true },
  'better-auth': { memberPatchLimit: 100, activeNotFilterable: true },
  scimmy: { attributesUrn400: true },
};

export const QUIRK_NAMES = Object.keys(QUIRKS) as QuirkName[];
export const QUIRK_BUNDLE_NAMES = Object.keys(QUIRK_BUNDLES) as QuirkBundle[];

function quirkError(where: string, message: string): ScimEtlError {
  return new ScimEtlError('ERR_SANDBOX_QUIRK', `${where}: ${message}`, { quirk: where }, { category: 'config' });
}

const known = () => `quirks: ${QUIRK_NAMES.join(', ')}; bundles: ${QUIRK_BUNDLE_NAMES.join(', ')}`;
const findName = <T extends string>(names: readonly T[], text: string) => names.find((n) => n.toLowerCase() === text.toLowerCase());

/** Adds one quirk or bundle to `out`; `value` undefined means "no value given". */
function addQuirk(out: Record<string, unknown>, rawName: string, value: unknown, where: string): void {
  const bundle = findName(QUIRK_BUNDLE_NAMES, rawName);
  if (bundle) {
    if (value !== undefined && value !== true) throw quirkError(where, `the bundle ${bundle} takes no value, got ${JSON.stringify(value)}`);
    for (const [n, v] of Object.entries(QUIRK_BUNDLES[bundle])) addQuirk(out, n, v, `${where} (${bundle})`);
    return;
  }
  const name = findName(QUIRK_NAMES, rawName);
  if (!name) throw quirkError(where, `unknown quirk ${JSON.stringify(rawName)} (${known()})`);
  const info = QUIRKS[name];
  if (!info.value) {
    if (value !== undefined && value !== true) throw quirkError(where, `${name} takes no value, got ${JSON.stringify(value)}`);
    out[name] = true;
    return;
  }
  if (value === undefined || value === true) {
    if (info.value.default === undefined) throw quirkError(where, `${name} needs a value: ${name}=/path`);
    out[name] = info.value.default;
    return;
  }
  if (info.value.kind === 'int') {
    const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw quirkError(where, `${name} must be an integer >= 1, got ${JSON.stringify(value)}`);
    out[name] = n;
    return;
  }
  // A path of plain segments: it is matched literally against request paths.
  const path = typeof value === 'string' ? value.trim().replace(/\/+$/, '') : value;
  if (typeof path !== 'string' || !/^(\/[A-Za-z0-9._~%!$&'()*+;=:@-]+)+$/.test(path)) {
    throw quirkError(where, `${name} must be a path such as /scim/v2/endpoints/abc, got ${JSON.stringify(value)}`);
  }
  out[name] = path;
}

/** Validates `quirks: [...]` into the set the handlers read (later entries win). */
export function normalizeQuirks(specs: unknown, label = (i: number) => `quirks[${i}]`): QuirkSet {
  if (specs === undefined) return {};
  if (!Array.isArray(specs)) throw quirkError('quirks', `expected an array, got ${JSON.stringify(specs)}`);
  const out: Record<string, unknown> = {};
  specs.forEach((s: unknown, i) => {
    const where = label(i);
    if (typeof s === 'string') {
      const eq = s.indexOf('=');
      if (eq < 0) addQuirk(out, s.trim(), undefined, where);
      else addQuirk(out, s.slice(0, eq).trim(), s.slice(eq + 1), where);
    } else if (s && typeof s === 'object' && !Array.isArray(s)) {
      for (const [k, v] of Object.entries(s)) if (v !== false) addQuirk(out, k, v, where);
    } else {
      throw quirkError(where, `expected a quirk name, "name=value" or an object, got ${JSON.stringify(s)}`);
    }
  });
  return out as QuirkSet;
}

/**
 * The CLI's `--quirk` values: repeatable and comma-separated, each `name` or
 * `name=value` (`--quirk scimgateway --quirk totalIsPageLength,pageCap=20`).
 */
export function parseQuirkArgs(values: readonly string[]): string[] {
  return values.flatMap((v) => String(v).split(',')).map((s) => s.trim()).filter(Boolean);
}

/** `name` or `name=value` per active quirk, for the start-up banner. */
export function describeQuirks(q: QuirkSet): string[] {
  return Object.entries(q).map(([k, v]) => (v === true ? k : `${k}=${String(v)}`));
}
