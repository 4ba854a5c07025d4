/**
 * Line and column of a character inside a YAML scalar. A filter or column
 * path error is found at an offset in the scalar's *value*; users need the
 * column in the *file*, which differs by the opening quote and by escapes.
 * Where the mapping is not exact (folded or block scalars) we fall back to the
 * scalar's own position rather than guess.
 */
import type { LineCounter, Scalar } from 'yaml';

export interface LineCol {
  line: number;
  col: number;
}

/** Maps a 0-based offset in a scalar's string value to its 1-based line and column in the file. */
export type OffsetLocator = (offset: number) => LineCol;

export function lineColAt(lc: LineCounter, sourceOffset: number): LineCol {
  const p = lc.linePos(sourceOffset);
  return { line: p.line, col: p.col };
}

export function scalarLocator(src: string, node: Scalar, lc: LineCounter): OffsetLocator {
  const start = node.range?.[0] ?? 0;
  const end = node.range?.[1] ?? start;
  const fallback: OffsetLocator = () => lineColAt(lc, start);
  const map = valueToSourceMap(src.slice(start, end), node.type, String(node.value ?? ''));
  if (!map) return fallback;
  return (offset) => {
    if (map.length === 0) return lineColAt(lc, start + (node.type === 'PLAIN' ? 0 : 1));
    const o = Math.max(0, offset);
    const at = o < map.length ? map[o]! : map[map.length - 1]! + (o - map.length + 1);
    return lineColAt(lc, start + at);
  };
}

/**
 * For each character of `value`, its offset inside `raw` (the scalar's source
 * text including quotes), or undefined when the scalar spans lines or the
 * rebuilt value does not match (then callers use the scalar's start).
 */
export function valueToSourceMap(raw: string, type: Scalar['type'], value: string): number[] | undefined {
  if (raw.includes('\n')) return undefined;
  const map: number[] = [];
  let rebuilt = '';
  if (type === 'PLAIN' || type === undefined) {
    for (let i = 0; i < raw.length; i++) map.push(i);
    rebuilt = raw;
  } else if (type === 'QUOTE_SINGLE') {
    for (let i = 1; i < raw.length - 1; i++) {
      map.push(i);
      rebuilt += raw[i];
      if (raw[i] === "'" && raw[i + 1] === "'") i++; // '' is one quote
    }
  } else if (type === 'QUOTE_DOUBLE') {
    for (let i = 1; i < raw.length - 1; i++) {
      if (raw[i] !== '\\') {
        map.push(i);
        rebuilt += raw[i];
        continue;
      }
      const esc = raw[i + 1] ?? '';
      const hexLen = esc === 'x' ? 2 : esc === 'u' ? 4 : esc === 'U' ? 8 : 0;
      let out: string;
      if (hexLen) {
        out = String.fromCodePoint(parseInt(raw.slice(i + 2, i + 2 + hexLen), 16));
      } else {
        out = SIMPLE_ESCAPES[esc] ?? esc;
      }
      for (let k = 0; k < out.length; k++) map.push(i);
      rebuilt += out;
      i += 1 + hexLen;
    }
  } else {
    return undefined; // block scalars: content starts on the next line, indentation stripped
  }
  return rebuilt === value ? map : undefined;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '0': '\0', a: '\x07', b: '\b', t: '\t', '\t': '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b',
  ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\x85', _: '\xa0', L: '\u2028', P: '\u2029',
};
