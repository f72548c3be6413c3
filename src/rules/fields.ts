/**
 * The field catalogue: every field a condition or output may name, its type, argument form and
 * extractor. Extractors read the event through `EventView` and state through `StateReader` only
 * (via `ExtractContext`), and return undefined when the value cannot be extracted (Falco's
 * "not extractable": every comparison false).
 */
import type { ParamSpec } from '../probe/event';
import { EVENT_TYPES } from '../probe/event-types';
import type { ProcessInfo } from '../state/types';
import { ExtractContext, isOpenFamily, modeArg, openFlagsArg, type FieldValue } from './context';
import { renderCapabilities, renderNumericParam, renderResult } from './render';

export type FieldType = 'string' | 'int64' | 'uint64' | 'uint32' | 'port' | 'bool' | 'ipaddr' | 'ipnet' | 'reltime' | 'abstime' | 'bytebuf' | 'strlist';

/** `none`: no brackets allowed; `index`/`key`: required; `*_opt`: optional. */
export type FieldArgForm = 'none' | 'index' | 'key' | 'index_opt' | 'key_opt';

export type Extractor = (c: ExtractContext) => FieldValue | undefined;

export interface FieldInfo {
  readonly name: string;
  readonly type: FieldType;
  readonly description: string;
  readonly arg: FieldArgForm;
  /** Cannot be printed in outputs (e.g. `fd.net`, bare `proc.aname`). */
  readonly filterOnly: boolean;
  readonly deprecated: boolean;
  /** The comparison holds if it holds for any of the values (`fd.ip` = client or server). */
  readonly either: boolean;
}

export interface FieldDef extends FieldInfo {
  /** Extractor for a given bracket argument (validated against `arg`). */
  make(arg: string | undefined): Extractor | string;
  /** Ancestor fields: the value for one process, used for `[N]` and the any-ancestor form. */
  readonly ofProcess?: (p: ProcessInfo, c: ExtractContext) => FieldValue | undefined;
  /** Text form for outputs when it differs from String(value) (times). */
  readonly text?: (v: FieldValue) => string;
}

const NUMERIC: ReadonlySet<FieldType> = new Set(['int64', 'uint64', 'uint32', 'port', 'reltime', 'abstime']);
export function isNumericType(t: FieldType): boolean {
  return NUMERIC.has(t);
}

interface DefOpts {
  arg?: FieldArgForm;
  filterOnly?: boolean;
  deprecated?: boolean;
  either?: boolean;
  text?: (v: FieldValue) => string;
}

const catalogue = new Map<string, FieldDef>();

function def(name: string, type: FieldType, description: string, extract: Extractor, opts: DefOpts = {}): void {
  defArg(name, type, description, () => extract, opts);
}

/** A field whose extractor depends on its bracket argument; returning a string reports an error. */
function defArg(name: string, type: FieldType, description: string, make: (arg: string | undefined) => Extractor | string, opts: DefOpts = {}): void {
  const arg = opts.arg ?? 'none';
  catalogue.set(name, {
    name,
    type,
    description,
    arg,
    filterOnly: opts.filterOnly ?? false,
    deprecated: opts.deprecated ?? false,
    either: opts.either ?? false,
    make,
    ...(opts.text ? { text: opts.text } : {}),
  });
}

