/**
 * A token-level walk over a SCIM reply (stream-json tokens with packed
 * values) that reports only what the membership tables need: each resource's
 * start, id and end, and every value of one multi-valued attribute
 * (`members`, CyberArk `privilegedData`). Nothing else is kept, so a group's
 * members array is never materialised, whatever its size.
 *
 * Two shapes: a ListResponse (`{"totalResults":…, "Resources":[{…},…]}`) or
 * a single resource (`GET /Groups/{id}`).
 */

export type WalkEvent =
  | { t: 'total'; n: number }
  | { t: 'start' }
  | { t: 'id'; id: string }
  | { t: 'member'; value: string }
  /** A member object that ended without a `value`: the server projected the parent hollow (`[{}]`). */
  | { t: 'hollow' }
  | { t: 'end' }
  /** A `schemas` value of the reply itself (ListResponse, Error, or the resource's own). */
  | { t: 'schema'; urn: string }
  /** The ListResponse's `Resources` array starts. */
  | { t: 'resources' }
  /** What only an error body carries at its top: `status`, `detail` (with their text) or an `Errors` member. */
  | { t: 'error'; key: 'status' | 'detail' | 'errors'; value?: string };

/** A stream-json token (packed values only). */
export interface JsonToken {
  name: string;
  value?: string;
}

type Role = 'root' | 'resources' | 'resource' | 'attr' | 'member' | 'schemas' | 'skip';

interface Frame {
  role: Role;
  /** The reply's top object (a ListResponse, or the single resource). */
  top?: boolean;
  /** The last key seen in this object (lower-cased), for the value that follows. */
  key?: string;
  /** A member object: a `value` was seen in it. */
  valued?: boolean;
}

export class MemberWalker {
  private readonly stack: Frame[] = [];
  private readonly attr: string | undefined;
  /** Some token arrived: the body is JSON at least at its start (a later parse error is a cut, not a wrong kind of reply). */
  started = false;

  /**
   * @param shape 'list' for a ListResponse, 'resource' for one resource.
   * @param attribute the multi-valued attribute to report; undefined reports ids only.
   */
  constructor(
    private readonly shape: 'list' | 'resource',
    attribute: string | undefined,
  ) {
    this.attr = attribute?.toLowerCase();
  }

  /** Feeds one token; returns the event it completes, if any. */
  step(token: JsonToken): WalkEvent | undefined {
    this.started = true;
    const top = this.stack[this.stack.length - 1];
    switch (token.name) {
      case 'keyValue':
        if (top) top.key = (token.value ?? '').toLowerCase();
        return undefined;
      case 'startObject':
      case 'startArray': {
        const isObject = token.name === 'startObject';
        const role = this.roleOf(top, isObject);
        const key = top?.key;
        this.stack.push(top ? { role } : { role, top: true });
        if (top && top.role !== 'resources' && top.role !== 'attr') top.key = undefined;
        if (role === 'resource') return { t: 'start' };
        if (role === 'resources') return { t: 'resources' };
        if (top?.top && key === 'errors') return { t: 'error', key: 'errors' };
        return undefined;
      }
      case 'endObject':
      case 'endArray': {
        const frame = this.stack.pop();
        if (frame?.role === 'member' && !frame.valued) return { t: 'hollow' };
        return frame?.role === 'resource' ? { t: 'end' } : undefined;
      }
      default:
        return this.scalar(top, token);
    }
  }

  private roleOf(parent: Frame | undefined, isObject: boolean): Role {
    if (!parent) {
      if (!isObject) return 'skip';
      return this.shape === 'list' ? 'root' : 'resource';
    }
    if (parent.top && parent.key === 'schemas' && !isObject) return 'schemas';
    switch (parent.role) {
      case 'root':
        return !isObject && parent.key === 'resources' ? 'resources' : 'skip';
      case 'resources':
        return isObject ? 'resource' : 'skip';
      case 'resource':
        if (this.attr !== undefined && parent.key === this.attr) return isObject ? 'member' : 'attr';
        return 'skip';
      case 'attr':
        return isObject ? 'member' : 'skip';
      default:
        return 'skip';
    }
  }

  private scalar(top: Frame | undefined, token: JsonToken): WalkEvent | undefined {
    if (!top) return undefined;
    const text = token.name === 'stringValue' || token.name === 'numberValue' ? token.value : undefined;
    let event: WalkEvent | undefined;
    if (top.role === 'schemas' && token.name === 'stringValue') {
      event = { t: 'schema', urn: token.value ?? '' };
    } else if (top.top && (top.key === 'status' || top.key === 'detail') && text !== undefined) {
      event = { t: 'error', key: top.key, value: text };
    } else if (top.role === 'root' && top.key === 'totalresults' && text !== undefined) {
      const n = Number(text);
      if (Number.isInteger(n) && n >= 0) event = { t: 'total', n };
    } else if (top.role === 'resource' && top.key === 'id' && text !== undefined) {
      event = { t: 'id', id: text };
    } else if (top.role === 'member' && top.key === 'value' && text !== undefined) {
      top.valued = true;
      event = { t: 'member', value: text };
    } else if (top.role === 'attr' && text !== undefined) {
      // Some servers list plain ids instead of {value} objects.
      event = { t: 'member', value: text };
    }
    if (top.role !== 'attr' && top.role !== 'resources') top.key = undefined;
    return event;
  }
}
