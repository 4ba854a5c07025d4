/**
 * Where each value of a pipeline came from: file, line, column, and a locator
 * for characters inside string values. The reader records them by key path;
 * the validator asks for them when it finds a problem in a value.
 */
import type { Problem } from '../errors.js';
import type { LineCol, OffsetLocator } from './positions.js';

export type KeyPath = readonly (string | number)[];

export interface Loc extends LineCol {
  /** The file as the user named it (the pipeline, or its settings file). */
  file: string;
  /** Position of a character inside the string value (after interpolation). */
  at: OffsetLocator;
  /** Position of the key naming this value, for "missing key" style problems. */
  key?: LineCol;
  /** A problem was already reported for this value: do not pile up more. */
  bad?: boolean;
}

const join = (path: KeyPath) => path.map(String).join('\u0000');

export class Locations {
  private readonly byPath = new Map<string, Loc>();

  set(path: KeyPath, loc: Loc): void {
    this.byPath.set(join(path), loc);
  }

  get(path: KeyPath): Loc | undefined {
    return this.byPath.get(join(path));
  }

  /** The value's own position, else its closest recorded ancestor's. */
  near(path: KeyPath): Loc | undefined {
    for (let n = path.length; n >= 0; n--) {
      const loc = this.get(path.slice(0, n));
      if (loc) return loc;
    }
    return undefined;
  }

  /** Copies the positions of `path` and everything under it from another set. */
  copySubtree(from: Locations, path: KeyPath): void {
    const prefix = join(path);
    for (const [k, loc] of from.byPath) {
      if (k === prefix || k.startsWith(prefix + '\u0000')) this.byPath.set(k, loc);
    }
  }

  /** True when some value below `path` (not `path` itself) was recorded. */
  hasUnder(path: KeyPath): boolean {
    const prefix = join(path) + '\u0000';
    for (const k of this.byPath.keys()) if (k.startsWith(prefix)) return true;
    return false;
  }

  isBad(path: KeyPath): boolean {
    return Boolean(this.get(path)?.bad);
  }
}

/** Collects problems with their positions. */
export class ProblemList {
  readonly items: Problem[] = [];

  constructor(readonly defaultFile: string) {}

  add(code: string, message: string, where?: { file?: string; line?: number; col?: number }): void {
    const p: Problem = { file: where?.file ?? this.defaultFile, code, message };
    if (where?.line !== undefined) {
      p.line = where.line;
      if (where.col !== undefined) p.col = where.col;
    }
    this.items.push(p);
  }

  /** A problem at a character inside the value at `loc`. */
  at(loc: Loc | undefined, code: string, message: string, offset?: number): void {
    if (!loc) return this.add(code, message);
    const pos = offset === undefined ? loc : loc.at(offset);
    this.add(code, message, { file: loc.file, line: pos.line, col: pos.col });
  }

  /** A problem about a key (unknown, missing, duplicate). */
  atKey(loc: Loc | undefined, code: string, message: string): void {
    if (!loc) return this.add(code, message);
    const pos = loc.key ?? loc;
    this.add(code, message, { file: loc.file, line: pos.line, col: pos.col });
  }

  get length(): number {
    return this.items.length;
  }
}
