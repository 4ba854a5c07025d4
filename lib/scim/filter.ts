/**
 * SCIM filter grammar (RFC 7644 §3.4.2.2): parse, print and evaluate.
 *
 * One parser serves the whole tool: pipeline validation (so that a typo is
 * caught before any request, with its offset), the export's value-filtered
 * column paths, and the sandbox server's evaluation. Attribute names and
 * operators are case-insensitive; sub-attributes use the dot syntax here
 * (`name.givenName`), unlike column paths (see path.ts).
 */
import { ScimEtlError } from '../errors.js';

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'lt' | 'ge' | 'le';
export type Literal = string | number | boolean | null;

/** `name.givenName` → {attr:'name', sub:'givenName'}; extension attributes carry their schema URN. */
export interface AttrPath {
  schema?: string;
  attr: string;
  sub?: string;
}

export type FilterNode =
  | { type: 'compare'; path: AttrPath; op: CompareOp; value: Literal }
  | { type: 'present'; path: AttrPath }
  | { type: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { type: 'not'; filter: FilterNode }
  /** `emails[type eq "work"]`: the inner filter's paths are relative to one element. */
  | { type: 'valuePath'; path: AttrPath; filter: FilterNode };

/** A PATCH operation path: `members[value eq "x"]`, `emails[type eq "work"].value`, `name.givenName`. */
export interface PatchPath {
  path: AttrPath;
  filter?: FilterNode;
  sub?: string;
}

const COMPARE_OPS = new Set<CompareOp>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'lt', 'ge', 'le']);

/** Core schemas: their attributes live at the top level of a resource. */
const CORE_SCHEMA = /^urn:ietf:params:scim:schemas:core:2\.0:/i;

export function filterError(message: string, offset: number): ScimEtlError {
  return new ScimEtlError('ERR_FILTER_SYNTAX', message, { offset });
}

// ---------------------------------------------------------------------------
// Tokenizer

type TokenKind = 'word' | 'string' | '(' | ')' | '[' | ']' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
  offset: number;
  /** For strings: the decoded value. */
  value?: string;
}

const WORD_STOP = /[\s()[\]"]/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '(' || ch === ')' || ch === '[' || ch === ']') {
      tokens.push({ kind: ch, text: ch, offset: i });
      i++;
      continue;
    }
    if (ch === '"') {
      const start = i;
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') i++;
        i++;
      }
      if (i >= text.length) throw filterError(`unterminated string starting at offset ${start}`, start);
      i++;
      const raw = text.slice(start, i);
      let value: string;
      try {
        value = JSON.parse(raw) as string;
      } catch {
        throw filterError(`invalid string literal ${raw}: escape '"' and '\\' with a backslash`, start);
      }
      tokens.push({ kind: 'string', text: raw, offset: start, value });
      continue;
    }
    const start = i;
    while (i < text.length && !WORD_STOP.test(text[i]!)) i++;
    tokens.push({ kind: 'word', text: text.slice(start, i), offset: start });
  }
  tokens.push({ kind: 'end', text: '', offset: text.length });
  return tokens;
}

// ---------------------------------------------------------------------------
// Attribute paths

const NAME = /^[A-Za-z$][\w$-]*$/;

/** Parses `attr`, `attr.sub`, `urn:…:Schema:attr`, `urn:…:Schema:attr.sub`. */
export function parseAttrPath(text: string, offset = 0): AttrPath {
  let schema: string | undefined;
  let rest = text;
  if (/^urn:/i.test(text)) {
    const cut = text.lastIndexOf(':');
    schema = text.slice(0, cut);
    rest = text.slice(cut + 1);
    if (!rest) throw filterError(`attribute name missing after schema URN '${schema}'`, offset + text.length);
  }
  const dot = rest.indexOf('.');
  const attr = dot < 0 ? rest : rest.slice(0, dot);
  const sub = dot < 0 ? undefined : rest.slice(dot + 1);
  const attrOffset = offset + (text.length - rest.length);
  if (!NAME.test(attr)) throw filterError(`invalid attribute name '${attr}'`, attrOffset);
  if (sub !== undefined && !NAME.test(sub)) throw filterError(`invalid sub-attribute name '${sub}'`, attrOffset + attr.length + 1);
  const path: AttrPath = { attr };
  if (schema && !CORE_SCHEMA.test(schema)) path.schema = schema;
  if (sub !== undefined) path.sub = sub;
  return path;
}

export function formatAttrPath(p: AttrPath): string {
  return `${p.schema ? p.schema + ':' : ''}${p.attr}${p.sub ? '.' + p.sub : ''}`;
}

