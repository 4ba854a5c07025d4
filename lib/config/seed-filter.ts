/**
 * The seed connector's one-line entity filter, kept so that existing settings
 * work unchanged:
 *
 *   Users|?filter=active eq "true"*Groups                  entities and their SCIM filters
 *   Users;id userName name:givenName|familyName*Groups;id displayName   entities and their columns
 *   Users|?filter=active eq "true";id userName             both
 *
 * Entities are separated by `*`; after the name, `|` starts the query (as in a
 * URL, `?filter=` optional and possibly %-encoded) and `;` the column list
 * (separated by spaces or commas; `a:b|c` means `a:b a:c`). `*`, `|`, `;`
 * inside a quoted filter literal or a `[...]` value filter are literal.
 *
 * This module only splits the text; each piece keeps the offset of every one
 * of its characters in the original text, so that the filter and column-path
 * parsers' errors can be shown at the exact column of the file.
 */
import { endOfString } from '../scim/filter.js';

export interface SeedPiece {
  text: string;
  /** offsets[i] = offset in the original string of text[i]. */
  offsets: number[];
}

export interface SeedEntitySpec {
  name: SeedPiece;
  filter?: SeedPiece;
  columns?: SeedPiece[];
}

export interface SeedFilterProblem {
  code: 'ERR_CONFIG_FILTER_STRING';
  message: string;
  /** 0-based offset in the original string. */
  offset: number;
}

export interface SeedFilter {
  entities: SeedEntitySpec[];
  problems: SeedFilterProblem[];
}

export function parseSeedFilter(text: string): SeedFilter {
  const whole: SeedPiece = { text, offsets: Array.from({ length: text.length }, (_, i) => i) };
  const entities: SeedEntitySpec[] = [];
  const problems: SeedFilterProblem[] = [];
  for (const chunk of splitTopLevel(whole, '*')) {
    const part = trim(chunk);
    if (!part.text) continue; // tolerate "Users*" and "Users**Groups"
    const entity = parseEntity(part, problems);
    if (entity) entities.push(entity);
  }
  return { entities, problems };
}

