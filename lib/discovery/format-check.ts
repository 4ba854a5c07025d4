/** The `check` table: one row per probe, what was seen, and the workaround where one applies. */
import type { CheckReport } from './check.js';

const MARK = { works: 'ok', fails: 'FAIL', unknown: '?' } as const;

export function formatCheck(r: CheckReport): string {
  const rows = r.results.map((x) => [x.probe, MARK[x.verdict], x.detail, x.workaround ?? '']);
  const head = ['probe', 'result', 'seen', 'workaround'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(w[i]! + 2))).join('').trimEnd();
  const fails = r.results.filter((x) => x.verdict === 'fails').length;
  return [
    `SCIM root: ${r.root}`,
    `probes: ${r.write ? 'read and write (a throw-away user and group, deleted after)' : 'read-only (--write adds create/patch/delete probes)'}`,
    '',
    line(head),
    ...rows.map(line),
    '',
    `${r.results.length} probes: ${r.results.length - fails - r.results.filter((x) => x.verdict === 'unknown').length} work, ${fails} fail, ${r.results.filter((x) => x.verdict === 'unknown').length} unknown`,
  ].join('\n') + '\n';
}