// ---------------------------------------------------------------------------
// Parser: precedence not > and > or, left-associative.

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  peek(): Token {
    return this.tokens[this.pos]!;
  }
  next(): Token {
    return this.tokens[this.pos++]!;
  }
  isKeyword(t: Token, kw: string): boolean {
    return t.kind === 'word' && t.text.toLowerCase() === kw;
  }
  expect(kind: TokenKind, what: string): Token {
    const t = this.next();
    if (t.kind !== kind) throw filterError(`expected ${what}, got ${describe(t)}`, t.offset);
    return t;
  }

  parseOr(): FilterNode {
    let left = this.parseAnd();
    while (this.isKeyword(this.peek(), 'or')) {
      this.next();
      left = { type: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  parseAnd(): FilterNode {
    let left = this.parseUnary();
    while (this.isKeyword(this.peek(), 'and')) {
      this.next();
      left = { type: 'and', left, right: this.parseUnary() };
    }
    return left;
  }

  parseUnary(): FilterNode {
    const t = this.peek();
    if (this.isKeyword(t, 'not')) {
      this.next();
      const open = this.peek();
      if (open.kind !== '(') throw filterError(`expected '(' after 'not', got ${describe(open)}`, open.offset);
      return { type: 'not', filter: this.parseUnary() };
    }
    if (t.kind === '(') {
      this.next();
      const inner = this.parseOr();
      this.expect(')', "')' to close the group");
      return inner;
    }
    return this.parseAttrExpression();
  }

  parseAttrExpression(): FilterNode {
    const t = this.next();
    if (t.kind !== 'word') throw filterError(`expected an attribute name, got ${describe(t)}`, t.offset);
    if (['and', 'or'].includes(t.text.toLowerCase())) throw filterError(`expected an attribute name before '${t.text}'`, t.offset);
    const path = parseAttrPath(t.text, t.offset);
    if (this.peek().kind === '[') {
      const open = this.next();
      if (path.sub) throw filterError(`a value filter applies to a multi-valued attribute, not to '${formatAttrPath(path)}'`, open.offset);
      if (this.peek().kind === ']') throw filterError('empty value filter []', open.offset);
      const inner = this.parseOr();
      const close = this.next();
      if (close.kind !== ']') throw filterError(`expected ']' to close the value filter opened at offset ${open.offset}, got ${describe(close)}`, close.offset);
      return { type: 'valuePath', path, filter: inner };
    }
    const opTok = this.next();
    if (opTok.kind !== 'word') throw filterError(`expected an operator after '${t.text}', got ${describe(opTok)}`, opTok.offset);
    const op = opTok.text.toLowerCase();
    if (op === 'pr') return { type: 'present', path };
    if (!COMPARE_OPS.has(op as CompareOp)) {
      throw filterError(`unknown operator '${opTok.text}' (expected eq, ne, co, sw, ew, gt, lt, ge, le or pr)`, opTok.offset);
    }
    const v = this.next();
    return { type: 'compare', path, op: op as CompareOp, value: literalOf(v) };
  }
}

function literalOf(t: Token): Literal {
  if (t.kind === 'string') return t.value!;
  if (t.kind === 'word') {
    const w = t.text.toLowerCase();
    if (w === 'true') return true;
    if (w === 'false') return false;
    if (w === 'null') return null;
    if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(t.text)) return Number(t.text);
    throw filterError(`expected a value (a "quoted string", number, true, false or null), got '${t.text}'`, t.offset);
  }
  throw filterError(`expected a value, got ${describe(t)}`, t.offset);
}

function describe(t: Token): string {
  return t.kind === 'end' ? 'the end of the filter' : `'${t.text}'`;
}

export function parseFilter(text: string): FilterNode {
  if (!text.trim()) throw filterError('empty filter', 0);
  const parser = new Parser(tokenize(text));
  const node = parser.parseOr();
  const rest = parser.peek();
  if (rest.kind !== 'end') {
    const hint = rest.kind === ')' ? 'unbalanced parenthesis' : rest.kind === ']' ? 'unbalanced bracket' : `expected 'and' or 'or'`;
    throw filterError(`${hint}: unexpected ${describe(rest)}`, rest.offset);
  }
  return node;
}

/** Parses a PATCH `path`: attrPath, optional `[valFilter]`, optional `.sub` after it. */
export function parsePatchPath(text: string): PatchPath {
  const bracket = text.indexOf('[');
  if (bracket < 0) return { path: parseAttrPath(text.trim()) };
  const path = parseAttrPath(text.slice(0, bracket).trim());
  const close = findClosingBracket(text, bracket);
  if (close < 0) throw filterError("expected ']' to close the value filter", text.length);
  let inner: FilterNode;
  try {
    inner = parseFilter(text.slice(bracket + 1, close));
  } catch (err) {
    throw shiftOffset(err, bracket + 1);
  }
  const after = text.slice(close + 1);
  const result: PatchPath = { path, filter: inner };
  if (after) {
    if (!after.startsWith('.') || !NAME.test(after.slice(1))) throw filterError(`unexpected '${after}' after the value filter`, close + 1);
    result.sub = after.slice(1);
  }
  return result;
}

/** Index of the `"` that closes the string literal opened at `open` (text.length if none). */
export function endOfString(text: string, open: number): number {
  let i = open + 1;
  while (i < text.length && text[i] !== '"') {
    if (text[i] === '\\') i++;
    i++;
  }
  return Math.min(i, text.length);
}

/** Index of the `]` matching the `[` at `open`, skipping string literals; -1 if none. */
export function findClosingBracket(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') i = endOfString(text, i);
    else if (ch === '[') depth++;
    else if (ch === ']' && --depth === 0) return i;
  }
  return -1;
}

