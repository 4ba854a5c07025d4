/**
 * JSON with comments, as .NET's configuration reader accepts it for
 * appsettings files: `//` and `/* *\/` comments and trailing commas.
 *
 * `blankJsonc` replaces the comments and trailing commas with spaces (line
 * breaks kept), so every position in the result is the position in the file;
 * `jsonSyntaxError` then finds the first syntax error with a message in JSON
 * terms. (JSON.parse does not say where on Node 20 for some errors, and the
 * YAML reader that gives positions afterwards would word them as YAML.)
 */

export interface JsonSyntaxError {
  /** Offset in the text. */
  offset: number;
  message: string;
}

/** The text with comments and trailing commas blanked, or where a comment is left open. */
export function blankJsonc(text: string): { text: string } | { error: JsonSyntaxError } {
  const out = text.split('');
  const blank = (from: number, to: number) => {
    for (let i = from; i < to; i++) if (out[i] !== '\n' && out[i] !== '\r') out[i] = ' ';
  };
  /** The last comma seen outside strings, still followed only by blanks and comments. */
  let pendingComma = -1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      pendingComma = -1;
      i = endOfString(text, i);
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      let end = text.indexOf('\n', i);
      if (end < 0) end = text.length;
      blank(i, end);
      i = end;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) return { error: { offset: i, message: 'a /* comment is not closed (*/ is missing)' } };
      blank(i, close + 2);
      i = close + 2;
      continue;
    }
    if (c === ',') pendingComma = i;
    else if (c === '}' || c === ']') {
      if (pendingComma >= 0) out[pendingComma] = ' ';
      pendingComma = -1;
    } else if (!isBlank(c)) pendingComma = -1;
    i++;
  }
  return { text: out.join('') };
}

/** Index just past the string starting at `start` (or the end of the text when it is not closed). */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === '"') return i + 1;
    else if (c === '\n') return i;
    else i++;
  }
  return i;
}

function isBlank(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/** The first syntax error of a strict JSON text, or undefined when it is valid JSON. */
export function jsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const fail = (message: string, at = i): never => {
    throw { offset: at, message } satisfies JsonSyntaxError;
  };
  const skip = () => {
    while (i < text.length && isBlank(text[i]!)) i++;
  };
  const describe = () => (i >= text.length ? 'the end of the file' : JSON.stringify(text[i]));
  const cutOff = (what: string, at: number) => fail(`the file ends inside ${what} opened here: the JSON is cut off`, at);

  const value = (): void => {
    skip();
    const c = text[i];
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') return string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    if (c === undefined) fail('the file ends where a value is expected: the JSON is cut off');
    if (c === "'") fail('strings are written in double quotes in JSON');
    fail(`unexpected ${describe()}: expected a JSON value (object, array, string, number, true, false or null)`);
  };
  const object = () => {
    const open = i++;
    skip();
    if (text[i] === '}') return void i++;
    for (;;) {
      skip();
      if (i >= text.length) cutOff('the object', open);
      if (text[i] !== '"') fail(text[i] === "'" ? 'property names are written in double quotes in JSON' : `unexpected ${describe()}: expected a property name in double quotes`);
      string();
      skip();
      if (i >= text.length) cutOff('the object', open);
      if (text[i] !== ':') fail(`unexpected ${describe()}: expected ":" after the property name`);
      i++;
      skip();
      if (i >= text.length) cutOff('the object', open);
      value();
      skip();
      if (i >= text.length) cutOff('the object', open);
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') return void i++;
      fail(`unexpected ${describe()}: expected "," or "}" after a property value`);
    }
  };
  const array = () => {
    const open = i++;
    skip();
    if (text[i] === ']') return void i++;
    for (;;) {
      skip();
      if (i >= text.length) cutOff('the array', open);
      value();
      skip();
      if (i >= text.length) cutOff('the array', open);
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') return void i++;
      fail(`unexpected ${describe()}: expected "," or "]" after an array element`);
    }
  };
  const string = () => {
    const open = i++;
    while (i < text.length) {
      const c = text[i]!;
      if (c === '"') return void i++;
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('\\u is followed by four hex digits in JSON');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail(`invalid escape \\${e ?? ''} in a string (JSON knows \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)`);
        continue;
      }
      if (c.charCodeAt(0) < 0x20) fail(c === '\n' ? 'the string is not closed on its line (a " is missing)' : 'a control character in a string: write it as an escape (\\t, \\n, \\u0000)');
      i++;
    }
    cutOff('the string', open);
  };
  const number = () => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '-') fail('invalid number');
    i += m![0].length;
  };

  try {
    value();
    skip();
    if (i < text.length) fail(`unexpected ${describe()} after the end of the JSON value`);
    return undefined;
  } catch (e) {
    if (typeof e === 'object' && e !== null && 'offset' in e) return e as JsonSyntaxError;
    throw e;
  }
}
