/**
 * `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5): which parts of a
 * resource a reply carries. `id`, `schemas` and `meta` are always returned.
 */
import type { ScimResource } from '../types.js';
import { parseAttrPath, type AttrPath } from '../scim/filter.js';
import { ScimEtlError } from '../errors.js';
import { badRequest } from './scim-error.js';

export interface Projection {
  attributes?: AttrPath[];
  excluded?: AttrPath[];
}

const ALWAYS = new Set(['id', 'schemas', 'meta']);

/** Parses the comma-separated lists; 400 invalidValue on a malformed path. */
export function parseProjection(attributes?: string | string[], excluded?: string | string[]): Projection {
  const p: Projection = {};
  const a = splitList(attributes);
  const x = splitList(excluded);
  if (a.length) p.attributes = a.map(parsePath);
  else if (x.length) p.excluded = x.map(parsePath);
  return p;
}

function splitList(v?: string | string[]): string[] {
  if (v === undefined) return [];
  const parts = Array.isArray(v) ? v.flatMap((s) => s.split(',')) : v.split(',');
  return parts.map((s) => s.trim()).filter(Boolean);
}

function parsePath(text: string): AttrPath {
  try {
    return parseAttrPath(text);
  } catch (err) {
    throw badRequest(`invalid attribute path '${text}': ${err instanceof ScimEtlError ? err.message : String(err)}`, 'invalidPath');
  }
}

export const isEmptyProjection = (p: Projection) => !p.attributes && !p.excluded;

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const keyIn = (obj: Record<string, unknown>, name: string) => Object.keys(obj).find((k) => same(k, name));

/**
 * How a projection treats one top-level attribute: 'all', 'none', or the set
 * of sub-attributes kept (lower-case). Used to stream a large group's members.
 */
export function attributeShare(p: Projection, attr: string): 'all' | 'none' | Set<string> {
  if (p.attributes) {
    const hits = p.attributes.filter((a) => !a.schema && same(a.attr, attr));
    if (hits.length === 0) return 'none';
    if (hits.some((h) => !h.sub)) return 'all';
    return new Set(hits.map((h) => h.sub!.toLowerCase()));
  }
  if (p.excluded) {
    const hits = p.excluded.filter((a) => !a.schema && same(a.attr, attr));
    if (hits.some((h) => !h.sub)) return 'none';
    if (hits.length) return new Set(['value', '$ref', 'display', 'type'].filter((s) => !hits.some((h) => same(h.sub!, s))));
  }
  return 'all';
}

/** Applies a projection to a full resource, returning a new object (the input is not changed). */
export function project(res: ScimResource, p: Projection): ScimResource {
  if (p.attributes) return include(res, p.attributes);
  if (p.excluded) return exclude(res, p.excluded);
  return res;
}

function include(res: ScimResource, paths: AttrPath[]): ScimResource {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(res)) if (ALWAYS.has(k)) out[k] = res[k];
  for (const path of paths) {
    let src: Record<string, unknown> = res;
    let dst: Record<string, unknown> = out;
    if (path.schema) {
      const sk = keyIn(res, path.schema);
      if (!sk || !res[sk] || typeof res[sk] !== 'object') continue;
      src = res[sk] as Record<string, unknown>;
      dst = (out[sk] ??= {}) as Record<string, unknown>;
    }
    const ak = keyIn(src, path.attr);
    if (!ak) continue;
    const v = src[ak];
    if (!path.sub) {
      dst[ak] = v;
      continue;
    }
    if (Array.isArray(v)) {
      const prev = Array.isArray(dst[ak]) ? (dst[ak] as Record<string, unknown>[]) : v.map(() => ({}));
      v.forEach((el, i) => {
        if (el && typeof el === 'object') {
          const sk = keyIn(el as Record<string, unknown>, path.sub!);
          if (sk) prev[i] = { ...prev[i], [sk]: (el as Record<string, unknown>)[sk] };
        }
      });
      dst[ak] = prev;
    } else if (v && typeof v === 'object') {
      const sk = keyIn(v as Record<string, unknown>, path.sub);
      if (sk) dst[ak] = { ...(dst[ak] as object | undefined), [sk]: (v as Record<string, unknown>)[sk] };
    }
  }
  // Elements that got no requested sub-attribute are noise: drop them.
  for (const [k, v] of Object.entries(out)) {
    if (Array.isArray(v) && !ALWAYS.has(k)) out[k] = v.filter((el) => !(el && typeof el === 'object' && Object.keys(el).length === 0));
  }
  return out as ScimResource;
}

function exclude(res: ScimResource, paths: AttrPath[]): ScimResource {
  const out: Record<string, unknown> = { ...res };
  for (const path of paths) {
    let holder: Record<string, unknown> = out;
    if (path.schema) {
      const sk = keyIn(out, path.schema);
      if (!sk || !out[sk] || typeof out[sk] !== 'object') continue;
      holder = out[sk] = { ...(out[sk] as object) } as Record<string, unknown>;
    }
    const ak = keyIn(holder, path.attr);
    if (!ak || (holder === out && ALWAYS.has(ak))) continue;
    if (!path.sub) {
      delete holder[ak];
      continue;
    }
    const v = holder[ak];
    const strip = (el: unknown) => {
      if (!el || typeof el !== 'object') return el;
      const copy = { ...(el as Record<string, unknown>) };
      const sk = keyIn(copy, path.sub!);
      if (sk) delete copy[sk];
      return copy;
    };
    holder[ak] = Array.isArray(v) ? v.map(strip) : strip(v);
  }
  return out as ScimResource;
}