/** Rebases the offset of a filter error found in a substring. */
export function shiftOffset(err: unknown, by: number): unknown {
  if (err instanceof ScimEtlError && typeof err.context.offset === 'number') {
    return new ScimEtlError(err.code, err.message, { ...err.context, offset: err.context.offset + by });
  }
  return err;
}

// ---------------------------------------------------------------------------
// Printing

export function quoteLiteral(value: string): string {
  return JSON.stringify(value);
}

function formatLiteral(v: Literal): string {
  return typeof v === 'string' ? quoteLiteral(v) : String(v);
}

/** Canonical text; every and/or is parenthesised (some servers, e.g. Salesforce, ignore precedence). */
export function formatFilter(node: FilterNode): string {
  switch (node.type) {
    case 'compare':
      return `${formatAttrPath(node.path)} ${node.op} ${formatLiteral(node.value)}`;
    case 'present':
      return `${formatAttrPath(node.path)} pr`;
    case 'and':
    case 'or':
      return `(${formatFilter(node.left)} ${node.type} ${formatFilter(node.right)})`;
    case 'not':
      return `not (${formatFilter(node.filter)})`;
    case 'valuePath':
      return `${formatAttrPath(node.path)}[${formatFilter(node.filter)}]`;
  }
}

// ---------------------------------------------------------------------------
// Evaluation

/** Case-insensitive own-property lookup (exact spelling first: the common case). */
export function getAttr(obj: unknown, name: string): unknown {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const rec = obj as Record<string, unknown>;
  if (Object.prototype.hasOwnProperty.call(rec, name)) return rec[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(rec)) if (key.toLowerCase() === lower) return rec[key];
  return undefined;
}

/** The object that holds a path's attribute: the resource, or its extension object. */
export function attrContainer(resource: unknown, path: AttrPath): unknown {
  return path.schema ? getAttr(resource, path.schema) : resource;
}

/** Every value at `path`, with multi-valued attributes flattened; missing and null values dropped. */
export function resolveAttr(resource: unknown, path: AttrPath): unknown[] {
  const top = getAttr(attrContainer(resource, path), path.attr);
  const base = Array.isArray(top) ? top : [top];
  const out: unknown[] = [];
  for (const el of base) {
    const v = path.sub ? getAttr(el, path.sub) : el;
    if (Array.isArray(v)) {
      for (const x of v) if (x !== undefined && x !== null) out.push(x);
    } else if (v !== undefined && v !== null) out.push(v);
  }
  return out;
}

/** Identifiers compare exactly; everything else case-insensitively (RFC 7643 caseExact defaults). */
const CASE_EXACT = new Set(['id', 'externalid', '$ref']);
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;

export function matchesFilter(resource: unknown, node: FilterNode): boolean {
  switch (node.type) {
    case 'and':
      return matchesFilter(resource, node.left) && matchesFilter(resource, node.right);
    case 'or':
      return matchesFilter(resource, node.left) || matchesFilter(resource, node.right);
    case 'not':
      return !matchesFilter(resource, node.filter);
    case 'present':
      return resolveAttr(resource, node.path).some(isPresent);
    case 'valuePath': {
      const top = getAttr(attrContainer(resource, node.path), node.path.attr);
      const elements = Array.isArray(top) ? top : top === undefined || top === null ? [] : [top];
      return elements.some((el) => matchesFilter(el, node.filter));
    }
    case 'compare': {
      const values = resolveAttr(resource, node.path).map(comparable);
      if (node.op === 'ne') return !values.some((v) => compare(v, 'eq', node.value, node.path));
      if (node.value === null) return node.op === 'eq' ? values.length === 0 : false;
      return values.some((v) => compare(v, node.op, node.value, node.path));
    }
  }
}

