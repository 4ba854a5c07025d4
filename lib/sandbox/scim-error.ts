/** An HTTP answer in SCIM Error form (RFC 7644 §3.12), thrown by handlers and caught by the router. */

export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive'
  | 'tooLarge'
  // RFC 9865 cursor paging
  | 'invalidCursor'
  | 'expiredCursor'
  | 'invalidCount';

export class ScimHttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly scimType?: ScimType,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'ScimHttpError';
  }

  toJSON(): Record<string, unknown> {
    return errorBody(this.status, this.detail, this.scimType);
  }
}

/** `status` is a string, as RFC 7644 writes it. */
export function errorBody(status: number, detail: string, scimType?: string): Record<string, unknown> {
  return { schemas: [ERROR_SCHEMA], status: String(status), ...(scimType ? { scimType } : {}), detail };
}

export const badRequest = (detail: string, scimType: ScimType = 'invalidValue') => new ScimHttpError(400, detail, scimType);
export const notFound = (detail: string) => new ScimHttpError(404, detail);
