/**
 * File descriptors that existed before we started, read from /proc/<pid>/fd (link targets),
 * /proc/<pid>/fdinfo (open flags) and the socket tables of the process's network namespace
 * (/proc/<pid>/net/{tcp,tcp6,udp,udp6,raw,raw6,unix,netlink}, parsed once per namespace).
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { O_CLOEXEC, O_DIRECTORY, TCP_LISTEN } from '../probe/linux';
import { FdEntry } from './fd-table';
import type { FdType } from './types';

export interface SocketRecord {
  readonly type: FdType;
  readonly l4proto: string;
  readonly localIp: string;
  readonly localPort: number;
  readonly remoteIp: string;
  readonly remotePort: number;
  readonly listening: boolean;
  /** unix socket path ('' when unnamed). */
  readonly path: string;
}

/** Socket inode → description, for one network namespace. */
export type SocketTable = Map<number, SocketRecord>;

function hexIpv4(hex: string): string {
  // /proc/net prints the address as one host-order (little-endian) 32-bit word.
  const n = Number.parseInt(hex, 16);
  return `${n & 0xff}.${(n >>> 8) & 0xff}.${(n >>> 16) & 0xff}.${n >>> 24}`;
}

/** RFC 5952 text of 8 16-bit groups (longest run of ≥2 zero groups becomes '::'). */
export function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number, b: number) => groups.slice(a, b).map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

function hexIpv6(hex: string): string {
  // Four host-order 32-bit words.
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    for (let b = 3; b >= 0; b--) bytes.push(Number.parseInt(word.slice(b * 2, b * 2 + 2), 16));
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  return formatIpv6(groups);
}

function parseAddr(text: string, v6: boolean): [string, number] {
  const colon = text.indexOf(':');
  const ip = v6 ? hexIpv6(text.slice(0, colon)) : hexIpv4(text.slice(0, colon));
  return [ip, Number.parseInt(text.slice(colon + 1), 16)];
}

/** Parses one /proc/net/{tcp,udp,raw}[6] table into `into`. */
export function parseInetTable(text: string, l4proto: string, v6: boolean, into: SocketTable): void {
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length < 10) continue;
    const inode = Number(f[9]);
    if (!inode) continue;
    const [localIp, localPort] = parseAddr(f[1]!, v6);
    const [remoteIp, remotePort] = parseAddr(f[2]!, v6);
    const state = Number.parseInt(f[3]!, 16);
    into.set(inode, { type: v6 ? 'ipv6' : 'ipv4', l4proto, localIp, localPort, remoteIp, remotePort, listening: l4proto === 'tcp' && state === TCP_LISTEN, path: '' });
  }
}

export function parseUnixTable(text: string, into: SocketTable): void {
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length < 7) continue;
    const inode = Number(f[6]);
    if (!inode) continue;
    into.set(inode, { type: 'unix', l4proto: '', localIp: '', localPort: 0, remoteIp: '', remotePort: 0, listening: f[5] === '01' && f[3] === '00010000', path: f[7] ?? '' });
  }
}

function parseNetlinkTable(text: string, into: SocketTable): void {
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    const inode = Number(f[f.length - 1]);
    if (f.length >= 10 && inode) into.set(inode, { type: 'netlink', l4proto: '', localIp: '', localPort: 0, remoteIp: '', remotePort: 0, listening: false, path: '' });
  }
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Reads the socket tables as seen from `pid`'s network namespace. */
export function readSocketTable(procRoot: string, pid: number): SocketTable {
  const t: SocketTable = new Map();
  const base = `${procRoot}/${pid}/net`;
  parseInetTable(readOr(`${base}/tcp`), 'tcp', false, t);
  parseInetTable(readOr(`${base}/tcp6`), 'tcp', true, t);
  parseInetTable(readOr(`${base}/udp`), 'udp', false, t);
  parseInetTable(readOr(`${base}/udp6`), 'udp', true, t);
  parseInetTable(readOr(`${base}/raw`), 'raw', false, t);
  parseInetTable(readOr(`${base}/raw6`), 'raw', true, t);
  parseUnixTable(readOr(`${base}/unix`), t);
  parseNetlinkTable(readOr(`${base}/netlink`), t);
  return t;
}

const ANON_TYPES: Readonly<Record<string, FdType>> = {
  '[eventfd]': 'event',
  '[eventpoll]': 'eventpoll',
  inotify: 'inotify',
  '[signalfd]': 'signalfd',
  '[timerfd]': 'timerfd',
  '[userfaultfd]': 'userfaultfd',
  '[io_uring]': 'io_uring',
  '[pidfd]': 'pidfd',
  'bpf-map': 'bpf',
  'bpf-prog': 'bpf',
  bpf_link: 'bpf',
  'bpf-link': 'bpf',
};

