/**
 * Reads a YAML (or JSON, with comments) file into a document with a line counter, turning
 * every way it can be unusable into a coded problem with a position: missing
 * file, binary content, YAML syntax errors, and a top level that is not a
 * mapping.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Document, type YAMLMap } from 'yaml';
import { blankJsonc, jsonSyntaxError } from './jsonc.js';
import { lineColAt } from './positions.js';
import type { ProblemList } from './locations.js';

export interface YamlSource {
  /** The path as the user gave it: used in problems. */
  file: string;
  text: string;
  doc: Document.Parsed;
  lc: LineCounter;
  root: YAMLMap;
}

export async function readYamlMapping(
  file: string,
  absPath: string,
  problems: ProblemList,
  what: string,
  /** Where the file was named (a settings file named in a pipeline): file-level problems are shown there. */
  namedAt?: { file: string; line: number; col: number },
  /** A JSON settings file: comments and trailing commas allowed (as .NET reads appsettings), errors worded as JSON. */
  opts: { json?: boolean } = {},
): Promise<YamlSource | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(absPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const at = namedAt ?? { file };
    if (code === 'ENOENT' || code === 'ENOTDIR') problems.add('ERR_CONFIG_FILE_NOT_FOUND', `no such file: ${file}`, at);
    else if (code === 'EISDIR') problems.add('ERR_CONFIG_FILE_NOT_FOUND', `${file} is a directory, not a ${what}`, at);
    else problems.add('ERR_CONFIG_FILE_UNREADABLE', `cannot read ${file} (${code ?? 'error'})`, at);
    return undefined;
  }
  let text = decodeText(bytes);
  if (text === undefined) {
    problems.add('ERR_CONFIG_NOT_A_PIPELINE', `${file} is a binary file, not a ${what} (${opts.json ? 'JSON' : 'YAML'} text)`, { file, line: 1, col: 1 });
    return undefined;
  }
  if (opts.json) {
    // Blanked in place: every position below is still the position in the file.
    const blanked = blankJsonc(text);
    const error = 'error' in blanked ? blanked.error : jsonSyntaxError(blanked.text);
    if (error) {
      problems.add('ERR_JSON_SYNTAX', error.message, { file, ...offsetLineCol(text, error.offset) });
      return undefined;
    }
    text = (blanked as { text: string }).text;
  }
  const lc = new LineCounter();
  // uniqueKeys off: duplicates are found case-insensitively by the reader, with both positions.
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false, strict: true, merge: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const pos = lineColAt(lc, e.pos[0]);
      const lineText = text.split(/\r?\n/)[pos.line - 1] ?? '';
      // `{` of `${VAR}` opens a flow mapping inside [ ] or { }: say how to write it.
      const hint = /[[{]/.test(lineText) && lineText.includes('${') ? ' (inside [ ] or { }, quote values holding ${…}: "${VAR}")' : '';
      problems.add('ERR_YAML_SYNTAX', yamlMessage(e.message) + hint, { file, ...pos });
    }
    return undefined;
  }
  const root = doc.contents;
  if (!isMap(root)) {
    const got = root === null || (isScalar(root) && root.value === null) ? 'an empty document' : isSeq(root) ? 'a list' : isScalar(root) ? `a single value` : 'something else';
    const pos = root?.range ? lineColAt(lc, root.range[0]) : { line: 1, col: 1 };
    problems.add('ERR_CONFIG_NOT_A_PIPELINE', `${file} holds ${got}, not a ${what} (${opts.json ? 'a JSON object' : 'a YAML mapping'})`, { file, ...pos });
    return undefined;
  }
  return { file, text, doc, lc, root };
}

/** 1-based line and column of an offset (columns in UTF-16 units, as the YAML reader counts). */
function offsetLineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, col: offset - lineStart + 1 };
}

/** UTF-8 text, or undefined when the bytes are not text (NUL bytes, invalid UTF-8). */
function decodeText(bytes: Buffer): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** yaml's messages sometimes end with a source excerpt; keep the first line. */
function yamlMessage(message: string): string {
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  if (/multiple documents/i.test(first)) return 'a pipeline file holds one YAML document: remove the second "---" or split the file';
  return first;
}
