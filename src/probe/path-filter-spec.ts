/**
 * The kernel's path filters as the probe takes them (native/bpf/lib/path_filter.h): the open
 * filter and the change filter (unlink, rename, link, symlink, mkdir, rmdir, chmod, chown and
 * truncate calls, per event type), each a set of path atoms (prefix, exact path, suffix) and
 * process names. Validated here, so the kernel only ever holds atoms it can judge; packed for
 * the addon's one update of both.
 */
import { eventTypeByName } from './event-types';
import { COMM_NAME_MAX, FILTER_COMM_MAX, PATH_NEEDLE_LEN, PATH_NEEDLE_MAX, PATH_PREFIX_LEN, PATH_PREFIX_MAX, PATH_SUFFIX_LEN, PATH_SUFFIX_MAX } from './layout';
import { NATIVE_PATH_MATCH, type NativePathFilter } from './native';
import { ProbeError } from './probe-error';

/**
 * A prefix (or with `exact`, a whole path) for a path filter; `writeOnly` limits an open atom to
 * opens that can write (the change filter ignores it).
 */
export interface OpenPathPrefix {
  readonly prefix: string;
  readonly writeOnly: boolean;
  readonly exact?: boolean;
}
/** A plain string is a prefix for any open. */
export type OpenPathFilterEntry = string | OpenPathPrefix;

/** A suffix of the path as passed (`_history`, `/authorized_keys`). */
export interface PathSuffix {
  readonly suffix: string;
  readonly writeOnly: boolean;
}

/**
 * The open filter: an open ships when its path starts with one of `prefixes` (or is one of the
 * exact ones), ends with one of `suffixes`, or the calling task's name (comm, or its thread group
 * leader's) is one of `comms`.
 */
export interface OpenFilterSpec {
  readonly prefixes: readonly OpenPathFilterEntry[];
  readonly suffixes?: readonly PathSuffix[];
  /**
   * Substrings a path may hold (1..PATH_NEEDLE_LEN bytes, at most PATH_NEEDLE_MAX for both filters):
   * for the open filter they hold for opens that can write only.
   */
  readonly needles?: readonly string[];
  readonly comms?: readonly string[];
}

/** The change filter: for the event types in `types`, a call ships when one of its paths matches an atom, or its task is named. */
export interface ChangeFilterSpec extends OpenFilterSpec {
  readonly types: readonly string[];
  /** A chmod, fchmodat, mkdir or mkdirat whose mode argument has one of these bits (of 07777) ships. */
  readonly modeMask?: number;
}

/**
 * Checks prefixes for a path filter and returns them deduplicated; throws ProbeError (EINVAL)
 * naming the offending prefix. A prefix must be absolute, 1..PATH_PREFIX_LEN UTF-8 bytes, free of
 * NUL, and normalised (no '//', '.' or '..' components, though a prefix may end in '/.'): the
 * kernel ships non-normalised paths unfiltered, so such an atom could never match anything.
 */
