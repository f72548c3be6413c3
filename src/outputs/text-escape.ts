/**
 * Escaping for the text output line. Alert text carries values a watched process chose (its name,
 * arguments, the paths it opened); written raw, a newline in one of them forges a whole alert line
 * in a log and an ESC sequence rewrites the operator's terminal. Every text path (stdout, file,
 * syslog, HTTP text/plain) goes through `escapeControlText`; JSON needs nothing more than
 * JSON.stringify, which already escapes C0 and lone surrogates.
 *
 * Escaped: C0 (U+0000–U+001F, as \n \r \t or \xHH), DEL and C1 (U+007F–U+009F, C1 includes the
 * 8-bit CSI some terminals honour), the Unicode line and paragraph separators, and lone UTF-16
 * surrogates (they would be written as U+FFFD; invalid UTF-8 from the kernel already arrives as
 * U+FFFD from the decoder). Backslash itself is left alone so ordinary paths and regexes in
 * command lines read as they were; the escape is for framing and terminals, not a reversible
 * encoding.
 */

/** Anything escapeControlText may change; a valid surrogate pair also matches (the slow path keeps it). */
const NEEDS_ESCAPE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ud800-\udfff]/;

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, '0');
}

function escapeOf(code: number): string {
  switch (code) {
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    default:
      return code < 0x80 ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`;
  }
}

/** The string with control characters made visible; the same string (no copy) when there are none. */
export function escapeControlText(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  let out = '';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) continue;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    } else if (!(c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029 || (c >= 0xdc00 && c <= 0xdfff))) {
      continue;
    }
    out += s.slice(start, i) + escapeOf(c);
    start = i + 1;
  }
  return out + s.slice(start);
}
