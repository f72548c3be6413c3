/**
 * Masks values that look like secrets in an alert (command lines, arguments, environments and
 * whatever output text or field was rendered from them) before any sink sees it. Runs once per
 * alert at fan-out, never per event. Every pattern, built in or configured, is RE2 (re2js), so no
 * input can make a pattern backtrack; a pattern masks its first capture group, or the whole match
 * when it has none.
 */
import { RE2JS } from 're2js';
import type { Alert, OutputFieldValue } from './alert';

export const REDACTED = '***';

/**
 * Built-in secret shapes. Flags: `--password=x`, `--db-token x`, `-secret=x`; HTTP credentials:
 * `Authorization: Bearer x`, `Bearer x`; URLs with `user:password@`; AWS access key ids; and
 * `NAME=value` where NAME says password, secret, token or key (environments, shell assignments,
 * `AWS_SECRET_ACCESS_KEY=…`).
 */
const BUILT_IN_PATTERNS: readonly string[] = [
  String.raw`(?i)(?:^|[\s"'=])--?[a-z0-9_.-]*(?:password|passwd|pwd|token|secret|api[-_]?key|access[-_]?key|private[-_]?key)(?:=|\s+)([^\s"']+)`,
  String.raw`(?i)\bauthorization:\s*(?:(?:bearer|basic|token|digest)\s+)?([^\s"']+)`,
  String.raw`(?i)\bbearer\s+([^\s"']+)`,
  String.raw`[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@"']+:([^\s/@"']+)@`,
  String.raw`\b((?:AKIA|ASIA)[A-Z0-9]{16})\b`,
  String.raw`\b[A-Za-z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|KEY|password|passwd|secret|token|_key)[A-Za-z0-9_]*=([^\s"']+)`,
];

/** `-p<password>` is the password only for the MySQL/MariaDB clients; elsewhere `-p` means anything. */
const DB_CLIENT = RE2JS.compile(String.raw`(?:^|[\s/=])(?:mysql|mariadb)[a-z-]*(?:\s|$)`);
const DB_CLIENT_PASSWORD = String.raw`(?:^|\s)-p([^\s"']+)`;

/** `proc.env[NAME]`, `proc.aenv[NAME]`: the whole value is masked when NAME says it is a secret. */
const SECRET_ENV_KEY = RE2JS.compile(String.raw`^proc\.a?env\[[^\]]*(?:PASSWORD|PASSWD|SECRET|TOKEN|KEY|password|passwd|secret|token|_key)[^\]]*\]$`);

interface MaskPattern {
  readonly re: RE2JS;
  readonly group: number;
}

function compilePattern(source: string): MaskPattern {
  const re = RE2JS.compile(source);
  return { re, group: re.groupCount() > 0 ? 1 : 0 };
}

/** Replaces every match's masked part; returns the input itself when nothing matched. */
function mask(text: string, p: MaskPattern): string {
  const m = p.re.matcher(text);
  let out: string | undefined;
  let from = 0;
  while (m.find()) {
    const start = m.start(p.group);
    const end = m.end(p.group);
    if (start < 0 || end <= start || text.slice(start, end) === REDACTED) continue;
    out = (out ?? '') + text.slice(from, start) + REDACTED;
    from = end;
  }
  return out === undefined ? text : out + text.slice(from);
}

export interface RedactionOptions {
  readonly enabled: boolean;
  /** Extra RE2 patterns. */
  readonly patterns: readonly string[];
}

export class Redactor {
  private readonly patterns: readonly MaskPattern[];
  private readonly dbPassword = compilePattern(DB_CLIENT_PASSWORD);

  constructor(readonly options: RedactionOptions) {
    this.patterns = [...BUILT_IN_PATTERNS, ...options.patterns].map(compilePattern);
  }

  /** The text with every secret-looking value masked (the same string when nothing was). */
  redactText(text: string, dbClient = DB_CLIENT.matcher(text).find()): string {
    let out = text;
    for (const p of this.patterns) out = mask(out, p);
    if (dbClient) out = mask(out, this.dbPassword);
    return out;
  }

  /**
   * The alert with its message and string output fields masked; the same object when nothing
   * needed masking (redaction off, or no secret found). A value masked in a field is also masked
   * wherever it appears verbatim in the message, so text rendered from that field leaks nothing a
   * pattern could only see in the field (an `proc.env[DB_PASSWORD]` value, an argument list).
   */
  redact(alert: Alert): Alert {
    if (!this.options.enabled) return alert;
    const fields = alert.outputFields;
    const dbClient = this.mentionsDbClient(alert);
    let changedFields: Record<string, OutputFieldValue> | undefined;
    const replaced: [string, string][] = [];
    for (const key of Object.keys(fields)) {
      const v = fields[key];
      if (typeof v !== 'string' || v === '') continue;
      const masked = SECRET_ENV_KEY.matcher(key).find() ? REDACTED : this.redactText(v, dbClient);
      if (masked === v) continue;
      changedFields ??= { ...fields };
      changedFields[key] = masked;
      replaced.push([v, masked]);
    }
    let message = this.redactText(alert.message, dbClient);
    // Longest first: a value that contains another must be replaced whole.
    replaced.sort((a, b) => b[0].length - a[0].length);
    for (const [raw, masked] of replaced) if (message.includes(raw)) message = message.split(raw).join(masked);
    if (changedFields === undefined && message === alert.message) return alert;
    return { ...alert, message, outputFields: changedFields ?? fields };
  }

  private mentionsDbClient(alert: Alert): boolean {
    if (DB_CLIENT.matcher(alert.message).find()) return true;
    for (const key of ['proc.name', 'proc.exe', 'proc.cmdline', 'proc.exepath']) {
      const v = alert.outputFields[key];
      if (typeof v === 'string' && DB_CLIENT.matcher(` ${v} `).find()) return true;
    }
    return false;
  }
}
