/**
 * Walks a parsed YAML node against the key table (spec.ts) and returns plain
 * values under canonical key names. Here live the checks that need only the
 * table: keys matched case-insensitively, unknown keys (with the closest known
 * one), duplicates, types and ranges, `${VAR}` interpolation. Meaning-level
 * checks (URLs, identifiers, filters, column paths) are in validate.ts.
 *
 * Every value's position is recorded in `locs` by key path. A value with a
 * problem is left out (undefined) and marked bad, so that later checks do not
 * report it again as "missing".
 */
import { isAlias, isMap, isScalar, isSeq, type Node, type Pair, type Scalar } from 'yaml';
import type { Threshold } from './types.js';
import { interpolate } from './interpolate.js';
import { lineColAt, scalarLocator, type LineCol, type OffsetLocator } from './positions.js';
import type { KeyPath, Loc, Locations, ProblemList } from './locations.js';
import { SECRET_ATTRIBUTES, type FieldSpec, type ObjectSpec } from './spec.js';
import type { YamlSource } from './read-yaml.js';
import { closest } from './suggest.js';

export interface ReadContext {
  src: YamlSource;
  /** Variables for `${VAR}`; undefined turns interpolation off (settings files). */
  env?: NodeJS.ProcessEnv;
  /** Values of an `*.encrypted.*` settings file: strings are carried as `enc:<value>`. */
  encrypted?: boolean;
  locs: Locations;
  problems: ProblemList;
}

export type RawObject = Record<string, unknown>;

const ENC = 'enc:';

export function readObject(ctx: ReadContext, node: Node, spec: ObjectSpec, path: KeyPath, where: string): RawObject {
  const out: RawObject = {};
  const byLower = new Map(Object.keys(spec.fields).map((k) => [k.toLowerCase(), k]));
  const seen = new Map<string, { key: string; pos: LineCol }>();
  for (const pair of effectivePairs(ctx, node)) {
    const { name, pos: keyPos } = keyOf(ctx, pair);
    const canonical = byLower.get(name.toLowerCase());
    const keyLoc: Loc = { file: ctx.src.file, ...keyPos, at: () => keyPos, key: keyPos };
    // Top-level `x-…` keys are the user's own (a place for YAML anchors), as in docker-compose.
    if (!canonical && path.length === 0 && /^x-/i.test(name)) continue;
    if (!canonical) {
      const hint = closest(name, Object.keys(spec.fields));
      // The typo stands for the suggested key: do not also report that key as missing.
      if (hint && !ctx.locs.get([...path, hint])) ctx.locs.set([...path, hint], { ...keyLoc, bad: true });
      ctx.problems.atKey(
        keyLoc,
        'ERR_CONFIG_UNKNOWN_KEY',
        `unknown key ${JSON.stringify(name)} in ${where || 'the pipeline'}${hint ? `; did you mean ${JSON.stringify(hint)}?` : ` (known: ${Object.keys(spec.fields).join(', ')})`}`,
      );
      continue;
    }
    const first = seen.get(canonical);
    if (first) {
      ctx.problems.atKey(
        keyLoc,
        'ERR_CONFIG_DUPLICATE_KEY',
        `duplicate key ${JSON.stringify(name)} in ${where || 'the pipeline'}; ${JSON.stringify(first.key)} is already set at line ${first.pos.line} (keys are case-insensitive)`,
      );
      continue;
    }
    seen.set(canonical, { key: name, pos: keyPos });
    const value = readValue(ctx, pair.value as Node | null, spec.fields[canonical]!, [...path, canonical], where ? `${where}.${canonical}` : canonical, keyPos);
    if (value !== undefined) out[canonical] = value;
  }
  return out;
}

