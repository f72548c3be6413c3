/**
 * What the probe's open filter decides, written in TypeScript for tests: the kernel side is in
 * native/bpf (the open filter program); test/probe/open-filter.test.ts checks this model against
 * the real kernel, and the soundness property test checks the rule-derived filters against it.
 */
import { O_ACCMODE, O_CREAT, O_TRUNC } from '../../src/probe/linux';
import { OPEN_FILTER_WINDOW } from '../../src/probe/layout';
import type { OpenFilter } from '../../src/rules/open-filter';

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
  if (n <= 1 || n > OPEN_FILTER_WINDOW || !path.startsWith('/')) return true;
  return path.includes('//') || path.includes('/./') || path.includes('../') || path.endsWith('/.') || path.endsWith('/..');
}

export function canWrite(open: ModelOpen): boolean {
  if (open.type === 'creat' || open.type === 'openat2') return true;
  return (open.flags & O_ACCMODE) !== 0 || (open.flags & (O_CREAT | O_TRUNC)) !== 0;
}

export function kernelShipsOpen(filter: OpenFilter | null, open: ModelOpen): boolean {
  if (filter === null || unjudgedPath(open.path)) return true;
  const bytes = Buffer.from(open.path);
  const writes = canWrite(open);
  for (const p of filter.prefixes) {
    if (p.writeOnly && !writes) continue;
    const want = Buffer.from(p.prefix);
    if (want.length <= bytes.length && bytes.subarray(0, want.length).equals(want)) return true;
  }
  const names = [open.comm, open.leaderComm ?? open.comm].map((c) => c.slice(0, 15));
  return names.some((c) => filter.comms.includes(c));
}
