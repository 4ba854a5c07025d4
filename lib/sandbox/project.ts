/**
 * `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5): which parts of a
 * resource a reply carries. `id`, `schemas` and `meta` are always returned.
 */
import type { ScimResource } from '../types.js';
import { parseAttrPath, type AttrPath } from '../scim/filter.js';
import { ScimEtlError } from '../errors.js';
import { badRequest, ScimHttpError } from './scim-error.js';
import type { QuirkSet } from './quirks.js';

export interface Projection {
  attributes?: AttrPath[];
  excluded?: AttrPath[];
  /** emptyParentProjection quirk: a complex attribute named without a sub-attribute comes back as {} / [{},…]. */
  emptyParents?: boolean;
}

const ALWAYS = new Set(['id', 'schemas', 'meta']);

/** Parses the comma-separated lists; 400 invalidValue on a malformed path. Quirks may refuse or drop extension paths. */
export function parseProjection(attributes?: string | string[], excluded?: string | string[], quirks: QuirkSet = {}): Projection {
  const p: Projection = {};
  const a = splitList(attributes);
  const x = splitList(excluded);
  if (a.length) {
    p.attributes = a.map(parsePath);
    // scimmy crashes on an extension URN in attributes= (and answers with the TypeError's message).
    if (quirks.attributesUrn400 && p.attributes.some((path) => path.schema)) throw new ScimHttpError(400, "Cannot read properties of undefined (reading 'includes')");
    // scimgateway silently drops them: what is left may be nothing but id, schemas and meta.
    if (quirks.dropExtensionAttributes) p.attributes = p.attributes.filter((path) => !path.schema);
    if (quirks.emptyParentProjection) p.emptyParents = true;
  } else if (x.length) p.excluded = x.map(parsePath);
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
    if (hits.some((h) => !h.sub)) return p.emptyParents ? new Set(hits.filter((h) => h.sub).map((h) => h.sub!.toLowerCase())) : 'all';
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
  if (p.attributes) return include(res, p.attributes, p.emptyParents);
  if (p.excluded) return exclude(res, p.excluded);
  return res;
}

function include(res: ScimResource, paths: AttrPath[], emptyParents = false): ScimResource {
  const out: Record<string, unknown> = {};
  /** Attributes the emptyParentProjection quirk answered with empty shells: kept even when empty. */
  const shells = new Set<string>();
  for (const k of Object.keys(res)) if (ALWAYS.has(k)) out[k] = res[k];
  for (const path of paths) {
    let src: Record<string, unknown> = res;
    let dst: Record<string, unknown> = out;
    // A whole extension named by its URN (parsed as schema + last segment).
    const whole = path.schema && !path.sub ? keyIn(res, `${path.schema}:${path.attr}`) : undefined;
    if (whole) {
      out[whole] = res[whole];
      continue;
    }
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
      if (emptyParents && v && typeof v === 'object') {
        // Only the shape survives: {} or one {} per element; sub-attribute paths fill them in.
        dst[ak] ??= Array.isArray(v) ? v.map((el) => (el && typeof el === 'object' ? {} : el)) : {};
        shells.add(ak);
      } else dst[ak] = v;
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
    if (Array.isArray(v) && !ALWAYS.has(k) && !shells.has(k)) out[k] = v.filter((el) => !(el && typeof el === 'object' && Object.keys(el).length === 0));
  }
  return out as ScimResource;
}

function exclude(res: ScimResource, paths: AttrPath[]): ScimResource {
  const out: Record<string, unknown> = { ...res };
  for (const path of paths) {
    let holder: Record<string, unknown> = out;
    const whole = path.schema && !path.sub ? keyIn(out, `${path.schema}:${path.attr}`) : undefined;
    if (whole) {
      delete out[whole];
      continue;
    }
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
