/**
 * Salesforce evaluates `and` and `or` in the order written, without giving
 * `and` precedence (DIALECTS.md): `a or b and c` means `(a or b) and c`.
 * The sandbox reproduces that so that a client which does not parenthesise
 * gets the same surprise it would get from Salesforce.
 */
import { parseFilter, type FilterNode } from '../scim/filter.js';

/** Parses `text` (already known to be a valid filter) with and/or folded left to right at the top level. */
export function parseLeftToRight(text: string): FilterNode {
  const standard = parseFilter(text); // syntax errors keep their offsets
  const parts: string[] = [];
  const ops: Array<'and' | 'or'> = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    else if (depth === 0 && /\s/.test(ch!)) {
      const m = /^\s+(and|or)\s+/i.exec(text.slice(i));
      if (m) {
        parts.push(text.slice(start, i));
        ops.push(m[1]!.toLowerCase() as 'and' | 'or');
        i += m[0].length - 1;
        start = i + 1;
      }
    }
  }
  parts.push(text.slice(start));
  // One kind of operator (or none): precedence cannot matter.
  if (new Set(ops).size < 2) return standard;
  let node = parseFilter(parts[0]!);
  ops.forEach((op, k) => {
    node = { type: op, left: node, right: parseFilter(parts[k + 1]!) };
  });
  return node;
}