export function validateOpenPathPrefixes(prefixes: readonly OpenPathFilterEntry[] | null): OpenPathPrefix[] {
  if (prefixes === null) return [];
  if (!Array.isArray(prefixes)) throw new ProbeError('open path prefixes must be an array of strings or null', 'EINVAL');
  // An atom wanted for any open and for write opens only is wanted for any open.
  const modes = new Map<string, OpenPathPrefix>();
  for (const e of prefixes) {
    const entry = typeof e === 'string' ? { prefix: e, writeOnly: false } : e;
    const key = `${entry.exact === true ? '=' : '^'}${entry.prefix}`;
    const seen = modes.get(key);
    modes.set(key, { ...entry, writeOnly: (seen?.writeOnly ?? true) && entry.writeOnly });
  }
  const unique = [...modes.values()];
  if (unique.length > PATH_PREFIX_MAX) {
    throw new ProbeError(`at most ${PATH_PREFIX_MAX} path prefixes are supported, got ${unique.length}`, 'EINVAL');
  }
  for (const { prefix: p, exact } of unique) {
    const bad = (why: string): ProbeError => new ProbeError(`invalid path prefix ${JSON.stringify(p)}: ${why}`, 'EINVAL');
    if (typeof p !== 'string') throw bad('not a string');
    if (!p.startsWith('/')) throw bad('must be an absolute path');
    if (p.includes('\0')) throw bad('contains a NUL byte');
    if (Buffer.byteLength(p, 'utf8') > PATH_PREFIX_LEN) throw bad(`longer than ${PATH_PREFIX_LEN} bytes`);
    // A prefix may end in '/.' ('/dev/shm/.' holds the hidden names there); a whole path may not.
    if (exact === true ? /\/\/|\/\.\.?(\/|$)/.test(p) : /\/\/|\/\.\.?\//.test(p)) throw bad("not normalised ('//', '.' or '..' component)");
  }
  return unique.map((e) => (e.exact === true ? { prefix: e.prefix, writeOnly: e.writeOnly, exact: true } : { prefix: e.prefix, writeOnly: e.writeOnly }));
}

/** Checks suffixes and returns them deduplicated (1..PATH_SUFFIX_LEN bytes, no NUL); throws ProbeError (EINVAL). */
export function validatePathSuffixes(suffixes: readonly PathSuffix[]): PathSuffix[] {
  const modes = new Map<string, boolean>();
  for (const e of suffixes) modes.set(e.suffix, (modes.get(e.suffix) ?? true) && e.writeOnly);
  if (modes.size > PATH_SUFFIX_MAX) throw new ProbeError(`at most ${PATH_SUFFIX_MAX} path suffixes are supported, got ${modes.size}`, 'EINVAL');
  for (const s of modes.keys()) {
    const bad = (why: string): ProbeError => new ProbeError(`invalid path suffix ${JSON.stringify(s)}: ${why}`, 'EINVAL');
    if (typeof s !== 'string' || s.length === 0) throw bad('not a non-empty string');
    if (s.includes('\0')) throw bad('contains a NUL byte');
    if (Buffer.byteLength(s, 'utf8') > PATH_SUFFIX_LEN) throw bad(`longer than ${PATH_SUFFIX_LEN} bytes`);
  }
  return [...modes.entries()].map(([suffix, writeOnly]) => ({ suffix, writeOnly }));
}

/** Checks substrings and returns them deduplicated (1..PATH_NEEDLE_LEN bytes, no NUL); throws ProbeError (EINVAL). */
export function validatePathNeedles(needles: readonly string[]): string[] {
  const unique = [...new Set(needles)];
  if (unique.length > PATH_NEEDLE_MAX) throw new ProbeError(`at most ${PATH_NEEDLE_MAX} path substrings are supported, got ${unique.length}`, 'EINVAL');
  for (const n of unique) {
    const bad = (why: string): ProbeError => new ProbeError(`invalid path substring ${JSON.stringify(n)}: ${why}`, 'EINVAL');
    if (typeof n !== 'string' || n.length === 0) throw bad('not a non-empty string');
    if (n.includes('\0')) throw bad('contains a NUL byte');
    if (Buffer.byteLength(n, 'utf8') > PATH_NEEDLE_LEN) throw bad(`longer than ${PATH_NEEDLE_LEN} bytes`);
  }
  return unique;
}

/**
 * Checks a filter's process names and returns them deduplicated; throws ProbeError (EINVAL)
 * naming the offending one. A name is what the kernel keeps as a task's comm: 1..15 bytes, no NUL.
 */
export function validateOpenFilterComms(comms: readonly string[]): string[] {
  const unique = [...new Set(comms)];
  if (unique.length > FILTER_COMM_MAX) throw new ProbeError(`at most ${FILTER_COMM_MAX} path filter process names are supported, got ${unique.length}`, 'EINVAL');
  for (const c of unique) {
    const bad = (why: string): ProbeError => new ProbeError(`invalid path filter process name ${JSON.stringify(c)}: ${why}`, 'EINVAL');
    if (typeof c !== 'string' || c.length === 0) throw bad('not a non-empty string');
    if (c.includes('\0')) throw bad('contains a NUL byte');
    if (Buffer.byteLength(c, 'utf8') > COMM_NAME_MAX) throw bad(`longer than ${COMM_NAME_MAX} bytes (a task name holds no more)`);
  }
  return unique;
}

/** Validates a filter and packs it for the addon (null stays null: the filter is off). */
export function nativePathFilter(filter: OpenFilterSpec | ChangeFilterSpec | null): NativePathFilter | null {
  if (filter === null) return null;
  const prefixes = validateOpenPathPrefixes(filter.prefixes);
  const suffixes = validatePathSuffixes(filter.suffixes ?? []);
  const comms = validateOpenFilterComms(filter.comms ?? []);
  const needles = validatePathNeedles(filter.needles ?? []);
  const isChange = 'types' in filter;
  const modeMask = 'modeMask' in filter ? filter.modeMask ?? 0 : 0;
  if (!Number.isInteger(modeMask) || modeMask < 0 || modeMask > 0o7777) throw new ProbeError(`invalid change filter mode mask ${modeMask}: bits of 07777 only`, 'EINVAL');
  const types: number[] = [];
  for (const name of isChange ? filter.types : []) {
    const t = eventTypeByName(name);
    if (!t) throw new ProbeError(`unknown event type ${JSON.stringify(name)} in the change filter`, 'EINVAL');
    types.push(t.id);
  }
  return {
    atoms: [
      ...prefixes.map((p) => ({ text: p.prefix, match: p.exact === true ? NATIVE_PATH_MATCH.exact : NATIVE_PATH_MATCH.prefix, writeOnly: p.writeOnly })),
      ...suffixes.map((s) => ({ text: s.suffix, match: NATIVE_PATH_MATCH.suffix, writeOnly: s.writeOnly })),
      ...needles.map((n) => ({ text: n, match: NATIVE_PATH_MATCH.contains, writeOnly: !isChange })),
    ],
    comms,
    types,
    modeMask,
  };
}
