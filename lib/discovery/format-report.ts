/** The readable `discover` report: documents, capabilities, then one column table per resource type. */
import type { Capabilities, DiscoveryReport } from './model.js';

const yesNo = (v: boolean | undefined) => (v === undefined ? 'not stated' : v ? 'supported' : 'not supported');

export function capabilityLines(c: Capabilities | undefined): Array<[string, string]> {
  if (!c) return [['capabilities', 'unknown (no ServiceProviderConfig)']];
  const limits = (parts: Array<[string, number | undefined]>) => parts.filter(([, v]) => v !== undefined).map(([k, v]) => `, ${k} ${v}`).join('');
  const p = c.pagination;
  return [
    ['patch', yesNo(c.patch)],
    ['bulk', yesNo(c.bulk.supported) + limits([['maxOperations', c.bulk.maxOperations], ['maxPayloadSize', c.bulk.maxPayloadSize]])],
    ['filter', yesNo(c.filter.supported) + limits([['maxResults', c.filter.maxResults]])],
    ['sort', yesNo(c.sort)],
    ['etag', yesNo(c.etag)],
    ['changePassword', yesNo(c.changePassword)],
    [
      'pagination',
      p
        ? [p.index === false ? 'index no' : p.index ? 'index' : undefined, p.cursor ? 'cursor' : p.cursor === false ? 'cursor no' : undefined,
           p.defaultPaginationMethod && `default ${p.defaultPaginationMethod}`, p.defaultPageSize !== undefined && `defaultPageSize ${p.defaultPageSize}`,
           p.maxPageSize !== undefined && `maxPageSize ${p.maxPageSize}`, p.cursorTimeout !== undefined && `cursorTimeout ${p.cursorTimeout}s`]
            .filter(Boolean)
            .join(', ')
        : 'not stated (index paging assumed)',
    ],
    ['authentication', c.authenticationSchemes.length ? c.authenticationSchemes.join(', ') : 'not stated'],
  ];
}

export function formatReport(r: DiscoveryReport): string {
  const out: string[] = [];
  out.push(`SCIM root: ${r.root}`);
  out.push(`ServiceProviderConfig: ${r.documents.serviceProviderConfig}`);
  out.push(`ResourceTypes: ${r.documents.resourceTypes}`);
  out.push(`Schemas: ${r.documents.schemas}`);
  out.push('', 'Capabilities');
  for (const [k, v] of capabilityLines(r.capabilities)) out.push(`  ${k.padEnd(16)}${v}`);
  for (const res of r.resources) {
    out.push('', `${res.endpoint} (resource type ${res.name}, schema ${res.schema || 'not stated'})`);
    if (res.extensions.length) out.push(`  extensions: ${res.extensions.join(', ')}`);
    if (res.members) out.push(`  members: yes (members: true writes <identifier>_members_${res.endpoint}.csv)`);
    if (!res.columns.length) {
      out.push('  no schema: only id is known');
      continue;
    }
    const width = Math.max(...res.columns.map((c) => c.path.length), 4) + 2;
    out.push(`  ${'path'.padEnd(width)}${'type'.padEnd(11)}${'multi'.padEnd(7)}${'mutability'.padEnd(12)}returned`);
    for (const c of res.columns) {
      out.push(`  ${c.path.padEnd(width)}${c.type.padEnd(11)}${(c.multiValued ? 'yes' : '').padEnd(7)}${c.mutability.padEnd(12)}${c.returned}`);
    }
  }
  return out.join('\n') + '\n';
}