function readValue(ctx: ReadContext, raw: Node | null, spec: FieldSpec, path: KeyPath, where: string, keyPos: LineCol): unknown {
  const node = resolveAlias(ctx, raw);
  const loc = locate(ctx, node, keyPos);
  ctx.locs.set(path, loc);
  const bad = (code: string, message: string, offset?: number) => {
    loc.bad = true;
    ctx.problems.at(loc, code, message, offset);
    return undefined;
  };
  const isNull = node === null || (isScalar(node) && node.value === null);

  switch (spec.type) {
    case 'object': {
      // `fulfill:` with nothing under it is the section with every default, not no section.
      if (isNull) return {};
      if (!isMap(node)) return bad('ERR_CONFIG_TYPE', `expected a mapping of keys, got ${describeNode(node)} (${where})`);
      return readObject(ctx, node, spec, path, where);
    }
    case 'map': {
      if (isNull) return undefined;
      if (!isMap(node)) return bad('ERR_CONFIG_TYPE', `expected a mapping of names, got ${describeNode(node)} (${where})`);
      return readMap(ctx, node, spec, path, where);
    }
    case 'stringList': {
      if (isNull) return undefined;
      if (isSeq(node)) {
        const items: string[] = [];
        node.items.forEach((item, i) => {
          const v = readValue(ctx, item as Node, { type: 'string', description: '' }, [...path, i], `${where}[${i}]`, loc);
          if (typeof v === 'string') items.push(v);
          else if (v === undefined && !ctx.locs.isBad([...path, i])) {
            const l = ctx.locs.get([...path, i]);
            if (l) l.bad = true;
            ctx.problems.at(l, 'ERR_CONFIG_TYPE', `expected a string, got nothing (${where}[${i}])`);
          }
        });
        return items;
      }
      const one = scalarString(ctx, node, loc, where);
      return one === undefined ? undefined : [one];
    }
    default: {
      if (isNull) return undefined;
      const v = scalarValue(ctx, node, loc, where, spec.type === 'string');
      if (v === undefined) return undefined;
      if (typeof v === 'string' && v.startsWith(ENC) && !encryptable(path, spec)) {
        return bad('ERR_CONFIG_ENCRYPTED_VALUE', `${where} cannot be encrypted: it is needed to validate the pipeline; set it in the pipeline file`);
      }
      return convert(v, spec, where, bad);
    }
  }
}

function readMap(ctx: ReadContext, node: Node, spec: Extract<FieldSpec, { type: 'map' }>, path: KeyPath, where: string): RawObject {
  const out: RawObject = {};
  const seen = new Map<string, { key: string; pos: LineCol }>();
  for (const pair of effectivePairs(ctx, node)) {
    const { name, pos } = keyOf(ctx, pair);
    const keyLoc: Loc = { file: ctx.src.file, ...pos, at: () => pos, key: pos };
    const first = seen.get(name.toLowerCase());
    if (first) {
      ctx.problems.atKey(
        keyLoc,
        spec.duplicateCode,
        `duplicate ${spec.duplicateCode.endsWith('ENTITY') ? 'entity' : 'key'} ${JSON.stringify(name)} in ${where}; ${JSON.stringify(first.key)} is already defined at line ${first.pos.line} (names are case-insensitive)`,
      );
      continue;
    }
    seen.set(name.toLowerCase(), { key: name, pos });
    const valueNode = resolveAlias(ctx, pair.value as Node | null);
    if (spec.nullable && (valueNode === null || (isScalar(valueNode) && valueNode.value === null))) {
      // `Groups:` with nothing under it: an entity with default settings.
      ctx.locs.set([...path, name], { ...locate(ctx, valueNode, pos), key: pos });
      out[name] = {};
      continue;
    }
    const v = readValue(ctx, valueNode, spec.values, [...path, name], `${where}.${name}`, pos);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** The scalar's value as given; strings interpolated. Non-scalars are reported. */
function scalarValue(ctx: ReadContext, node: Node | null, loc: Loc, where: string, wantString: boolean): unknown {
  if (!isScalar(node)) {
    loc.bad = true;
    ctx.problems.at(loc, 'ERR_CONFIG_TYPE', `expected a single value, got ${describeNode(node)} (${where})`);
    return undefined;
  }
  if (typeof node.value === 'string') return scalarString(ctx, node, loc, where);
  // A number or boolean where a string is expected (a numeric password, an id): keep the text as written.
  if (wantString && node.range) return ctx.src.text.slice(node.range[0], node.range[1]).trim();
  return node.value;
}

function scalarString(ctx: ReadContext, node: Node | null, loc: Loc, where: string): string | undefined {
  if (!isScalar(node)) {
    loc.bad = true;
    ctx.problems.at(loc, 'ERR_CONFIG_TYPE', `expected a string, got ${describeNode(node)} (${where})`);
    return undefined;
  }
  if (typeof node.value !== 'string') {
    if (node.value === null) return undefined;
    return node.range ? ctx.src.text.slice(node.range[0], node.range[1]).trim() : String(node.value);
  }
  if (ctx.encrypted) return ENC + node.value;
  if (!ctx.env) return node.value;
  const r = interpolate(node.value, ctx.env);
  const inScalar = loc.at;
  for (const m of r.missing) {
    ctx.problems.at(loc, 'ERR_CONFIG_MISSING_VARIABLE', `environment variable ${m.name} is not set (${where}); use \${${m.name}:-default} for a default`, m.offset);
  }
  for (const e of r.errors) ctx.problems.at(loc, 'ERR_CONFIG_INTERPOLATION', `${e.message} (${where})`, e.offset);
  if (r.missing.length || r.errors.length) {
    loc.bad = true;
    return undefined;
  }
  if (r.changed) {
    // Offsets in the interpolated value map back through the substitution to the scalar.
    loc.at = (offset) => inScalar(offset < r.sourceOffsets.length ? r.sourceOffsets[offset]! : node.value === '' ? 0 : (r.sourceOffsets.at(-1) ?? 0) + 1);
  }
  return r.value;
}

/** Only credentials and URLs may stay encrypted until run time; the rest is needed to validate. */
function encryptable(path: KeyPath, spec: FieldSpec): boolean {
  return spec.type === 'string' && !spec.enum && path.length === 2 && path[0] === 'connection' && (SECRET_ATTRIBUTES as readonly string[]).includes(String(path[1]));
}

type Bad = (code: string, message: string, offset?: number) => undefined;

function convert(v: unknown, spec: FieldSpec, where: string, bad: Bad): unknown {
  const got = JSON.stringify(v);
  switch (spec.type) {
    case 'string': {
      const s = String(v);
      if (!spec.enum) return s;
      const hit = spec.enum.find((e) => e.toLowerCase() === s.toLowerCase());
      return hit ?? bad('ERR_CONFIG_TYPE', `expected one of ${spec.enum.join(', ')}, got ${got} (${where})`);
    }
    case 'integer': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
      if (!Number.isSafeInteger(n) || n < spec.min) return bad('ERR_CONFIG_TYPE', `expected integer ≥ ${spec.min}, got ${got} (${where})`);
      if (spec.max !== undefined && n > spec.max) return bad('ERR_CONFIG_TYPE', `expected integer from ${spec.min} to ${spec.max}, got ${got} (${where})`);
      return n;
    }
    case 'boolean': {
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string' && /^(true|false)$/i.test(v.trim())) return v.trim().toLowerCase() === 'true';
      return bad('ERR_CONFIG_TYPE', `expected true or false, got ${got} (${where})`);
    }
    case 'threshold': {
      const t = parseThreshold(v);
      return t ?? bad('ERR_CONFIG_TYPE', `expected an integer ≥ 0 or a percentage such as "10%", got ${got} (${where})`);
    }
    default:
      return v;
  }
}

export function parseThreshold(v: unknown): Threshold | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? { count: v } : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (/^\d+$/.test(s)) return { count: Number(s) };
  const m = /^(\d+(?:\.\d+)?)\s*%$/.exec(s);
  if (m && Number(m[1]) <= 100) return { percent: Number(m[1]) };
  return undefined;
}

