/**
 * sshd's effective global settings: `sshd -T` when the binary is there to ask (it applies
 * sshd's own rules: Include, first value wins, defaults), else a parse of sshd_config and the
 * files it includes with the same rules. Match blocks are not applied: the checks judge the
 * settings every connection starts from.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';

/** OpenSSH's defaults for the settings the checks read (sshd_config(5), OpenSSH 9). */
const SSHD_DEFAULTS: Readonly<Record<string, string>> = {
  passwordauthentication: 'yes',
  kbdinteractiveauthentication: 'yes',
  pubkeyauthentication: 'yes',
  permitrootlogin: 'prohibit-password',
  permitemptypasswords: 'no',
  authenticationmethods: 'any',
};

/** Old names sshd still accepts for a setting. */
const ALIASES: Readonly<Record<string, string>> = { challengeresponseauthentication: 'kbdinteractiveauthentication' };

const MAX_INCLUDE_DEPTH = 16;

export interface SshdSettings {
  readonly values: ReadonlyMap<string, string>;
  /** `sshd -T` or `sshd_config` (parsed by Lanner). */
  readonly source: string;
  /** Directories the configuration includes from (watched for changes). */
  readonly includeDirs: readonly string[];
  /** Why `sshd -T` was not used, when it was tried. */
  readonly note?: string;
}

export interface SshdLocation {
  /** Logical path of sshd_config. */
  readonly config: string;
  /** Maps a logical path to where it can be read. */
  readonly real: (logical: string) => string;
  /** Real path of the sshd binary to run `sshd -T` with; undefined to parse instead. */
  readonly binary: string | undefined;
}

function fromSshdT(binary: string, configReal: string): { values: Map<string, string> } | { error: string } {
  const r = spawnSync(binary, ['-T', '-f', configReal], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) return { error: r.error.message };
  if (r.status !== 0) return { error: (r.stderr || `exit ${r.status}`).trim().split('\n')[0]! };
  const values = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0) values.set(line.slice(0, sp).toLowerCase(), line.slice(sp + 1).trim());
  }
  return { values };
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

/** Logical paths an Include pattern names (globs in the last component), sorted as sshd's glob(3) does. */
function expandInclude(pattern: string, loc: SshdLocation, dirs: Set<string>): string[] {
  const abs = pattern.startsWith('/') ? pattern : posix.join('/etc/ssh', pattern);
  const dir = posix.dirname(abs);
  const base = posix.basename(abs);
  if (!/[*?]/.test(base)) return [abs];
  dirs.add(dir);
  let names: string[];
  try {
    names = readdirSync(loc.real(dir));
  } catch {
    return [];
  }
  const re = globToRegExp(base);
  return names
    .filter((n) => re.test(n))
    .sort()
    .map((n) => posix.join(dir, n));
}

function parseInto(logical: string, loc: SshdLocation, values: Map<string, string>, dirs: Set<string>, depth: number): void {
  if (depth > MAX_INCLUDE_DEPTH) return;
  let text: string;
  try {
    text = readFileSync(loc.real(logical), 'utf8');
  } catch {
    return;
  }
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    const value = m[2]!.trim().replace(/^"(.*)"$/, '$1');
    // Everything after a Match line belongs to that block (global settings end at the first Match).
    if (key === 'match') return;
    if (key === 'include') {
      for (const pattern of value.split(/\s+/)) for (const f of expandInclude(pattern, loc, dirs)) parseInto(f, loc, values, dirs, depth + 1);
      continue;
    }
    const name = ALIASES[key] ?? key;
    // sshd keeps the first value it reads for a setting.
    if (!values.has(name)) values.set(name, name === 'authenticationmethods' ? value : value.toLowerCase());
  }
}

/** The effective settings, or undefined when sshd is not installed (neither binary nor config). */
export function sshdSettings(loc: SshdLocation): SshdSettings | undefined {
  const configReal = loc.real(loc.config);
  const hasConfig = existsSync(configReal);
  if (!hasConfig && loc.binary === undefined) return undefined;
  const dirs = new Set<string>([posix.join(posix.dirname(loc.config), 'sshd_config.d')]);
  let note: string | undefined;
  if (loc.binary !== undefined && hasConfig) {
    const t = fromSshdT(loc.binary, configReal);
    if ('values' in t) {
      // Still parse for the include directories to watch.
      parseInto(loc.config, loc, new Map(), dirs, 0);
      return { values: t.values, source: 'sshd -T', includeDirs: [...dirs] };
    }
    note = `sshd -T failed (${t.error}); settings parsed from the files`;
  }
  const values = new Map<string, string>();
  parseInto(loc.config, loc, values, dirs, 0);
  for (const [k, v] of Object.entries(SSHD_DEFAULTS)) if (!values.has(k)) values.set(k, v);
  return { values, source: hasConfig ? loc.config : `${loc.config} (absent: defaults)`, includeDirs: [...dirs], ...(note !== undefined ? { note } : {}) };
}

export interface SshVerdict {
  readonly passed: boolean;
  readonly actual: string;
}

const get = (s: SshdSettings, k: string): string => s.values.get(k) ?? SSHD_DEFAULTS[k] ?? '';

/** Only keys log in: public keys on, and passwords/keyboard-interactive off unless every method list needs a key. */
export function judgeKeyOnly(s: SshdSettings): SshVerdict {
  const pubkey = get(s, 'pubkeyauthentication');
  const password = get(s, 'passwordauthentication');
  const kbd = get(s, 'kbdinteractiveauthentication');
  const methods = get(s, 'authenticationmethods');
  const everyListNeedsKey = methods !== 'any' && methods.split(/\s+/).every((list) => list.split(',').some((m) => m === 'publickey'));
  const actual = `pubkeyauthentication ${pubkey}, passwordauthentication ${password}, kbdinteractiveauthentication ${kbd}, authenticationmethods ${methods} (${s.source})`;
  const passed = pubkey === 'yes' && (everyListNeedsKey || (password === 'no' && kbd === 'no'));
  return { passed, actual };
}

export function judgeNoRootLogin(s: SshdSettings): SshVerdict {
  const v = get(s, 'permitrootlogin');
  return { passed: v === 'no', actual: `permitrootlogin ${v} (${s.source})` };
}
