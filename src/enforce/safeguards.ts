/**
 * Who is never killed, in user space (the kernel checks the same list: lib/enforce.h): pid 1, the
 * agent and the processes it started, kernel threads, and the configured protected names.
 */
import { readFileSync } from 'node:fs';
import { COMM_NAME_MAX } from '../probe/layout';
import { PF_KTHREAD } from '../probe/linux';

/** A protected name as the kernel compares it with a comm (at most COMM_NAME_MAX bytes). */
export interface NamePattern {
  readonly name: string;
  /** Compare only the name's bytes: `containerd-shim*`, or a name longer than a comm (which keeps its first 15 bytes). */
  readonly prefix: boolean;
}

function firstBytes(s: string, n: number): string {
  const b = Buffer.from(s);
  return b.length <= n ? s : b.subarray(0, n).toString();
}

/** `name` or `prefix*` as the kernel's comm pattern. */
export function kernelNamePattern(pattern: string): NamePattern {
  if (pattern.endsWith('*')) return { name: firstBytes(pattern.slice(0, -1), COMM_NAME_MAX), prefix: true };
  if (Buffer.byteLength(pattern) > COMM_NAME_MAX) return { name: firstBytes(pattern, COMM_NAME_MAX), prefix: true };
  return { name: pattern, prefix: false };
}

export function matchesName(patterns: readonly NamePattern[], name: string): boolean {
  for (const p of patterns) if (p.prefix ? name.startsWith(p.name) : name === p.name) return true;
  return false;
}

/** Whether /proc says the task is a kernel thread (false when it is gone or unreadable). */
export function isKernelThread(tgid: number, procRoot = '/proc'): boolean {
  try {
    const stat = readFileSync(`${procRoot}/${tgid}/stat`, 'latin1');
    // Fields after the parenthesised comm (which may hold spaces): state is field 3, flags field 9.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[6]) & PF_KTHREAD) !== 0;
  } catch {
    return false;
  }
}

export interface KillTarget {
  readonly tgid: number;
  readonly ptgid: number;
  /** The thread's comm and the process name the rules see (proc.name). */
  readonly comm: string;
  readonly procName: string | undefined;
}

/** Why this process must not be killed, or undefined. */
export function safeguardOf(
  target: KillTarget,
  selfTgids: ReadonlySet<number>,
  protectedNames: readonly NamePattern[],
  kernelThread: (tgid: number) => boolean = isKernelThread,
): string | undefined {
  if (target.tgid <= 1) return 'pid 1';
  if (selfTgids.has(target.tgid)) return 'the agent itself';
  if (selfTgids.has(target.ptgid)) return 'a process the agent started';
  if (matchesName(protectedNames, target.comm) || (target.procName !== undefined && matchesName(protectedNames, target.procName))) {
    return `protected process '${target.procName ?? target.comm}'`;
  }
  if (kernelThread(target.tgid)) return 'a kernel thread';
  return undefined;
}