/**
 * The mapping's pairs with YAML merge keys (`<<: *defaults`, `<<: [*a, *b]`)
 * expanded: merged pairs come after the explicit ones and only for keys the
 * mapping does not set itself, so explicit keys win as YAML says.
 */
function effectivePairs(ctx: ReadContext, node: Node): Pair[] {
  const items = (node as { items: Pair[] }).items;
  // With `merge: true` yaml gives the `<<` key a symbol value.
  const isMerge = (p: Pair) => isScalar(p.key) && (p.key.value === '<<' || typeof p.key.value === 'symbol');
  if (!items.some(isMerge)) return items;
  const explicit = items.filter((p) => !isMerge(p));
  const taken = new Set(explicit.map((p) => keyOf(ctx, p).name.toLowerCase()));
  const merged: Pair[] = [];
  for (const m of items.filter(isMerge)) {
    const v = resolveAlias(ctx, m.value as Node | null);
    const sources = isSeq(v) ? v.items.map((i) => resolveAlias(ctx, i as Node)) : [v];
    for (const src of sources) {
      if (!isMap(src)) continue;
      for (const p of effectivePairs(ctx, src)) {
        const k = keyOf(ctx, p).name.toLowerCase();
        if (taken.has(k)) continue;
        taken.add(k);
        merged.push(p);
      }
    }
  }
  return [...explicit, ...merged];
}

function keyOf(ctx: ReadContext, pair: Pair): { name: string; pos: LineCol } {
  const key = pair.key as Node | null;
  const pos = key?.range ? lineColAt(ctx.src.lc, key.range[0]) : { line: 1, col: 1 };
  if (isScalar(key)) return { name: String(key.value ?? ''), pos };
  return { name: String(key ?? ''), pos };
}

function resolveAlias(ctx: ReadContext, node: Node | null): Node | null {
  let n = node;
  for (let guard = 0; n && isAlias(n) && guard < 100; guard++) n = (n.resolve(ctx.src.doc) as Node | undefined) ?? null;
  return n;
}

function locate(ctx: ReadContext, node: Node | null, keyPos: LineCol): Loc {
  if (!node?.range) return { file: ctx.src.file, ...keyPos, at: () => keyPos, key: keyPos };
  const pos = lineColAt(ctx.src.lc, node.range[0]);
  const at: OffsetLocator = isScalar(node) ? scalarLocator(ctx.src.text, node as Scalar, ctx.src.lc) : () => pos;
  return { file: ctx.src.file, ...pos, at, key: keyPos };
}

export function describeNode(node: Node | null): string {
  if (node === null) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) return JSON.stringify(node.value);
  return 'an unsupported node';
}
