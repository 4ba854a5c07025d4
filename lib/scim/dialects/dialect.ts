/**
 * What sets one server's SCIM apart from RFC 7643/7644, as data and small
 * hooks. lib/ asks the dialect object, never its name (test/dialects/names.test.ts).
 * The sandbox's DialectProfile (lib/sandbox/dialects.ts) is the server side of the same facts.
 */
import type { DialectName } from '../../config/types.js';
import type { PatchOperation } from '../unflatten.js';
import type { ColumnPath } from '../path.js';

/** How the OAuth2 client proves itself at the token endpoint. */
export type ClientAuth = 'client_secret_basic' | 'client_secret_post';

/**
 * A membership written on the member rather than on the group: a
 * `<identifier>_members_<Entity>.csv` line becomes a PATCH of the member
 * (Salesforce: `PATCH /Users/{MemberId}` of `entitlements`).
 */
export interface MemberWrite {
  /** The member's resource type. */
  readonly memberEntity: string;
  /** The member's attribute that holds the links. */
  readonly attribute: string;
  /** The PATCH operations of one add/remove line, or why the line is refused (nothing sent). */
  readonly operations: (command: 'add' | 'remove', value: string) => PatchOperation[] | { refused: string };
}

export interface Dialect {
  readonly name: DialectName;
  /** ServiceProviderConfig paths in the order to try them (Salesforce and Slack serve only the plural). */
  readonly discoveryPaths: readonly ('ServiceProviderConfig' | 'ServiceProviderConfigs')[];
  readonly auth: {
    /**
     * A token endpoint known before discovery (CyberArk names the application in it);
     * `origin` is the SCIM server's origin.
     */
    readonly tokenEndpoint?: (origin: string, applicationId: string) => string;
    /** The token endpoint when discovery finds none (Salesforce's login host). */
    readonly fallbackTokenEndpoint?: string;
    readonly clientAuth: ClientAuth;
    /** `scope` sent with every token request. */
    readonly scope?: string;
    /**
     * applicationId + login + password: the service user authenticates the
     * confidential client (HTTP Basic login:password, client-credentials grant).
     */
    readonly serviceUserClient: boolean;
  };
  /** The value of a PATCH `add` of members (Salesforce wraps the list). */
  readonly membersAddValue: (members: Array<{ value: string }>) => unknown;
  /** DELETE /Users/{id} leaves the user there, inactive (the server deprovisions instead of deleting). */
  readonly deleteDeactivatesUsers: boolean;
  /** What fulfill does with a users `delete` line unless fulfill.deprovision says otherwise. */
  readonly deprovision: 'delete' | 'deactivate';
  /**
   * Why a users order column cannot be written through this server's SCIM API
   * (undefined: it can). A line with a value there is refused before anything is sent.
   */
  readonly cannotWrite: (path: ColumnPath) => string | undefined;
  /** Resource types (lower case) written only by GET + PUT: the server takes no PATCH of them (CyberArk containers). */
  readonly putOnly: readonly string[];
  /** Membership files written on the member, by entity name in lower case (`entitlements`). */
  readonly memberWrites: Readonly<Record<string, MemberWrite>>;
  /** The PATCH operations that deactivate a user (fulfill.deprovision: deactivate). */
  readonly deactivateOperations: () => PatchOperation[];
}
