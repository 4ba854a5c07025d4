/**
 * `${VAR}` / `${VAR:-default}` interpolation of one scalar string, `$${` for a
 * literal `${`. It runs on scalar values after YAML parsing (not on the raw
 * text) so that every problem keeps the line and column of its scalar, and it
 * keeps a character map so that a filter error inside an interpolated value
 * still points at the right column.
 */

export interface MissingVariable {
  name: string;
  /** 0-based offset of the `${` in the raw text. */
  offset: number;
}

export interface InterpolationError {
  offset: number;
  message: string;
}

export interface Interpolated {
  value: string;
  /** For each character of `value`, the offset in the raw text it came from (substituted text maps to its `${`). */
  sourceOffsets: number[];
  missing: MissingVariable[];
  errors: InterpolationError[];
  /** True when the raw text held a `${…}` or `$${`, i.e. it was not taken literally. */
  changed: boolean;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function interpolate(text: string, env: NodeJS.ProcessEnv): Interpolated {
  let value = '';
  const sourceOffsets: number[] = [];
  const missing: MissingVariable[] = [];
  const errors: InterpolationError[] = [];
  let changed = false;

  const emit = (s: string, from: number, literal: boolean) => {
    for (let k = 0; k < s.length; k++) {
      value += s[k];
      sourceOffsets.push(literal ? from + k : from);
    }
  };

  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      // Escape: `$${` is a literal `${`.
      changed = true;
      emit('${', i + 1, true);
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      emit(text[i]!, i, true);
      i += 1;
      continue;
    }
    changed = true;
    const close = text.indexOf('}', i + 2);
    if (close < 0) {
      errors.push({ offset: i, message: 'unterminated "${": close it with "}" or write "$${" for a literal "${"' });
      emit(text.slice(i), i, true);
      break;
    }
    const body = text.slice(i + 2, close);
    const sep = body.indexOf(':-');
    const name = sep < 0 ? body : body.slice(0, sep);
    if (!NAME.test(name)) {
      errors.push({ offset: i, message: `invalid variable name ${JSON.stringify(name)} in "\${${body}}": use letters, digits and _` });
      i = close + 1;
      continue;
    }
    const fromEnv = env[name];
    if (sep >= 0) {
      // Like the shell: the default applies when the variable is unset or empty.
      emit(fromEnv !== undefined && fromEnv !== '' ? fromEnv : body.slice(sep + 2), i, false);
    } else if (fromEnv !== undefined) {
      emit(fromEnv, i, false);
    } else {
      missing.push({ name, offset: i });
    }
    i = close + 1;
  }
  return { value, sourceOffsets, missing, errors, changed };
}

