/** Cells computed from a server's JSON without lib/: what a column must hold (SPEC §4). */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

type Json = Record<string, unknown>;

/**
 * A cell as SPEC §4 defines it, from the server's JSON, written here without
 * lib/: `[urn:]attr[:sub]`, a multi-valued attribute's primary (else first)
 * element, strings as they are, other scalars as JSON, complex values as JSON.
 */
export function cellOf(resource: Json, column: string): string {
  let holder: unknown = resource;
  let rest = column;
  if (column.startsWith('urn:')) {
    const schema = Object.keys(resource).filter((k) => k.startsWith('urn:') && column.startsWith(`${k}:`)).sort((a, b) => b.length - a.length)[0];
    if (!schema) return '';
    holder = resource[schema];
    rest = column.slice(schema.length + 1);
  }
  const [attr, sub] = rest.split(':') as [string, string | undefined];
  const pick = (o: unknown, k: string) => (o && typeof o === 'object' ? Object.entries(o as Json).find(([key]) => key.toLowerCase() === k.toLowerCase())?.[1] : undefined);
  let v = pick(holder, attr);
  if (Array.isArray(v)) v = v.find((e) => pick(e, 'primary') === true) ?? v[0];
  if (sub !== undefined) v = pick(v, sub);
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function readCsv(file: string): { header: string[]; rows: Array<Record<string, string>> } {
  const [header, ...lines] = parse(readFileSync(file, 'utf8')) as string[][];
  return { header: header!, rows: lines.map((l) => Object.fromEntries(header!.map((h, i) => [h, l[i] ?? '']))) };
}

