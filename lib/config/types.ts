/** The validated pipeline model: what every command receives after `loadPipeline`. */
import type { ColumnPath } from '../scim/path.js';
import type { FilterNode } from '../scim/filter.js';

export type DialectName = 'RFC' | 'Salesforce' | 'CyberArk' | 'Slack';

export interface RetrySettings {
  /** Retries after the first attempt. */
  limit: number;
  /** Longest Retry-After we accept, in ms; longer waits fail fast. */
  maxRetryAfterMs: number;
  /** Base of the exponential backoff, ms. */
  backoffMs: number;
  /** Time budget of one request, waits included, ms (default 10 min); throttled waits count here, not in `limit`. */
  maxElapsedMs?: number;
}

export interface SecretSources {
  /** Path of an RSA private key (PEM) used to decrypt `enc:` values. */
  privateKey?: string;
  /** Azure Key Vault: https://<vault>.vault.azure.net + identity for a client-credentials token. */
  azureKeyVault?: { url: string; tenantId: string; clientId: string; clientSecret: string; authorityHost?: string };
  /** CyberArk Central Credential Provider. */
  cyberArk?: { url: string; appId: string; safe: string; objects: Record<string, string>; ca?: string; cert?: string; key?: string };
}

export interface ConnectionConfig {
  identifier: string;
  /** SCIM base URL (the seed's, without /v2) or any SCIM root; no trailing slash. The client discovers the root. */
  server: string;
  scimSyntax: DialectName;
  pageSize: number;
  /** Settings the pipeline itself gave (the others are defaults the server's SPC may change); absent: none. */
  setInPipeline?: Array<'pageSize'>;
  /** Pages in flight at most once totalResults is known (from 1, widened while rows per second grow). */
  concurrency: number;
  oAuthToken?: string;
  login?: string;
  password?: string;
  applicationId?: string;
  applicationKey?: string;
  oAuth2Url?: string;
  /** Path of a PEM bundle to trust in addition to the system CAs. */
  ca?: string;
  /** Labs only: skip TLS verification, logged loudly. */
  insecure: boolean;
  /** Idle timeout of each request phase, ms. */
  timeoutMs: number;
  /** Whole-reply deadline of one attempt, body included, ms (default 10 min). */
  requestDeadlineMs?: number;
  /** Largest reply body accepted, decoded bytes (default 256 MiB). */
  maxReplyBytes?: number;
  retry: RetrySettings;
  secrets: SecretSources;
}

export interface EntityExport {
  /** Resource endpoint name as the server spells it: Users, Groups, Entitlements, Containers… */
  name: string;
  filter?: string;
  filterAst?: FilterNode;
  /** Columns in output order (validation requires at least one, unless columnsAuto). */
  columns: ColumnPath[];
  /** `columns: auto`: empty `columns` until the export fills them from the server's /Schemas. */
  columnsAuto?: boolean;
  incremental: boolean;
  /** Incremental runs diff the ids with the last run's and write `delete` rows. */
  detectDeletes?: boolean;
  /** Also write <identifier>_members_<name>.csv. */
  members: boolean;
  /** CyberArk containers: also write <identifier>_privilegedData_<name>.csv. */
  privilegedData: boolean;
  /** Overrides export.countMismatch for this table. */
  countMismatch?: 'fail' | 'warn';
}

export interface ExportConfig {
  output: string;
  entities: EntityExport[];
  escapeFormulas: boolean;
  /** Incremental watermark file; default <output>/<identifier>.cookie.json. */
  syncCookiesFile?: string;
  /** Seconds subtracted from an incremental run's watermark; default 60. */
  incrementalOverlap?: number;
  format: 'csv' | 'ndjson';
  /** NDJSON: a missing value as null instead of leaving the key out. Optional so that hand-built configs need not say it. */
  nulls?: boolean;
  /** Rows that do not match totalResults: fail the table (default) or warn. Optional so that hand-built configs need not say it. */
  countMismatch?: 'fail' | 'warn';
  /** List requests one table may take; default 100,000. */
  maxPages?: number;
  /** Longest run in ms; absent: none. */
  deadline?: number;
  /** A filter the server refuses (400 invalidFilter): applied locally after listing, or the table fails. */
  filterFallback: 'local' | 'fail';
}

export type Threshold = { count: number } | { percent: number };

export interface FulfillConfig {
  /** A directory of order CSVs, or a list of files. Relative paths resolve against the pipeline file. */
  orders: string[];
  results: string;
  serviceSupportBulk: boolean;
  bulkMaxOperation: number;
  /** Settings the pipeline itself gave (the others are defaults the server's SPC may change); absent: none. */
  setInPipeline?: Array<'serviceSupportBulk' | 'bulkMaxOperation'>;
  /** If-Match with the resource's version on updates and deletes where the server has ETags. Default false. */
  ifMatch?: boolean;
  /** Single-request mode: requests in flight. */
  concurrency: number;
  /** Member adds/removes per PATCH /Groups/{id}. */
  maxMembersPerPatch: number;
  maxDeletes?: Threshold;
  maxChanges?: Threshold;
  onConflict: 'fail' | 'skip' | 'update';
  /** A cell with exactly this text clears the attribute. */
  nullMarker: string;
  /** What a users `delete` line does; absent: the dialect's default (lib/scim/dialects/). */
  deprovision?: 'delete' | 'deactivate';
  /** Read changes back after each Bulk batch / request; an order not on the server fails (notApplied). Default false. */
  verify?: boolean;
}

export interface Pipeline {
  version: 1;
  /** Absolute path of the pipeline file (relative paths inside resolve against its directory). */
  file: string;
  connection: ConnectionConfig;
  export?: ExportConfig;
  fulfill?: FulfillConfig;
}