/** An fd entry from a /proc link target (and the socket table for sockets). */
export function fdFromLink(
  num: number,
  link: string,
  flags: number,
  sockets: () => SocketTable,
  listeningPorts: () => ReadonlySet<number>,
  isDirectory: () => boolean = () => false,
): FdEntry {
  const cloexec = (flags & O_CLOEXEC) !== 0;
  if (link.startsWith('/memfd:')) {
    const name = link.slice('/memfd:'.length).replace(/ \(deleted\)$/, '');
    return new FdEntry(num, 'memfd', `memfd:${name}`, name, '', flags, cloexec);
  }
  if (link.startsWith('/')) {
    const path = link.endsWith(' (deleted)') ? link.slice(0, -' (deleted)'.length) : link;
    return new FdEntry(num, (flags & O_DIRECTORY) !== 0 || isDirectory() ? 'directory' : 'file', path, path, '', flags, cloexec);
  }
  if (link.startsWith('pipe:')) return new FdEntry(num, 'pipe', '', '', '', flags, cloexec);
  if (link.startsWith('anon_inode:')) return new FdEntry(num, ANON_TYPES[link.slice('anon_inode:'.length)] ?? 'unknown', '', '', '', flags, cloexec);
  if (link.startsWith('socket:[')) {
    const rec = sockets().get(Number(link.slice(8, -1)));
    if (rec === undefined) return new FdEntry(num, 'unknown', '', '', '', 0, cloexec);
    const e = new FdEntry(num, rec.type, '', '', rec.l4proto, 0, cloexec);
    if (rec.type === 'unix') {
      e.name = rec.path;
    } else if (rec.type === 'ipv4' || rec.type === 'ipv6') {
      e.boundIp = rec.localIp;
      e.boundPort = rec.localPort;
      if (rec.listening || rec.remotePort === 0) {
        e.serverIp = rec.localIp;
        e.serverPort = rec.localPort;
        e.name = `${rec.localIp}:${rec.localPort}`;
      } else if (rec.l4proto === 'tcp' && listeningPorts().has(rec.localPort)) {
        e.setTuple(rec.remoteIp, rec.remotePort, rec.localIp, rec.localPort, true);
        e.connected = true;
      } else {
        e.setTuple(rec.localIp, rec.localPort, rec.remoteIp, rec.remotePort, false);
        e.connected = true;
      }
    }
    return e;
  }
  return new FdEntry(num, 'unknown', link, link, '', 0, cloexec);
}

/** Listening TCP ports of a socket table (to tell accepted connections from outgoing ones). */
export function listeningPortsOf(t: SocketTable): Set<number> {
  const out = new Set<number>();
  for (const r of t.values()) if (r.listening) out.add(r.localPort);
  return out;
}

function fdinfoFlags(path: string): number {
  const text = readOr(path);
  const m = /^flags:\s*([0-7]+)/m.exec(text);
  return m ? Number.parseInt(m[1]!, 8) : 0;
}

export interface ProcFdReader {
  /** Entries for the fds of `pid`, at most `max`. */
  read(pid: number, max: number): FdEntry[];
}

/** One reader per seed: socket tables are cached per network namespace for its duration. */
export function createProcFdReader(procRoot: string): ProcFdReader {
  const tables = new Map<number, { sockets: SocketTable; listening: Set<number> | undefined }>();
  return {
    read(pid: number, max: number): FdEntry[] {
      let names: string[];
      try {
        names = readdirSync(`${procRoot}/${pid}/fd`);
      } catch {
        return [];
      }
      let netNs = -1;
      const table = () => {
        if (netNs < 0) {
          try {
            netNs = Number(statSync(`${procRoot}/${pid}/ns/net`).ino);
          } catch {
            netNs = 0;
          }
        }
        let t = tables.get(netNs);
        if (t === undefined) {
          t = { sockets: readSocketTable(procRoot, pid), listening: undefined };
          tables.set(netNs, t);
        }
        return t;
      };
      const out: FdEntry[] = [];
      for (const n of names) {
        if (out.length >= max) break;
        const num = Number(n);
        let link: string;
        try {
          link = readlinkSync(`${procRoot}/${pid}/fd/${n}`);
        } catch {
          continue;
        }
        // Flags matter for every kind of fd: close-on-exec decides what survives the next exec.
        const flags = fdinfoFlags(`${procRoot}/${pid}/fdinfo/${n}`);
        out.push(
          fdFromLink(
            num,
            link,
            flags,
            () => table().sockets,
            () => {
              const t = table();
              t.listening ??= listeningPortsOf(t.sockets);
              return t.listening;
            },
            // A directory opened without O_DIRECTORY (`exec 3<dir`) only shows in its mode.
            () => {
              try {
                return statSync(`${procRoot}/${pid}/fd/${n}`).isDirectory();
              } catch {
                return false;
              }
            },
          ),
        );
      }
      return out;
    },
  };
}