function parseEntity(part: SeedPiece, problems: SeedFilterProblem[]): SeedEntitySpec | undefined {
  const cut = firstTopLevel(part.text, ['|', ';']);
  const name = trim(slice(part, 0, cut < 0 ? part.text.length : cut));
  if (!name.text) {
    problems.push({ code: 'ERR_CONFIG_FILTER_STRING', message: 'entity name missing before ' + JSON.stringify(part.text[cut] ?? ''), offset: part.offsets[0]! });
    return undefined;
  }
  if (/[\s?&=/#[\]"]/.test(name.text)) {
    const bad = name.text.search(/[\s?&=/#[\]"]/);
    problems.push({
      code: 'ERR_CONFIG_FILTER_STRING',
      message: `invalid character ${JSON.stringify(name.text[bad])} in entity name ${JSON.stringify(name.text)}: write Entity|?filter=… or Entity;columns`,
      offset: name.offsets[bad]!,
    });
    return undefined;
  }
  const entity: SeedEntitySpec = { name };
  if (cut < 0) return entity;
  let rest = slice(part, cut + 1, part.text.length);
  if (part.text[cut] === '|') {
    const semi = firstTopLevel(rest.text, [';']);
    const query = trim(slice(rest, 0, semi < 0 ? rest.text.length : semi));
    const filter = parseQuery(query, problems);
    if (filter?.text) entity.filter = filter;
    if (semi < 0) return entity;
    rest = slice(rest, semi + 1, rest.text.length);
  }
  entity.columns = splitColumns(rest);
  return entity;
}

/** `?filter=…` (maybe %-encoded) or a bare filter. */
function parseQuery(query: SeedPiece, problems: SeedFilterProblem[]): SeedPiece | undefined {
  if (!query.text.startsWith('?')) return query;
  let filter: SeedPiece | undefined;
  for (const param of splitTopLevel(slice(query, 1, query.text.length), '&')) {
    if (!param.text) continue;
    const eq = param.text.indexOf('=');
    const key = eq < 0 ? param.text : param.text.slice(0, eq);
    if (key.toLowerCase() !== 'filter') {
      problems.push({
        code: 'ERR_CONFIG_FILTER_STRING',
        message: `unsupported query parameter ${JSON.stringify(key)}: only ?filter=… is read here (columns go after ';')`,
        offset: param.offsets[0] ?? 0,
      });
      continue;
    }
    filter = trim(percentDecode(slice(param, eq + 1, param.text.length)));
  }
  return filter;
}

/**
 * Decodes %XX sequences (UTF-8) keeping offsets. A filter with no space at all
 * was fully URL-encoded, so its '+' are spaces too (`active+eq+true`); in one
 * written with spaces a '+' is a plus (a timestamp's offset).
 */
function percentDecode(p: SeedPiece): SeedPiece {
  const plusIsSpace = !/\s/.test(p.text) && p.text.includes('+');
  if (!/%[0-9a-fA-F]{2}/.test(p.text) && !plusIsSpace) return p;
  let text = '';
  const offsets: number[] = [];
  let i = 0;
  while (i < p.text.length) {
    if (p.text[i] === '%' && /^[0-9a-fA-F]{2}$/.test(p.text.slice(i + 1, i + 3))) {
      // Gather a run of %XX bytes so that multi-byte UTF-8 decodes as one character.
      const start = i;
      const bytes: number[] = [];
      while (p.text[i] === '%' && /^[0-9a-fA-F]{2}$/.test(p.text.slice(i + 1, i + 3))) {
        bytes.push(parseInt(p.text.slice(i + 1, i + 3), 16));
        i += 3;
      }
      const decoded = Buffer.from(bytes).toString('utf8');
      // Each decoded character maps to its own %XX where byte and char counts agree, else to the run's start.
      for (let k = 0; k < decoded.length; k++) {
        text += decoded[k];
        offsets.push(p.offsets[decoded.length === bytes.length ? start + 3 * k : start]!);
      }
      continue;
    }
    text += plusIsSpace && p.text[i] === '+' ? ' ' : p.text[i];
    offsets.push(p.offsets[i]!);
    i++;
  }
  return { text, offsets };
}

/** Column list: separated by spaces or commas; `a:b|c` expands to `a:b` and `a:c`. */
function splitColumns(list: SeedPiece): SeedPiece[] {
  const out: SeedPiece[] = [];
  for (const token of splitTopLevel(list, ' \t\r\n,')) {
    if (!token.text) continue;
    const alternatives = splitTopLevel(token, '|');
    const first = alternatives[0]!;
    const colon = lastTopLevelColon(first.text);
    const prefix = slice(first, 0, colon + 1);
    out.push(first);
    for (const alt of alternatives.slice(1)) {
      if (!alt.text) continue;
      // A complete path after '|' stands alone; a bare name reuses the first one's "attr:" prefix.
      out.push(alt.text.includes(':') ? alt : { text: prefix.text + alt.text, offsets: [...prefix.offsets, ...alt.offsets] });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Scanning helpers that skip "…" literals and […] value filters.

function scan(text: string, visit: (i: number) => boolean | void): void {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      i = endOfString(text, i);
      continue;
    }
    if (ch === '[') depth++;
    else if (ch === ']' && depth > 0) depth--;
    else if (depth === 0 && visit(i) === true) return;
  }
}

function firstTopLevel(text: string, chars: string[]): number {
  let found = -1;
  scan(text, (i) => {
    if (chars.includes(text[i]!)) {
      found = i;
      return true;
    }
  });
  return found;
}

function lastTopLevelColon(text: string): number {
  let found = -1;
  scan(text, (i) => {
    if (text[i] === ':') found = i;
  });
  return found;
}

function splitTopLevel(p: SeedPiece, separators: string): SeedPiece[] {
  const parts: SeedPiece[] = [];
  let from = 0;
  scan(p.text, (i) => {
    if (separators.includes(p.text[i]!)) {
      parts.push(slice(p, from, i));
      from = i + 1;
    }
  });
  parts.push(slice(p, from, p.text.length));
  return parts;
}

function slice(p: SeedPiece, from: number, to: number): SeedPiece {
  return { text: p.text.slice(from, to), offsets: p.offsets.slice(from, to) };
}

function trim(p: SeedPiece): SeedPiece {
  const lead = p.text.length - p.text.trimStart().length;
  const kept = p.text.trim().length;
  return slice(p, lead, lead + kept);
}
