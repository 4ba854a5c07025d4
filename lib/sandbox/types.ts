/** Public shapes of the sandbox SCIM server (options, faults, request log). */
import type { Logger } from '../log.js';
import type { ScimResource } from '../types.js';
import type { SandboxStore } from './store.js';
import type { QuirkSet, QuirkSpec } from './quirks.js';

/**
 * Sample data: what `--data FILE` holds. Groups' members are `[{value, type?}]`.
 * Any other array (Entitlements, Roles, Containers…) is served read-only at /v2/<key>.
 */
export interface SandboxData {
  Users?: ScimResource[];
  Groups?: ScimResource[];
  [resourceType: string]: ScimResource[] | undefined;
}

export type DialectName = 'RFC' | 'Slack' | 'Salesforce' | 'CyberArk';

export type FaultKind =
  | '429'
  | '500'
  | '503'
  | 'reset'
  | 'truncate'
  | 'slow'
  | 'expireToken'
  | 'ignoreCount'
  | 'capCount'
  | 'repeatPage'
  | 'shiftItems';

/**
 * One injected misbehaviour. `route` is matched against `"METHOD /path"` (path
 * without query): a RegExp, a string `/regex/flags`, or a plain string that must
 * occur in it (case-insensitive). Absent: every route.
 */
export interface FaultSpec {
  route?: RegExp | string;
  kind: FaultKind;
  /** How many matching requests it fires on. Default 1 for failures (429/500/503/reset/truncate/expireToken), unlimited for behaviours. */
  times?: number;
  /** Matching requests let through untouched before it starts firing. Default 0. */
  after?: number;
  /** 429/503: Retry-After in seconds (default 1), or 'date' for an HTTP date that many seconds ahead. */
  retryAfter?: number | 'date';
  /** With retryAfter 'date': seconds ahead (default 1). */
  retryAfterSeconds?: number;
  /** slow: delay before answering (default 1000). */
  delayMs?: number;
  /** ignoreCount/capCount: the page size the server uses (default 10). */
  pageSize?: number;
}

export interface RequestLogEntry {
  method: string;
  /** Path without query string, e.g. /v2/Users/123. */
  path: string;
  query: string;
  status: number;
  /** The fault that answered or altered this request, if any. */
  fault?: FaultKind;
  /** POST /Bulk: the operations the request carried. */
  operations?: number;
  /** The If-Match header sent, if any. */
  ifMatch?: string;
}

export interface BulkOptions {
  supported?: boolean;
  maxOperations?: number;
  maxPayloadSize?: number;
}

export interface SandboxOptions {
  /** Default 0 (a free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** A JSON file path or the data itself. Default: empty directory (unless `generate`). */
  data?: string | SandboxData;
  /** Clock of meta.created / meta.lastModified, ms since the epoch (tests move it; default Date.now). */
  now?: () => number;
  /** Deterministic generated directory; `members` is the size of the one very large group (default min(users, 1000)). */
  generate?: { users: number; groups: number; members?: number; seed?: number };
  /** Bearer token required when set. */
  token?: string;
  /** Basic auth accepted when set. With neither token, basic nor oauth, requests are not authenticated. */
  basic?: { login: string; password: string };
  /**
   * An OAuth2 token endpoint at POST /oauth2/token (discoverable at
   * /.well-known/oauth-authorization-server): client credentials grant, and the
   * password grant when login/password are set. Issued tokens are accepted as Bearer.
   */
  oauth?: { clientId: string; clientSecret: string; login?: string; password?: string; expiresIn?: number };
  /** Any case (`salesforce`, `RFC`). */
  dialect?: DialectName | (string & {});
  /** filter.maxResults: cap on `count` (default 1000). */
  maxResults?: number;
  /** Overrides the dialect's deep-paging limit (Salesforce: 2000): a startIndex above it is a 400 asking for `id gt`. Small values keep tests of the keyset fallback fast. */
  maxStartIndex?: number;
  /** Page size when the request names no `count` (default 100, capped by maxResults). */
  defaultCount?: number;
  /**
   * RFC 9865 cursor paging besides index paging: a request with `cursor`
   * (empty for the first page) gets `nextCursor`. Default off (advertised
   * `pagination.cursor: false`). `timeoutSeconds`: age after which a cursor is expiredCursor (default 600).
   */
  cursor?: boolean | { timeoutSeconds?: number };
  /** Omit `Resources` from a list reply with no resources (default false: `"Resources": []`). */
  omitEmptyResources?: boolean;
  /** 400 `tooMany` when a filter matches more than this many resources (default: off). */
  tooManyLimit?: number;
  bulk?: BulkOptions;
  /** PATCH advertised and served (default true). */
  patch?: boolean;
  /** ETags advertised, returned and enforced (default true). */
  etag?: boolean;
  faults?: FaultSpec[];
  /**
   * Real servers' misbehaviours (README "Quirks"): names, bundles, `name=value`
   * or `{name: value}` objects, e.g. `['scimgateway', 'totalIsPageLength', { rootPath: '/scim/v2/endpoints/abc' }]`.
   */
  quirks?: QuirkSpec[];
  /** Per-window request limits; over them, 429 with Retry-After (Slack: {reads: 1000, writes: 600}). Default: none. */
  rateLimit?: { reads: number; writes: number; windowMs?: number; burst?: { writes: number; pauseMs: number } };
  logger?: Logger;
  /** Ids of created resources in sequence (00000000-0000-4000-8000-000000000001…) instead of random UUIDs, for reproducible outputs. */
  sequentialIds?: boolean;
  /** Largest request body accepted outside /Bulk, bytes (default 10 MiB). */
  maxBodySize?: number;
}

export interface Sandbox {
  /** Base URL EXCLUDING /v2, e.g. http://127.0.0.1:PORT */
  url: string;
  /** The SCIM root: `${url}/v2`, or `${url}<path>` with the rootPath quirk. */
  root: string;
  /** The quirks in effect, bundles expanded: `{ totalIsPageLength: true, pageCap: 50, … }`. */
  readonly quirks: QuirkSet;
  port: number;
  store: SandboxStore;
  /** Replaces the active faults (counters restart). */
  setFaults(f: FaultSpec[]): void;
  /** The most recent requests (bounded: the oldest are dropped past 10,000). */
  requests: RequestLogEntry[];
  /** Requests per `"METHOD /v2/Resource"` route (the rootPath quirk's path instead of /v2) since start (unbounded counter). */
  counts: Map<string, number>;
  /** Access tokens issued by the OAuth2 endpoint (with the `oauth` option). */
  readonly tokensIssued: number;
  stop(): Promise<void>;
}
