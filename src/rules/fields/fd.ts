/** The `fd.*` class: the file descriptor the event is about (files, directories, sockets). */
import type { ExtractContext, FieldValue } from '../context';
import { field, nullField, type FieldDef } from './field';

/** One-character fd kind, as `fd.typechar` and rendered fd parameters (`3(<f>/etc/passwd)`) show it. */
export function fdTypeChar(type: string): string {
  switch (type) {
    case 'file':
      return 'f';
    case 'directory':
      return 'd';
    case 'ipv4':
      return '4';
    case 'ipv6':
      return '6';
    case 'unix':
      return 'u';
    case 'pipe':
      return 'p';
    case 'event':
      return 'e';
    case 'signalfd':
      return 's';
    case 'eventpoll':
      return 'l';
    case 'inotify':
      return 'i';
    case 'timerfd':
      return 't';
    case 'netlink':
      return 'n';
    case 'memfd':
      return 'm';
    case 'bpf':
      return 'b';
    case 'userfaultfd':
      return 'r';
    case 'io_uring':
      return 'g';
    case 'pidfd':
      return 'P';
    default:
      return 'o';
  }
}

const isIpType = (t: string): boolean => t === 'ipv4' || t === 'ipv6';
function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** Client, server, local (this process's end) or remote side of a connection. */
type Side = 'c' | 's' | 'l' | 'r';
const SIDES: readonly Side[] = ['c', 's', 'l', 'r'];
const SIDE_NAMES: Record<Side, string> = { c: 'client', s: 'server', l: 'local', r: 'remote' };

/** The fields that name an address by DNS: the names rules compare them with must be resolved. */
export const IP_NAME_FIELDS: ReadonlySet<string> = new Set(SIDES.map((side) => `fd.${side}ip.name`));

function sideIp(c: ExtractContext, side: Side): string | undefined {
  const fd = c.fd();
  if (!fd || !isIpType(fd.type)) return undefined;
  const server = side === 's' || (side === 'l' && fd.isServer) || (side === 'r' && !fd.isServer);
  const ip = server ? fd.serverIp : fd.clientIp;
  return ip || undefined;
}
function sidePort(c: ExtractContext, side: Side): number | undefined {
  const fd = c.fd();
  if (!fd || !isIpType(fd.type)) return undefined;
  const server = side === 's' || (side === 'l' && fd.isServer) || (side === 'r' && !fd.isServer);
  return server ? fd.serverPort : fd.clientPort || undefined;
}
function both<T>(a: T | undefined, b: T | undefined): readonly T[] | undefined {
  if (a === undefined && b === undefined) return undefined;
  return a === undefined ? [b!] : b === undefined ? [a] : [a, b];
}

export const FD_FIELDS: readonly FieldDef[] = [
  field('fd.num', 'int64', 'fd number (-1 when the call failed)', (c) => c.fdNum()),
  field('fd.type', 'string', 'fd kind: file, directory, ipv4, ipv6, unix, pipe, …', (c) => c.fd()?.type),
  field('fd.typechar', 'string', 'fd kind as one char (f, d, 4, 6, u, p, …)', (c) => {
    const fd = c.fd();
    return fd ? fdTypeChar(fd.type) : undefined;
  }),
  field('fd.name', 'string', 'path, or connection tuple for sockets', (c) => c.fd()?.name),
  field('fd.nameraw', 'string', 'path as passed to the syscall', (c) => c.fd()?.nameRaw),
  field('fd.directory', 'string', 'directory of a file fd', (c) => {
    const fd = c.fd();
    if (!fd) return undefined;
    if (fd.type === 'directory') return fd.name;
    return fd.type === 'file' ? dirname(fd.name) : undefined;
  }),
  field('fd.filename', 'string', 'file name of a file fd', (c) => {
    const fd = c.fd();
    if (!fd || (fd.type !== 'file' && fd.type !== 'directory')) return undefined;
    return fd.name.slice(fd.name.lastIndexOf('/') + 1);
  }),
  field('fd.l4proto', 'string', 'tcp, udp, icmp or raw', (c) => {
    const fd = c.fd();
    return fd && isIpType(fd.type) ? fd.l4proto || undefined : undefined;
  }),
  field('fd.sockfamily', 'string', "'ip' or 'unix'", (c) => {
    const fd = c.fd();
    return !fd ? undefined : isIpType(fd.type) ? 'ip' : fd.type === 'unix' ? 'unix' : undefined;
  }),
  field('fd.is_server', 'bool', 'this side accepted the connection', (c) => c.fd()?.isServer),
  field('fd.connected', 'bool', 'socket is connected', (c) => c.fd()?.connected),
  field('fd.name_changed', 'bool', "the event changed the fd's name (not tracked: always false)", (c) => (c.fd() ? false : undefined)),
  field('fd.types', 'strlist', 'types of all fds of the process (not available)', () => undefined, { arg: 'index_opt' }),
  ...SIDES.flatMap((side) => [
    field(`fd.${side}ip`, 'ipaddr', `${SIDE_NAMES[side]} IP address`, (c) => sideIp(c, side)),
    field(`fd.${side}port`, 'port', `${SIDE_NAMES[side]} port`, (c) => sidePort(c, side)),
    field(`fd.${side}net`, 'ipnet', `${SIDE_NAMES[side]} address vs a CIDR (filter-only)`, (c) => sideIp(c, side), { filterOnly: true }),
    // Every watched name of the address: a comparison holds when it holds for one of them.
    field(
      `fd.${side}ip.name`,
      'string',
      `DNS name of the ${SIDE_NAMES[side]} address: the names the rules compare these fields with that resolve to it (resolved in the background)`,
      (c) => {
        const ip = sideIp(c, side);
        const names = ip === undefined ? undefined : c.state.ipNames(ip);
        return names === undefined ? undefined : names.length === 1 ? names[0] : (names as FieldValue);
      },
      { either: true },
    ),
  ]),
  field('fd.ip', 'ipaddr', 'client or server address (filter-only)', (c) => both(sideIp(c, 'c'), sideIp(c, 's')) as FieldValue | undefined, { filterOnly: true, either: true }),
  field('fd.net', 'ipnet', 'client or server address vs a CIDR (filter-only)', (c) => both(sideIp(c, 'c'), sideIp(c, 's')) as FieldValue | undefined, { filterOnly: true, either: true }),
  field('fd.port', 'port', 'client or server port (filter-only)', (c) => both(sidePort(c, 'c'), sidePort(c, 's')) as FieldValue | undefined, { filterOnly: true, either: true }),
  field('fd.uid', 'string', 'unique id of the fd: the thread id followed by the fd number', (c) => {
    const n = c.fdNum();
    return n === undefined || n < 0 ? undefined : `${c.ev.tid}${n}`;
  }),
  field('fd.containername', 'string', 'container id, a colon and fd.name', (c) => {
    const fd = c.fd();
    return fd ? `${c.containerId()}:${fd.name}` : undefined;
  }),
  field('fd.containerdirectory', 'string', 'container id, a colon and fd.directory', (c) => {
    const fd = c.fd();
    if (!fd || (fd.type !== 'file' && fd.type !== 'directory')) return undefined;
    return `${c.containerId()}:${fd.type === 'directory' ? fd.name : dirname(fd.name)}`;
  }),
  nullField('fd.proto', 'port', 'client or server protocol name (filter-only)', 'port numbers are not mapped to service names', { filterOnly: true, either: true }),
  ...SIDES.map((side) => nullField(`fd.${side}proto`, 'string', `${SIDE_NAMES[side]} protocol name`, 'port numbers are not mapped to service names')),
  nullField('fd.dev', 'int32', 'device number of the file', 'the probe does not capture it'),
  nullField('fd.dev.major', 'int32', 'major device number of the file', 'the probe does not capture it'),
  nullField('fd.dev.minor', 'int32', 'minor device number of the file', 'the probe does not capture it'),
  nullField('fd.ino', 'int64', 'inode of the file', 'the probe does not capture it'),
  nullField('fd.is_upper_layer', 'bool', 'file in an overlayfs upper layer', 'the probe does not capture it for fds'),
  nullField('fd.is_lower_layer', 'bool', 'file in an overlayfs lower layer', 'the probe does not capture it for fds'),
];
