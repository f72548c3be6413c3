/**
 * Synchronous /proc readers for the startup seed and for processes first met on an event. Each
 * read is a handful of small files; every failure (the process exited, a kernel thread has no exe)
 * degrades to an empty value rather than an exception, because a racing exit is normal here.
 */
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { AUDIT_UID_UNSET } from '../probe/linux';

export interface ProcSnapshot {
  readonly tgid: number;
  readonly ptgid: number;
  readonly name: string;
  readonly exe: string;
  readonly exePath: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly tty: number;
  readonly sid: number;
  readonly pgid: number;
  readonly vpgid: number;
  readonly vpid: number;
  readonly uid: number;
  readonly gid: number;
  readonly euid: number;
  readonly loginuid: number;
  readonly startNs: number;
  readonly capEffective: bigint;
  readonly capPermitted: bigint;
  readonly pidNs: number;
  readonly mntNs: number;
  readonly env: readonly string[];
  /** Raw /proc/<pid>/cgroup text ('' when unreadable). */
  readonly cgroupText: string;
  readonly exeFromMemfd: boolean;
}

let clockTicks = 0;

/** USER_HZ, the unit of /proc/<pid>/stat times (100 on every mainstream build; asked once). */
export function clockTicksPerSecond(): number {
  if (clockTicks === 0) {
    try {
      clockTicks = Number.parseInt(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim(), 10) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function readLink(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

/**
 * `s` in storage of its own. V8 keeps a substring of 13 or more characters as a slice that pins the
 * whole string it was cut from, so a 64-character id cut from a /proc/<pid>/cgroup text, or a user
 * name cut from a 1 MiB /etc/passwd, would keep that text alive for as long as a cache holds the
 * piece. Use it where a cache keeps a piece of a file; it costs a copy, so not per event.
 */
export function unsliced(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}

/** Reads at most `max` bytes: environ and cmdline can be megabytes. */
export function readBounded(path: string, max: number): Buffer {
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.allocUnsafe(max);
    let total = 0;
    while (total < max) {
      const n = readSync(fd, buf, total, max - total, null);
      if (n <= 0) break;
      total += n;
    }
    return buf.subarray(0, total);
  } catch {
    return Buffer.alloc(0);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** Splits NUL-separated strings; `dropPartialTail` drops a last entry that a bounded read cut short. */
export function splitNul(buf: Buffer, dropPartialTail: boolean): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0) {
      out.push(buf.toString('utf8', start, i));
      start = i + 1;
    }
  }
  if (start < buf.length && !dropPartialTail) out.push(buf.toString('utf8', start));
  return out;
}

function nsInode(link: string): number {
  const open = link.indexOf('[');
  return open < 0 ? 0 : Number.parseInt(link.slice(open + 1), 10) || 0;
}

function lastNumber(line: string | undefined, fallback: number): number {
  if (!line) return fallback;
  const fields = line.trim().split(/\s+/);
  const n = Number.parseInt(fields[fields.length - 1]!, 10);
  return Number.isFinite(n) ? n : fallback;
}

function statusField(status: string, key: string): string | undefined {
  const at = status.indexOf(`\n${key}:`);
  const from = at >= 0 ? at + key.length + 2 : status.startsWith(`${key}:`) ? key.length + 1 : -1;
  if (from < 0) return undefined;
  const end = status.indexOf('\n', from);
  return status.slice(from, end < 0 ? undefined : end);
}

function capField(status: string, key: string): bigint {
  const v = statusField(status, key)?.trim();
  if (!v) return 0n;
  try {
    return BigInt(`0x${v}`);
  } catch {
    return 0n;
  }
}

const ARGV_LIMIT = 16384;

export interface ProcReadOptions {
  readonly procRoot: string;
  readonly maxEnvBytes: number;
}

/** Snapshot of one process from /proc, or undefined when it no longer exists. */
export function readProcess(tgid: number, opts: ProcReadOptions): ProcSnapshot | undefined {
  const dir = `${opts.procRoot}/${tgid}`;
  const stat = readText(`${dir}/stat`);
  if (!stat) return undefined;
  // comm may hold spaces and parentheses: fields restart after the last ')'.
  const close = stat.lastIndexOf(')');
  const name = stat.slice(stat.indexOf('(') + 1, close);
  const f = stat.slice(close + 2).split(' ');
  // f[0] is field 3 (state) of proc(5).
  const ptgid = Number(f[1]);
  const pgid = Number(f[2]);
  const sid = Number(f[3]);
  const tty = Number(f[4]);
  const startTicks = Number(f[19]);
  const status = readText(`${dir}/status`);
  const uids = statusField(status, 'Uid')?.trim().split(/\s+/) ?? [];
  const gids = statusField(status, 'Gid')?.trim().split(/\s+/) ?? [];
  const cmdline = readBounded(`${dir}/cmdline`, ARGV_LIMIT);
  const argv = splitNul(cmdline, false);
  const exePath = readLink(`${dir}/exe`);
  const loginRaw = Number.parseInt(readText(`${dir}/loginuid`), 10);
  let env: string[] = [];
  if (opts.maxEnvBytes > 0) {
    const raw = readBounded(`${dir}/environ`, opts.maxEnvBytes);
    env = splitNul(raw, raw.length >= opts.maxEnvBytes);
  }
  return {
    tgid,
    ptgid,
    name,
    exe: argv[0] ?? '',
    exePath: exePath.endsWith(' (deleted)') ? exePath.slice(0, -' (deleted)'.length) : exePath,
    args: argv.slice(1),
    cwd: readLink(`${dir}/cwd`),
    tty,
    sid,
    pgid,
    vpgid: lastNumber(statusField(status, 'NSpgid'), pgid),
    vpid: lastNumber(statusField(status, 'NSpid'), tgid),
    uid: Number(uids[0] ?? 0),
    euid: Number(uids[1] ?? 0),
    gid: Number(gids[0] ?? 0),
    loginuid: !Number.isFinite(loginRaw) || loginRaw === AUDIT_UID_UNSET ? -1 : loginRaw,
    startNs: Math.round((startTicks * 1e9) / clockTicksPerSecond()),
    capEffective: capField(status, 'CapEff'),
    capPermitted: capField(status, 'CapPrm'),
    pidNs: nsInode(readLink(`${dir}/ns/pid`)),
    mntNs: nsInode(readLink(`${dir}/ns/mnt`)),
    env,
    cgroupText: readText(`${dir}/cgroup`),
    exeFromMemfd: exePath.startsWith('/memfd:'),
  };
}

/** Every thread group id currently in /proc. */
export function listProcesses(procRoot: string): number[] {
  let names: string[];
  try {
    names = readdirSync(procRoot);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const n of names) {
    const c = n.charCodeAt(0);
    if (c >= 48 && c <= 57) out.push(Number(n));
  }
  return out;
}

export function readCgroupText(procRoot: string, tgid: number): string {
  return readText(`${procRoot}/${tgid}/cgroup`);
}

/** The mount point of the cgroup v2 hierarchy (pure v2 or the hybrid `unified` mount). */
export function findCgroup2Mount(procRoot: string): string | undefined {
  const info = readText(`${procRoot}/self/mountinfo`);
  for (const line of info.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    if (line.slice(sep + 3).startsWith('cgroup2 ')) return line.split(' ')[4];
  }
  return undefined;
}
