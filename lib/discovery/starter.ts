/**
 * The starter pipeline `discover --write` writes: the connection (credentials
 * as ${VAR} references, never values), every resource type with its readable
 * columns, membership tables where a type has members. Every string is
 * written as a JSON string, which YAML reads as is.
 */
import type { DiscoveryReport } from './model.js';

export interface StarterConnection {
  identifier: string;
  server: string;
  scimSyntax: string;
  /** Which credentials the connection uses; each is written as a variable reference. */
  auth: { token?: boolean; login?: boolean; password?: boolean; applicationId?: boolean; applicationKey?: boolean; oAuth2Url?: string };
}

/** The variable each credential is read from. */
export const STARTER_VARIABLES = {
  token: 'SCIM_TOKEN',
  login: 'SCIM_LOGIN',
  password: 'SCIM_PASSWORD',
  applicationId: 'SCIM_APPLICATION_ID',
  applicationKey: 'SCIM_APPLICATION_KEY',
} as const;

const KEY = { token: 'oAuthToken', login: 'login', password: 'password', applicationId: 'applicationId', applicationKey: 'applicationKey' } as const;
const q = (s: string) => JSON.stringify(s);

/** Default page size of the tool, lowered to what the server says it serves at most. */
export function starterPageSize(r: DiscoveryReport): number {
  const limits = [200, r.capabilities?.filter.maxResults, r.capabilities?.pagination?.maxPageSize].filter((n): n is number => typeof n === 'number' && n > 0);
  return Math.min(...limits);
}

export function starterPipeline(r: DiscoveryReport, conn: StarterConnection): string {
  const vars = (Object.keys(STARTER_VARIABLES) as Array<keyof typeof STARTER_VARIABLES>).filter((k) => conn.auth[k]);
  const lines = [
    '# yaml-language-server: $schema=https://unpkg.com/scim-etl/schema/pipeline.schema.json',
    `# Written by scim-etl discover from ${r.root}.`,
    ...(vars.length ? [`# Set ${vars.map((k) => STARTER_VARIABLES[k]).join(', ')} before running it.`] : []),
    '# Drop the columns and entities you do not need: each column is one more attribute to read.',
    'version: 1',
    'connection:',
    `  identifier: ${q(conn.identifier)}`,
    `  server: ${q(conn.server)}`,
    `  scimSyntax: ${q(conn.scimSyntax)}`,
    `  pageSize: ${starterPageSize(r)}`,
    ...vars.map((k) => `  ${KEY[k]}: \${${STARTER_VARIABLES[k]}}`),
    ...(conn.auth.oAuth2Url ? [`  oAuth2Url: ${q(conn.auth.oAuth2Url)}`] : []),
    'export:',
    '  output: ExportOutput',
    '  entities:',
  ];
  for (const res of r.resources) {
    // Members go to their own table (members: true); as a column they would show one member.
    const columns = res.columns.filter((c) => c.readable && !(res.members && /^members:/i.test(c.path)));
    const paths = columns.length ? columns.map((c) => c.path) : ['id'];
    lines.push(`    ${q(res.endpoint)}:`, '      columns:', ...paths.map((p) => `        - ${q(p)}`));
    if (res.members) lines.push('      members: true');
  }
  return lines.join('\n') + '\n';
}
