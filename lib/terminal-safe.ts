/**
 * Values from servers and order files reach the terminal inside log lines and
 * error messages. An ESC sequence there could recolour, retitle or rewrite
 * the terminal (and what the user believes happened); a CR could hide a line
 * under another. Control characters are shown escaped instead: C0 but TAB and
 * LF (the layout of a message), DEL, C1, the line and paragraph separators
 * and the bidirectional overrides. Data files keep their values as they are.
 */

const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const hex = (c: string, width: number) => c.charCodeAt(0).toString(16).padStart(width, '0');

/** `\x1b` for a text line; `\u001b` inside a JSON line, so that it stays valid JSON. */
export function escapeControls(text: string, format: 'text' | 'json' = 'text'): string {
  return text.replace(CONTROLS, (c) => (format === 'text' && c.charCodeAt(0) <= 0xff ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`));
}
