/**
 * What the kernel's enforcement check (native/bpf/lib/enforce.h kill_rule_for and kill_decide)
 * decides, written in TypeScript for tests, from the same tables the agent hands the kernel.
 * The end-to-end test (test/e2e/enforce.test.ts) checks the real kernel.
 */
import type { NativeKillTables } from '../../src/probe/native';
import { O_ACCMODE, O_DIRECTORY, O_RDWR, O_WRONLY } from '../../src/probe/linux';
import { eventTypeByName } from '../../src/probe/event-types';

export interface ModelOpen {
  readonly type: 'open' | 'openat' | 'openat2' | 'creat';
  /** fd.name as the record gives it (the path as passed, absolute). */
  readonly path: string;
  readonly flags: number;
  readonly comm: string;
  readonly leaderComm?: string;
}

const KILL_PATH_WINDOW = 256;

/** The paths the kernel judges at all (kill_rule_for's scan). */
export function kernelJudges(path: string): boolean {
  const n = Buffer.byteLength(path) + 1;
  if (n <= 1 || n > KILL_PATH_WINDOW || !path.startsWith('/')) return false;
  return !(path.includes('//') || path.includes('/./') || path.includes('/../') || path.endsWith('/') || path.endsWith('/.') || path.endsWith('/..'));
}

function access(o: ModelOpen): number | 'unknown' {
  if (o.type === 'creat') return 2 | 8;
  if (o.type === 'openat2') return 'unknown';
  const acc = o.flags & O_ACCMODE;
  return (acc === 0 || acc === O_RDWR ? 1 : 0) | (acc === O_WRONLY || acc === O_RDWR ? 2 : 0) | (o.flags & O_DIRECTORY ? 0 : 8);
}

function nameHeld(tables: NativeKillTables, i: number, comm: string): boolean {
  const n = tables.names[i]!;
  const want = Buffer.alloc(16);
  Buffer.from(n.name).copy(want);
  const have = Buffer.alloc(16);
  Buffer.from(comm).subarray(0, 15).copy(have);
  const len = n.prefix ? Buffer.byteLength(n.name) : 16;
  return want.subarray(0, len).equals(have.subarray(0, len));
}

/** The rule slot the kernel kills for, or undefined (before the safeguards and the rate limit). */
export function kernelKillSlot(tables: NativeKillTables | null, o: ModelOpen): number | undefined {
  if (tables === null || !kernelJudges(o.path)) return undefined;
  let held = 0;
  tables.names.forEach((_, i) => {
    if (nameHeld(tables, i, o.comm) || nameHeld(tables, i, o.leaderComm ?? o.comm)) held |= 1 << i;
  });
  const bytes = Buffer.from(o.path);
  const typeBit = 1 << (eventTypeByName(o.type)!.id - eventTypeByName('open')!.id);
  const acc = access(o);
  for (const p of tables.paths) {
    const want = Buffer.from(p.path);
    if (want.length > bytes.length || (p.exact && want.length !== bytes.length)) continue;
    if (!bytes.subarray(0, want.length).equals(want)) continue;
    const r = tables.rules[p.rule]!;
    if (!(r.types & typeBit)) continue;
    if (r.access !== 0 && (acc === 'unknown' || (acc & r.access) !== r.access)) continue;
    if ((r.exempt & held) !== 0) continue;
    return p.rule;
  }
  return undefined;
}
