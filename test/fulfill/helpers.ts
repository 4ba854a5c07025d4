import { mkdtempSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temp directory with the given files (name → content). */
export function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'scim-etl-fulfill-'));
  for (const [name, content] of Object.entries(files)) {
    const p = join(dir, name);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, content);
  }
  return dir;
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Parses a results CSV (simple: our writer quotes only where needed) into row objects. */
export async function readResults(path: string): Promise<Array<Record<string, string>>> {
  const { parse } = await import('csv-parse/sync');
  const { readFileSync } = await import('node:fs');
  return parse(readFileSync(path, 'utf8'), { columns: true }) as Array<Record<string, string>>;
}

/** The outcomes a fulfill journal holds, as [order file name, line, outcome], in journal order. */
export function journalOutcomes(dir: string, identifier: string, results = 'results'): Array<[string, number, string]> {
  const text = readFileSync(join(dir, results, `.${identifier}.journal.ndjson`), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { f: string; l: number; o?: { outcome: string } })
    .filter((r) => r.o)
    .map((r) => [r.f.split('@')[0]!, r.l, r.o!.outcome]);
}
