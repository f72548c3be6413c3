/**
 * What the probe's path filters decide, written in TypeScript for tests: the kernel side is in
 * native/bpf/lib/path_filter.h; test/probe/open-filter.test.ts checks this model against
 * the real kernel, and the soundness property test checks the rule-derived filters against it.
 */
import { O_ACCMODE, O_CREAT, O_TRUNC } from '../../src/probe/linux';
import { PATH_FILTER_WINDOW } from '../../src/probe/layout';
import type { ChangeFilter, OpenFilter } from '../../src/rules/open-filter';

export interface ModelOpen {
  readonly type: 'open' | 'openat' | 'openat2' | 'creat';
  /** The path as the program passed it. */
  readonly path: string;
  readonly flags: number;
  /** The calling thread's comm and its thread group leader's. */
  readonly comm: string;
  readonly leaderComm?: string;
}

/** Paths the kernel cannot judge byte by byte: they always ship. */
export function unjudgedPath(path: string): boolean {
  const n = Buffer.byteLength(path) + 1;
  if (n <= 1 || n > PATH_FILTER_WINDOW || !path.startsWith('/')) return true;
  return path.includes('//') || path.includes('/./') || path.includes('../') || path.endsWith('/.') || path.endsWith('/..');
}

export function canWrite(open: ModelOpen): boolean {
  if (open.type === 'creat' || open.type === 'openat2') return true;
  return (open.flags & O_ACCMODE) !== 0 || (open.flags & (O_CREAT | O_TRUNC)) !== 0;
}

/** Whether a judged path matches one of the atoms (an open that cannot write skips write-only ones). */
function atomsMatch(filter: OpenFilter, path: string, writes: boolean): boolean {
  const bytes = Buffer.from(path);
  for (const p of filter.prefixes) {
    if (p.writeOnly && !writes) continue;
    const want = Buffer.from(p.prefix);
    if (p.exact === true ? bytes.equals(want) : want.length <= bytes.length && bytes.subarray(0, want.length).equals(want)) return true;
  }
  for (const x of filter.suffixes) {
    if (x.writeOnly && !writes) continue;
    const want = Buffer.from(x.suffix);
    if (want.length <= bytes.length && bytes.subarray(bytes.length - want.length).equals(want)) return true;
  }
  return false;
}

function named(filter: OpenFilter, comm: string, leaderComm: string | undefined): boolean {
  return [comm, leaderComm ?? comm].map((c) => c.slice(0, 15)).some((c) => filter.comms.includes(c));
}

export function kernelShipsOpen(filter: OpenFilter | null, open: ModelOpen): boolean {
  if (filter === null || unjudgedPath(open.path)) return true;
  const writes = canWrite(open);
  return atomsMatch(filter, open.path, writes) || (writes && filter.needles.some((n) => open.path.includes(n))) || named(filter, open.comm, open.leaderComm);
}

export interface ModelChange {
  readonly type: string;
  /** The call's paths as passed (one, or two for link, symlink and rename). */
  readonly paths: readonly string[];
  readonly comm: string;
  /** The mode argument of chmod, fchmodat, mkdir and mkdirat. */
  readonly mode?: number;
}

/** The change filter: a type it does not judge ships; a judged call ships when one of its paths does. */
export function kernelShipsChange(filter: ChangeFilter | null, change: ModelChange): boolean {
  if (filter === null || !filter.types.includes(change.type)) return true;
  if (((change.mode ?? 0) & filter.modeMask & 0o7777) !== 0) return true;
  if (change.paths.some((p) => unjudgedPath(p) || atomsMatch(filter, p, true) || filter.needles.some((n) => p.includes(n)))) return true;
  return named(filter, change.comm, undefined);
}