// ---------------------------------------------------------------------------------------------
// Time rendering (UTC).

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}
function splitNs(v: FieldValue): { d: Date; frac: string } {
  const ns = typeof v === 'bigint' ? v : BigInt(v as number);
  const ms = Number(ns / 1_000_000n);
  return { d: new Date(ms), frac: pad(Number(ns % 1_000_000_000n), 9) };
}
export function timeOfDay(v: FieldValue): string {
  const { d, frac } = splitNs(v);
  return `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${frac}`;
}
export function isoTime(v: FieldValue): string {
  const { d, frac } = splitNs(v);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${frac}Z`;
}
function dateTime(v: FieldValue): string {
  return isoTime(v).replace('T', ' ').replace('Z', '');
}

const evtTime = (c: ExtractContext): bigint => BigInt(Math.trunc(c.ev.tsNs)) + c.bootOffsetNs;

// ---------------------------------------------------------------------------------------------
// Event parameters.

/** For each parameter name, its spec per event type id (undefined where the event lacks it). */
const paramsByName = new Map<string, (ParamSpec | undefined)[]>();
for (const t of EVENT_TYPES) {
  for (const p of t.params) {
    let row = paramsByName.get(p.name);
    if (!row) paramsByName.set(p.name, (row = new Array<ParamSpec | undefined>(EVENT_TYPES.length).fill(undefined)));
    row[t.id] = p;
  }
}

const NUMERIC_PARAM_KINDS = new Set(['errno', 'fd', 'pid', 'uid', 'gid', 'int', 'uint']);

function paramRaw(c: ExtractContext, p: ParamSpec): number | string | undefined {
  const ev = c.ev;
  switch (p.source.from) {
    case 'ret':
      return ev.ret;
    case 'arg':
      return ev.rawArg(p.source.index);
    case 'str':
      return ev.str(p.source.slot);
    case 'sockaddr': {
      const sa = ev.sockaddr();
      return sa ? (sa.family === 'unix' ? sa.address : `${sa.address}:${sa.port}`) : undefined;
    }
    case 'exe_flags':
      return ev.exeFlags();
  }
}

function fdTypeChar(type: string): string {
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
    default:
      return 'o';
  }
}

function renderParam(c: ExtractContext, p: ParamSpec): string | undefined {
  const raw = paramRaw(c, p);
  if (raw === undefined) return undefined;
  if (typeof raw === 'string') {
    if (p.kind === 'sockaddr') {
      const fd = c.fd();
      return fd && fd.name ? fd.name : raw;
    }
    return raw;
  }
  switch (p.kind) {
    case 'fd': {
      if (raw === -100) return '-100(AT_FDCWD)';
      if (raw < 0) return p.source.from === 'ret' ? renderNumericParam('errno', raw) : String(raw);
      const fd = c.state.fd(c.ev.tgid, raw);
      return fd ? `${raw}(<${fdTypeChar(fd.type)}>${fd.name})` : String(raw);
    }
    case 'uid': {
      const name = c.state.userName(raw, c.containerId());
      return name ?? (raw === 0 ? 'root' : String(raw));
    }
    case 'gid': {
      const name = c.state.groupName(raw, c.containerId());
      return name ?? (raw === 0 ? 'root' : String(raw));
    }
    case 'cap_set':
      return renderCapabilities(BigInt(raw));
    case 'pid':
    case 'int':
    case 'uint':
    case 'path':
    case 'string':
      return String(raw);
    default:
      return renderNumericParam(p.kind, raw);
  }
}

function paramExtractor(row: readonly (ParamSpec | undefined)[], raw: boolean): Extractor {
  return (c) => {
    const p = row[c.ev.typeId];
    if (p === undefined) return undefined;
    return raw ? paramRaw(c, p) : renderParam(c, p);
  };
}

/** `name=value name=value` over the event's parameters, as Falco's evt.args. */
function renderArgs(c: ExtractContext): string {
  const t = EVENT_TYPES[c.ev.typeId];
  if (!t) return '';
  let out = '';
  for (const p of t.params) {
    const v = renderParam(c, p);
    if (v === undefined) continue;
    out += out ? ` ${p.name}=${v}` : `${p.name}=${v}`;
  }
  return out;
}

/** Resolves `evt.arg.<name>`, `evt.rawarg.<name>`, `evt.arg[i|name]`; undefined if no such parameter. */
function paramField(name: string, arg: string | undefined): FieldDef | undefined {
  let raw = false;
  let pname: string | undefined;
  if (name.startsWith('evt.arg.')) pname = name.slice(8);
  else if (name.startsWith('evt.rawarg.')) {
    pname = name.slice(11);
    raw = true;
  } else if ((name === 'evt.arg' || name === 'evt.rawarg') && arg !== undefined && !/^\d+$/.test(arg)) {
    pname = arg;
    raw = name === 'evt.rawarg';
  }
  if (pname === undefined) return undefined;
  const row = paramsByName.get(pname);
  if (!row) return undefined;
  const numeric = raw && row.every((p) => p === undefined || NUMERIC_PARAM_KINDS.has(p.kind) || (p.kind !== 'path' && p.kind !== 'string' && p.kind !== 'sockaddr'));
  const extract = paramExtractor(row, raw);
  return {
    name,
    type: numeric ? 'int64' : 'string',
    description: raw ? `raw value of the '${pname}' parameter` : `the '${pname}' parameter rendered as text`,
    arg: arg === undefined ? 'none' : 'key',
    filterOnly: false,
    deprecated: false,
    either: false,
    make: () => extract,
  };
}

// ---------------------------------------------------------------------------------------------
// Event fields.

def('evt.num', 'uint64', 'event sequence number', (c) => c.evtNum);
def('evt.time', 'abstime', 'event timestamp (text: time of day with ns)', evtTime, { text: timeOfDay });
def('evt.time.s', 'string', 'event time of day, seconds precision', (c) => timeOfDay(evtTime(c)).slice(0, 8));
def('evt.time.iso8601', 'string', 'event timestamp as ISO 8601 with ns', (c) => isoTime(evtTime(c)));
def('evt.datetime', 'string', 'event date and time with ns', (c) => dateTime(evtTime(c)));
def('evt.rawtime', 'abstime', 'event timestamp in ns since the epoch', evtTime);
def('evt.reltime', 'reltime', 'event time relative to boot (ns)', (c) => c.ev.tsNs);
def('evt.type', 'string', "event name, e.g. 'execve'", (c) => EVENT_TYPES[c.ev.typeId]?.name);
def('evt.cpu', 'uint32', 'CPU the event happened on', (c) => c.ev.cpu);
def('evt.dir', 'string', "deprecated: always '<' (exit events only)", () => '<', { deprecated: true });
def('evt.latency', 'reltime', 'deprecated: always 0', () => 0, { deprecated: true });
def('evt.res', 'string', "'SUCCESS' or the errno name", (c) => (EVENT_TYPES[c.ev.typeId]?.category === 'syscall' ? renderResult(c.ev.ret) : undefined));
def('evt.rawres', 'int64', 'raw return value (negative errno on failure)', (c) => (EVENT_TYPES[c.ev.typeId]?.category === 'syscall' ? c.ev.ret : undefined));
def('evt.failed', 'bool', 'the syscall returned an error', (c) => c.ev.ret < 0);
def('evt.source', 'string', "event source, 'syscall'", () => 'syscall');
def('evt.hostname', 'string', 'host name of the node', (c) => c.hostname);
def('evt.pluginname', 'string', 'plugin that produced the event (never set for syscalls)', () => undefined);
def('evt.args', 'string', 'all parameters as name=value text', renderArgs);
def('evt.buffer', 'bytebuf', 'I/O payload (not captured by Lanner)', () => undefined);
def('evt.is_open_read', 'bool', 'open family: opened for reading', (c) => {
  const i = openFlagsArg[c.ev.typeId]!;
  if (i < 0) return false;
  const acc = c.ev.rawArg(i) & 3;
  return acc === 0 || acc === 2;
});
def('evt.is_open_write', 'bool', 'open family: opened for writing', (c) => {
  const id = c.ev.typeId;
  if (!isOpenFamily[id]) return false;
  const i = openFlagsArg[id]!;
  if (i < 0) return true; // creat() always writes
  const acc = c.ev.rawArg(i) & 3;
  return acc === 1 || acc === 2;
});
def('evt.is_open_exec', 'bool', 'open family: created a file with an execute bit', (c) => {
  const id = c.ev.typeId;
  if (!isOpenFamily[id]) return false;
  const fi = openFlagsArg[id]!;
  const creating = fi < 0 || (c.ev.rawArg(fi) & 0o100) !== 0;
  const mi = modeArg[id]!;
  return creating && mi >= 0 && (c.ev.rawArg(mi) & 0o111) !== 0;
});
// `evt.arg` / `evt.rawarg` with a bracket: position or name.
defArg(
  'evt.arg',
  'string',
  'parameter by position [i] or name [name], as text',
  (arg) => {
    if (arg === undefined) return 'evt.arg needs [index] or .name';
    const i = Number(arg);
    return (c) => {
      const p = EVENT_TYPES[c.ev.typeId]?.params[i];
      return p ? renderParam(c, p) : undefined;
    };
  },
  { arg: 'index' },
);
defArg(
  'evt.rawarg',
  'int64',
  'raw parameter by position [i] (numbers)',
  (arg) => {
    if (arg === undefined) return 'evt.rawarg needs [index] or .name';
    const i = Number(arg);
    return (c) => {
      const p = EVENT_TYPES[c.ev.typeId]?.params[i];
      if (!p) return undefined;
      const v = paramRaw(c, p);
      return typeof v === 'number' ? v : undefined;
    };
  },
  { arg: 'index' },
);

// ---------------------------------------------------------------------------------------------
// Process and thread.

function argsText(p: ProcessInfo): string {
  return p.args.join(' ');
}
function cmdline(p: ProcessInfo): string {
  return p.args.length ? `${p.name} ${argsText(p)}` : p.name;
}
function envValue(env: readonly string[], key: string): string | undefined {
  const prefix = key + '=';
  for (const e of env) if (e.startsWith(prefix)) return e.slice(prefix.length);
  return undefined;
}

def('proc.pid', 'int64', 'process id (tgid)', (c) => c.ev.tgid);
def('proc.vpid', 'int64', 'pid inside its pid namespace', (c) => c.process()?.vpid ?? c.ev.vpid);
def('proc.ppid', 'int64', "parent's pid", (c) => c.parentTgid() || undefined);
def('proc.name', 'string', 'process name (comm)', (c) => c.process()?.name ?? c.ev.comm());
def('proc.exe', 'string', 'argv[0]', (c) => c.process()?.exe ?? c.ev.argv()?.[0]);
def('proc.exepath', 'string', 'full executable path', (c) => c.process()?.exePath ?? c.ev.exePath());
def('proc.args', 'string', 'arguments without argv[0], space-joined', (c) => {
  const p = c.process();
  if (p) return argsText(p);
  const argv = c.ev.argv();
  return argv ? argv.slice(1).join(' ') : undefined;
});
def('proc.cmdnargs', 'uint64', 'number of arguments', (c) => c.process()?.args.length);
def('proc.cmdlenargs', 'uint64', 'total length of the arguments', (c) => {
  const p = c.process();
  return p ? p.args.reduce((n, a) => n + a.length, 0) : undefined;
});
def('proc.cmdline', 'string', 'proc.name + proc.args', (c) => {
  const p = c.process();
  return p ? cmdline(p) : undefined;
});
def('proc.cwd', 'string', 'current working directory', (c) => c.process()?.cwd || c.ev.cwd());
def('proc.tty', 'uint32', 'controlling terminal (0 = none)', (c) => c.process()?.tty ?? c.ev.tty);
def('proc.sid', 'int64', 'session id', (c) => c.process()?.sid);
def('proc.sname', 'string', 'name of the session leader', (c) => {
  const p = c.process();
  return p ? c.state.process(p.sid)?.name : undefined;
});
def('proc.is_sid_leader', 'bool', 'process leads its session', (c) => {
  const p = c.process();
  return p ? p.sid === p.tgid : undefined;
});
def('proc.vpgid', 'int64', 'process group id inside the pid namespace', (c) => c.process()?.vpgid);
/** The process group leader: self, else the nearest ancestor in the same pid namespace whose vpid is the vpgid. */
function vpgidLeader(c: ExtractContext): ProcessInfo | undefined {
  const p = c.process();
  if (!p) return undefined;
  if (p.vpgid === p.vpid) return p;
  for (let level = 1, a = c.ancestor(1); a !== undefined && level < 32; a = c.ancestor(++level)) {
    if (a.pidNs === p.pidNs && a.vpid === p.vpgid) return a;
  }
  return undefined;
}
def('proc.vpgid.name', 'string', 'name of the process group leader', (c) => vpgidLeader(c)?.name);
def('proc.vpgid.exe', 'string', 'proc.exe of the process group leader', (c) => vpgidLeader(c)?.exe);
def('proc.is_vpgid_leader', 'bool', 'process leads its process group', (c) => {
  const p = c.process();
  return p ? p.vpgid === p.vpid : undefined;
});
defArg('proc.env', 'string', 'environment (K=V …), or one variable with [K]', (arg) => (c) => {
  const env = c.process()?.env ?? c.ev.env();
  if (!env) return undefined;
  return arg === undefined ? env.join(' ') : envValue(env, arg);
}, { arg: 'key_opt' });
def('proc.duration', 'reltime', 'ns since the process started', (c) => {
  const p = c.process();
  return p && p.startNs > 0 ? c.ev.tsNs - p.startNs : undefined;
});
def('proc.ppid.duration', 'reltime', "ns since the parent started", (c) => {
  const p = c.parent();
  return p && p.startNs > 0 ? c.ev.tsNs - p.startNs : undefined;
});
def('proc.exe_ino.ctime', 'abstime', 'ctime of the executable inode', (c) => {
  const v = c.process()?.exeCtimeNs;
  return v ? v : undefined;
});
def('proc.exe_ino.mtime', 'abstime', 'mtime of the executable inode', (c) => {
  const v = c.process()?.exeMtimeNs;
  return v ? v : undefined;
});
def('proc.exe_ino.ctime_duration_proc_start', 'abstime', 'ns between exe inode ctime and process start', (c) => {
  const p = c.process();
  if (!p || !p.exeCtimeNs || p.startNs <= 0) return undefined;
  return BigInt(Math.trunc(p.startNs)) + c.bootOffsetNs - p.exeCtimeNs;
});
def('proc.is_exe_writable', 'bool', 'executable is writable by the process user', (c) => c.process()?.exeWritable ?? (c.ev.exeFlags() & 1) !== 0);
def('proc.is_exe_upper_layer', 'bool', 'executable in the overlayfs upper layer', (c) => c.process()?.exeUpperLayer ?? (c.ev.exeFlags() & 2) !== 0);
def('proc.is_exe_from_memfd', 'bool', 'executable is a memfd', (c) => c.process()?.exeFromMemfd ?? (c.ev.exeFlags() & 4) !== 0);
def('proc.pname', 'string', "parent's proc.name", (c) => c.parent()?.name);
def('proc.pexe', 'string', "parent's proc.exe", (c) => c.parent()?.exe);
def('proc.pexepath', 'string', "parent's proc.exepath", (c) => c.parent()?.exePath);
def('proc.pcmdline', 'string', "parent's proc.cmdline", (c) => {
  const p = c.parent();
  return p ? cmdline(p) : undefined;
});

function ancestorDef(name: string, type: FieldType, description: string, ofProcess: (p: ProcessInfo) => FieldValue | undefined): void {
  catalogue.set(name, {
    name,
    type,
    description: `${description} of ancestor [N] (0 = self); without [N], filter-only: any ancestor`,
    arg: 'index_opt',
    filterOnly: false,
    deprecated: false,
    either: false,
    ofProcess,
    make(arg) {
      if (arg === undefined) return () => undefined; // the compiler handles the any-ancestor form
      const level = Number(arg);
      return (c) => {
        const p = c.ancestor(level);
        return p ? ofProcess(p) : undefined;
      };
    },
  });
}
ancestorDef('proc.aname', 'string', 'proc.name', (p) => p.name);
ancestorDef('proc.apid', 'int64', 'pid', (p) => p.tgid);
ancestorDef('proc.aexe', 'string', 'proc.exe', (p) => p.exe);
ancestorDef('proc.aexepath', 'string', 'proc.exepath', (p) => p.exePath);
ancestorDef('proc.acmdline', 'string', 'proc.cmdline', cmdline);
ancestorDef('proc.aenv', 'string', 'proc.env', (p) => p.env.join(' '));

def('thread.tid', 'int64', 'thread id', (c) => c.ev.tid);
def('thread.cap_effective', 'string', 'effective capabilities as names', (c) => renderCapabilities(c.ev.capEffective() || c.process()?.capEffective || 0n));
def('thread.cap_permitted', 'string', 'permitted capabilities as names', (c) => renderCapabilities(c.ev.capPermitted() || c.process()?.capPermitted || 0n));

// ---------------------------------------------------------------------------------------------
// User and group.

def('user.uid', 'uint32', 'effective user id', (c) => c.ev.euid);
def('user.name', 'string', 'user name of the effective uid', (c) => c.state.userName(c.ev.euid, c.containerId()) ?? (c.ev.euid === 0 ? 'root' : undefined));
def('user.loginuid', 'int64', 'audit login uid (-1 when unset)', (c) => c.ev.loginuid);
def('user.loginname', 'string', 'user name of the login uid', (c) => (c.ev.loginuid >= 0 ? c.state.userName(c.ev.loginuid, c.containerId()) : undefined));
def('group.gid', 'uint32', 'group id', (c) => c.ev.egid);
def('group.name', 'string', 'group name', (c) => c.state.groupName(c.ev.egid, c.containerId()) ?? (c.ev.egid === 0 ? 'root' : undefined));

// ---------------------------------------------------------------------------------------------
// File descriptors.

const isIpType = (t: string): boolean => t === 'ipv4' || t === 'ipv6';
function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

def('fd.num', 'int64', 'fd number (-1 when the call failed)', (c) => c.fdNum());
def('fd.type', 'string', "fd kind: file, directory, ipv4, ipv6, unix, pipe, …", (c) => c.fd()?.type);
def('fd.typechar', 'string', 'fd kind as one char (f, d, 4, 6, u, p, …)', (c) => {
  const fd = c.fd();
  return fd ? fdTypeChar(fd.type) : undefined;
});
def('fd.name', 'string', 'path, or connection tuple for sockets', (c) => c.fd()?.name);
def('fd.nameraw', 'string', 'path as passed to the syscall', (c) => c.fd()?.nameRaw);
def('fd.directory', 'string', 'directory of a file fd', (c) => {
  const fd = c.fd();
  if (!fd) return undefined;
  if (fd.type === 'directory') return fd.name;
  return fd.type === 'file' ? dirname(fd.name) : undefined;
});
def('fd.filename', 'string', 'file name of a file fd', (c) => {
  const fd = c.fd();
  if (!fd || (fd.type !== 'file' && fd.type !== 'directory')) return undefined;
  return fd.name.slice(fd.name.lastIndexOf('/') + 1);
});
def('fd.l4proto', 'string', 'tcp, udp, icmp or raw', (c) => {
  const fd = c.fd();
  return fd && isIpType(fd.type) ? fd.l4proto || undefined : undefined;
});
def('fd.sockfamily', 'string', "'ip' or 'unix'", (c) => {
  const fd = c.fd();
  return !fd ? undefined : isIpType(fd.type) ? 'ip' : fd.type === 'unix' ? 'unix' : undefined;
});
def('fd.is_server', 'bool', 'this side accepted the connection', (c) => c.fd()?.isServer);
def('fd.connected', 'bool', 'socket is connected', (c) => c.fd()?.connected);
def('fd.name_changed', 'bool', "the event changed the fd's name (not tracked: always false)", (c) => (c.fd() ? false : undefined));
def('fd.types', 'strlist', 'types of all fds of the process (not available)', () => undefined, { arg: 'index_opt' });

type Side = 'c' | 's' | 'l' | 'r';
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
const SIDE_NAMES: Record<Side, string> = { c: 'client', s: 'server', l: 'local', r: 'remote' };
for (const side of ['c', 's', 'l', 'r'] as const) {
  def(`fd.${side}ip`, 'ipaddr', `${SIDE_NAMES[side]} IP address`, (c) => sideIp(c, side));
  def(`fd.${side}port`, 'port', `${SIDE_NAMES[side]} port`, (c) => sidePort(c, side));
  def(`fd.${side}net`, 'ipnet', `${SIDE_NAMES[side]} address vs a CIDR (filter-only)`, (c) => sideIp(c, side), { filterOnly: true });
  def(`fd.${side}ip.name`, 'string', `DNS name of the ${SIDE_NAMES[side]} address (not resolved: not extractable)`, () => undefined);
}
function both<T>(a: T | undefined, b: T | undefined): readonly T[] | undefined {
  if (a === undefined && b === undefined) return undefined;
  return a === undefined ? [b!] : b === undefined ? [a] : [a, b];
}
def('fd.ip', 'ipaddr', 'client or server address (filter-only)', (c) => both(sideIp(c, 'c'), sideIp(c, 's')) as FieldValue | undefined, { filterOnly: true, either: true });
def('fd.net', 'ipnet', 'client or server address vs a CIDR (filter-only)', (c) => both(sideIp(c, 'c'), sideIp(c, 's')) as FieldValue | undefined, { filterOnly: true, either: true });
def('fd.port', 'port', 'client or server port (filter-only)', (c) => both(sidePort(c, 'c'), sidePort(c, 's')) as FieldValue | undefined, { filterOnly: true, either: true });

// ---------------------------------------------------------------------------------------------
// Containers and Kubernetes.

function globToRegExp(glob: string): RegExp {
  let re = '^';
  for (const ch of glob) re += ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  return new RegExp(re + '$');
}

def('container.id', 'string', "12-char container id, 'host' for host processes", (c) => c.containerId() || undefined);
def('container.full_id', 'string', 'full container id', (c) => (c.containerId() === 'host' ? 'host' : c.container()?.fullId));
def('container.name', 'string', "container name ('host' for host processes)", (c) => (c.containerId() === 'host' ? 'host' : c.container()?.name));
def('container.image', 'string', 'image reference', (c) => c.container()?.image);
def('container.image.repository', 'string', 'image repository', (c) => c.container()?.imageRepository);
def('container.image.tag', 'string', 'image tag', (c) => c.container()?.imageTag);
def('container.image.digest', 'string', 'image digest', (c) => c.container()?.imageDigest);
def('container.type', 'string', 'container runtime', (c) => (c.containerId() === 'host' ? 'host' : c.container()?.runtime));
def('container.privileged', 'bool', 'container runs privileged', (c) => c.container()?.privileged);
def('container.start_ts', 'abstime', 'container start time (ns since epoch)', (c) => {
  const v = c.container()?.startTsNs;
  return v ? v : undefined;
});
def('container.mounts', 'string', 'mounts as src:dest:mode:rdwr:propagation, space-separated', (c) => {
  const ctr = c.container();
  return ctr ? ctr.mounts.map((m) => `${m.source}:${m.dest}:${m.mode}:${m.rw ? 'true' : 'false'}:${m.propagation}`).join(' ') : undefined;
});
defArg(
  'container.mount.dest',
  'string',
  "mount destination for the mount source [src] (glob allowed); 'N/A' when none",
  (arg) => {
    if (arg === undefined) return 'container.mount.dest needs a [source] argument';
    const re = /[*?]/.test(arg) ? globToRegExp(arg) : undefined;
    return (c) => {
      const ctr = c.container();
      if (!ctr) return undefined;
      const m = ctr.mounts.find((x) => (re ? re.test(x.source) : x.source === arg));
      return m ? m.dest : 'N/A';
    };
  },
  { arg: 'key' },
);
defArg(
  'container.mount.source',
  'string',
  "mount source for the mount destination [dest] (glob allowed); 'N/A' when none",
  (arg) => {
    if (arg === undefined) return 'container.mount.source needs a [dest] argument';
    const re = /[*?]/.test(arg) ? globToRegExp(arg) : undefined;
    return (c) => {
      const ctr = c.container();
      if (!ctr) return undefined;
      const m = ctr.mounts.find((x) => (re ? re.test(x.dest) : x.dest === arg));
      return m ? m.source : 'N/A';
    };
  },
  { arg: 'key' },
);
def('k8s.pod.name', 'string', 'pod name', (c) => c.container()?.podName || undefined);
def('k8s.ns.name', 'string', 'pod namespace', (c) => c.container()?.podNamespace || undefined);
def('k8s.pod.uid', 'string', 'pod uid', (c) => c.container()?.podUid || undefined);
defArg('k8s.pod.label', 'string', 'value of pod label [key]', (arg) => (c) => {
  const ctr = c.container();
  return ctr && arg !== undefined ? ctr.podLabels[arg] : undefined;
}, { arg: 'key' });
def('k8s.pod.labels', 'string', 'all pod labels as k:v, comma-separated', (c) => {
  const ctr = c.container();
  return ctr && ctr.podName ? Object.entries(ctr.podLabels).map(([k, v]) => `${k}:${v}`).join(', ') : undefined;
});

// ---------------------------------------------------------------------------------------------

/** Looks a field up by name (including the `evt.arg.<name>` family). */
export function findField(name: string, arg?: string): FieldDef | undefined {
  if ((name === 'evt.arg' || name === 'evt.rawarg') && arg !== undefined && !/^\d+$/.test(arg)) return paramField(name, arg);
  return catalogue.get(name) ?? paramField(name, arg);
}

/** Catalogue for `lanner list-fields`. */
export function listFields(): FieldInfo[] {
  const out: FieldInfo[] = [];
  for (const d of catalogue.values()) {
    out.push({ name: d.name, type: d.type, description: d.description, arg: d.arg, filterOnly: d.filterOnly, deprecated: d.deprecated, either: d.either });
  }
  for (const pname of [...paramsByName.keys()].sort()) {
    out.push({ name: `evt.arg.${pname}`, type: 'string', description: `the '${pname}' parameter rendered as text`, arg: 'none', filterOnly: false, deprecated: false, either: false });
  }
  return out;
}

/** Human or JSON text for `lanner list-fields [--json]`. */
export function formatFieldList(json: boolean): string {
  const fields = listFields();
  if (json) return JSON.stringify(fields, null, 2);
  const argText: Record<FieldArgForm, string> = { none: '', index: '[N]', key: '[key]', index_opt: '[N]?', key_opt: '[key]?' };
  return fields
    .map((f) => {
      const flags = [f.filterOnly ? 'filter-only' : '', f.deprecated ? 'deprecated' : ''].filter(Boolean).join(', ');
      return `${(f.name + argText[f.arg]).padEnd(44)} ${f.type.padEnd(8)} ${f.description}${flags ? ` (${flags})` : ''}`;
    })
    .join('\n');
}