function isPresent(v: unknown): boolean {
  if (v === '' || v === null || v === undefined) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

/** A complex value compares by its `value` sub-attribute (e.g. `emails co "@x"`). */
function comparable(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return getAttr(v, 'value');
  return v;
}

function compare(actual: unknown, op: CompareOp, expected: Literal, path: AttrPath): boolean {
  if (actual === undefined || actual === null || expected === null) return false;
  if (typeof actual === 'boolean' || typeof expected === 'boolean') {
    // Tolerant: `active eq "true"` (a string literal, as in the seed's own example) matches a boolean.
    const a = String(actual).toLowerCase();
    const e = String(expected).toLowerCase();
    return op === 'eq' ? a === e : false;
  }
  if (typeof actual === 'number' && typeof expected === 'number') return ordered(actual - expected, op, actual, expected);
  const name = (path.sub ?? path.attr).toLowerCase();
  const exact = CASE_EXACT.has(name);
  let a = String(actual);
  let e = String(expected);
  if ((op === 'gt' || op === 'lt' || op === 'ge' || op === 'le' || op === 'eq') && ISO_DATE.test(a) && ISO_DATE.test(e)) {
    const da = Date.parse(a);
    const de = Date.parse(e);
    if (!Number.isNaN(da) && !Number.isNaN(de)) return ordered(da - de, op, da, de);
  }
  if (!exact) {
    a = a.toLowerCase();
    e = e.toLowerCase();
  }
  switch (op) {
    case 'eq':
      return a === e;
    case 'co':
      return a.includes(e);
    case 'sw':
      return a.startsWith(e);
    case 'ew':
      return a.endsWith(e);
    default:
      return ordered(a < e ? -1 : a > e ? 1 : 0, op, a, e);
  }
}

function ordered(diff: number, op: CompareOp, a: unknown, e: unknown): boolean {
  switch (op) {
    case 'eq':
      return diff === 0;
    case 'gt':
      return diff > 0;
    case 'ge':
      return diff >= 0;
    case 'lt':
      return diff < 0;
    case 'le':
      return diff <= 0;
    case 'co':
    case 'sw':
    case 'ew':
      return typeof a === 'string' && typeof e === 'string' && compare(a, op, e, { attr: '' });
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------
// Rewriting for a server

/**
 * Attribute type lookup for `coerceBooleans`: `parent` is set for the paths
 * inside a value filter (`emails[primary eq "true"]`: parent emails, path primary).
 */
export type IsBoolean = (path: AttrPath, parent?: AttrPath) => boolean;

/**
 * `active eq "true"` → `active eq true` where the attribute is boolean: the
 * seed writes the quoted form, and strict servers (SCIMServer) match nothing
 * with it. Other literals and other attributes are left as written.
 */
export function coerceBooleans(node: FilterNode, isBoolean: IsBoolean, parent?: AttrPath): FilterNode {
  switch (node.type) {
    case 'compare': {
      if (typeof node.value !== 'string' || !isBooleanText(node.value) || !isBoolean(node.path, parent)) return node;
      return { ...node, value: node.value.toLowerCase() === 'true' };
    }
    case 'present':
      return node;
    case 'and':
    case 'or':
      return { ...node, left: coerceBooleans(node.left, isBoolean, parent), right: coerceBooleans(node.right, isBoolean, parent) };
    case 'not':
      return { ...node, filter: coerceBooleans(node.filter, isBoolean, parent) };
    case 'valuePath':
      return { ...node, filter: coerceBooleans(node.filter, isBoolean, node.path) };
  }
}

function isBooleanText(v: string): boolean {
  const l = v.toLowerCase();
  return l === 'true' || l === 'false';
}

/** Whether any comparison holds a quoted "true" / "false" (only then are schemas worth reading). */
export function hasQuotedBoolean(node: FilterNode): boolean {
  switch (node.type) {
    case 'compare':
      return typeof node.value === 'string' && isBooleanText(node.value);
    case 'present':
      return false;
    case 'and':
    case 'or':
      return hasQuotedBoolean(node.left) || hasQuotedBoolean(node.right);
    case 'not':
    case 'valuePath':
      return hasQuotedBoolean(node.filter);
  }
}

/** What a filter reads, per top-level attribute: `{attr, schema?, sub?}`, or `{attr, filter}` for a value path. */
export interface FilterRead {
  schema?: string;
  attr: string;
  sub?: string;
  filter?: FilterNode;
}

/** The attributes a filter reads (so that a local evaluation gets them from the server). */
export function filterReads(node: FilterNode): FilterRead[] {
  const out: FilterRead[] = [];
  const walk = (n: FilterNode): void => {
    switch (n.type) {
      case 'compare':
      case 'present':
        out.push({ ...(n.path.schema ? { schema: n.path.schema } : {}), attr: n.path.attr, ...(n.path.sub ? { sub: n.path.sub } : {}) });
        return;
      case 'and':
      case 'or':
        walk(n.left);
        walk(n.right);
        return;
      case 'not':
        walk(n.filter);
        return;
      case 'valuePath':
        out.push({ ...(n.path.schema ? { schema: n.path.schema } : {}), attr: n.path.attr, filter: n.filter });
        return;
    }
  };
  walk(node);
  return out;
}
