/**
 * Fault injection: which faults fire on a request. Faults are data
 * (FaultSpec); this module only counts matching requests and decides. The
 * server applies what fired (see server.ts), so each fault is one small branch.
 */
import { ScimEtlError } from '../errors.js';
import type { FaultKind, FaultSpec } from './types.js';

export const FAULT_KINDS: readonly FaultKind[] = ['429', '500', '503', 'reset', 'truncate', 'slow', 'expireToken', 'ignoreCount', 'capCount', 'repeatPage', 'shiftItems'];

/** Failures fire once unless told otherwise; behaviours last for the whole run. */
const ONCE_BY_DEFAULT = new Set<FaultKind>(['429', '500', '503', 'reset', 'truncate', 'expireToken']);

interface ActiveFault {
  spec: FaultSpec;
  match: (route: string) => boolean;
  times: number;
  after: number;
  seen: number;
  fired: number;
  /** shiftItems: how many virtual inserts happened before the cursor so far. */
  shift: number;
}

export class FaultInjector {
  private active: ActiveFault[] = [];

  constructor(specs: FaultSpec[] = []) {
    this.set(specs);
  }

  set(specs: FaultSpec[]): void {
    this.active = specs.map((s, i) => {
      const spec = validateFault(s, `faults[${i}]`);
      return {
        spec,
        match: routeMatcher(spec.route),
        times: spec.times ?? (ONCE_BY_DEFAULT.has(spec.kind) ? 1 : Infinity),
        after: spec.after ?? 0,
        seen: 0,
        fired: 0,
        shift: 0,
      };
    });
  }

  get size(): number {
    return this.active.length;
  }

  /**
   * The faults that fire on this request (`route` = "METHOD /path"), counting
   * it. `applies` says whether a fault can act on this request at all (a paging
   * fault on a single-resource GET cannot); those are not counted.
   */
  fire(route: string, applies: (spec: FaultSpec) => boolean = () => true): FiredFault[] {
    const out: FiredFault[] = [];
    for (const f of this.active) {
      if (!f.match(route) || !applies(f.spec)) continue;
      f.seen++;
      if (f.seen <= f.after || f.fired >= f.times) {
        // Virtual inserts stay inserted: later pages keep the shift.
        if (f.spec.kind === 'shiftItems' && f.shift > 0) out.push({ spec: f.spec, shift: f.shift });
        continue;
      }
      f.fired++;
      if (f.spec.kind === 'shiftItems') f.shift++;
      out.push({ spec: f.spec, shift: f.shift });
    }
    return out;
  }
}

export interface FiredFault {
  spec: FaultSpec;
  /** shiftItems: total virtual inserts so far. */
  shift: number;
}

function routeMatcher(route: FaultSpec['route']): (r: string) => boolean {
  if (route === undefined || route === '') return () => true;
  if (route instanceof RegExp) return (r) => route.test(r);
  // "/…/flags" is a regular expression; "/oauth2/token" (no valid flags) is a plain path.
  const m = /^\/(.+)\/([dgimsuy]*)$/.exec(route);
  if (m) {
    const re = new RegExp(m[1]!, m[2]);
    return (r) => re.test(r);
  }
  const lower = route.toLowerCase();
  return (r) => r.toLowerCase().includes(lower);
}

function faultError(where: string, message: string): ScimEtlError {
  return new ScimEtlError('ERR_SANDBOX_FAULT', `${where}: ${message}`, { fault: where }, { category: 'config' });
}

const NUMERIC = ['times', 'after', 'delayMs', 'pageSize', 'retryAfterSeconds'] as const;

/** Checks one fault spec; ERR_SANDBOX_FAULT with what was expected otherwise. */
export function validateFault(raw: unknown, where = 'fault'): FaultSpec {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw faultError(where, `expected an object, got ${JSON.stringify(raw)}`);
  const f = raw as Record<string, unknown>;
  const known = new Set(['route', 'kind', 'times', 'after', 'retryAfter', 'retryAfterSeconds', 'delayMs', 'pageSize']);
  for (const k of Object.keys(f)) if (!known.has(k)) throw faultError(where, `unknown key '${k}' (expected ${[...known].join(', ')})`);
  const kind = String(f.kind);
  if (!FAULT_KINDS.includes(kind as FaultKind)) throw faultError(where, `kind must be one of ${FAULT_KINDS.join(', ')}, got ${JSON.stringify(f.kind)}`);
  for (const k of NUMERIC) {
    if (f[k] !== undefined && !(typeof f[k] === 'number' && Number.isFinite(f[k]) && (f[k] as number) >= 0)) {
      throw faultError(where, `${k} must be a number >= 0, got ${JSON.stringify(f[k])}`);
    }
  }
  if (f.retryAfter !== undefined && f.retryAfter !== 'date' && !(typeof f.retryAfter === 'number' && f.retryAfter >= 0)) {
    throw faultError(where, `retryAfter must be seconds >= 0 or "date", got ${JSON.stringify(f.retryAfter)}`);
  }
  if (f.route !== undefined && typeof f.route !== 'string' && !(f.route instanceof RegExp)) throw faultError(where, `route must be a string or RegExp, got ${JSON.stringify(f.route)}`);
  try {
    routeMatcher(f.route as FaultSpec['route']);
  } catch (err) {
    throw faultError(where, `route ${JSON.stringify(f.route)} is not a valid regular expression: ${(err as Error).message}`);
  }
  if ((kind === 'ignoreCount' || kind === 'capCount') && f.pageSize !== undefined && (f.pageSize as number) < 1) throw faultError(where, 'pageSize must be >= 1');
  return f as unknown as FaultSpec;
}

/**
 * The CLI's `--fault` value: JSON (an object or an array of them), or the
 * simple form `kind[@route][,key=value…]`, e.g. `429@GET /v2/Users,times=2,retryAfter=date`.
 */
export function parseFaultArg(text: string): FaultSpec[] {
  const t = text.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch (err) {
      throw faultError('--fault', `invalid JSON: ${(err as Error).message}`);
    }
    const list = Array.isArray(parsed) ? parsed : [parsed];
    return list.map((f, i) => validateFault(f, `--fault[${i}]`));
  }
  const [head, ...pairs] = t.split(',');
  const at = head!.indexOf('@');
  const spec: Record<string, unknown> = { kind: (at < 0 ? head! : head!.slice(0, at)).trim() };
  if (at >= 0) spec.route = head!.slice(at + 1).trim();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 0) throw faultError('--fault', `expected key=value, got '${pair}' in '${text}'`);
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    spec[key] = key === 'route' || (key === 'retryAfter' && value === 'date') ? value : value === '' || Number.isNaN(Number(value)) ? value : Number(value);
  }
  return [validateFault(spec, `--fault '${text}'`)];
}
