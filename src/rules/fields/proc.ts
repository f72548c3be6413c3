/** The `proc.*` class: the process, its parent, its session and process group, its ancestors. */
import { EXE_FROM_MEMFD, EXE_UPPER_LAYER, EXE_WRITABLE } from '../../probe/event';
import type { ProcessInfo } from '../../state/types';
import type { ExtractContext, FieldValue } from '../context';
import { field, fieldWithArg, nullField, type FieldDef, type FieldType } from './field';

function argsText(p: ProcessInfo): string {
  return p.argsLine ?? '';
}
function cmdline(p: ProcessInfo): string {
  const line = p.argsLine;
  return line === undefined ? p.name : `${p.name} ${line}`;
}
function envValue(env: readonly string[], key: string): string | undefined {
  const prefix = key + '=';
  for (const e of env) if (e.startsWith(prefix)) return e.slice(prefix.length);
  return undefined;
}

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

/** `proc.a*`: the value for ancestor [N] (0 = self); without [N], the compiler tests every ancestor. */
function ancestorField(name: string, type: FieldType, description: string, ofProcess: (p: ProcessInfo) => FieldValue | undefined): FieldDef {
  return {
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
  };
}

/** The pid of the oldest ancestor (self included) whose name ends in 'sh'. */
function loginShellId(c: ExtractContext): number | undefined {
  let found: number | undefined;
  for (let level = 0, p = c.process(); p !== undefined && level < 64; p = c.ancestor(++level)) {
    if (p.name.endsWith('sh')) found = p.tgid;
  }
  return found;
}

/** Epoch ns of a boot-relative start time (0 = unknown). */
function startEpochNs(c: ExtractContext, p: ProcessInfo | undefined): number | undefined {
  return p && p.startNs > 0 ? p.startNs + Number(c.bootOffsetNs) : undefined;
}

/** Type and name of the process's fd 0, 1 or 2, when the fd table knows it. */
function stdField(fd: 0 | 1 | 2, stream: string): FieldDef[] {
  return [
    field(`proc.${stream}.type`, 'string', `fd type of ${stream} (file, pipe, ipv4, …)`, (c) => c.state.fd(c.ev.tgid, fd)?.type),
    field(`proc.${stream}.name`, 'string', `name of ${stream} (path or connection)`, (c) => c.state.fd(c.ev.tgid, fd)?.name),
  ];
}

const NOT_SAMPLED = 'the probe does not sample /proc counters';

/** Fields of libsinsp's process class that Lanner added for parity. */
const PROC_PARITY_FIELDS: readonly FieldDef[] = [
  ancestorField('proc.aargs', 'string', 'proc.args', argsText),
  field('proc.exeline', 'string', 'proc.exe + proc.args', (c) => {
    const p = c.process();
    if (!p) return undefined;
    const line = p.argsLine;
    return line === undefined ? p.exe : `${p.exe} ${line}`;
  }),
  field('proc.loginshellid', 'int64', 'pid of the oldest shell among the ancestors', loginShellId),
  field('proc.pvpid', 'int64', "parent's pid inside its pid namespace", (c) => c.parent()?.vpid),
  field('proc.sid.exe', 'string', 'proc.exe of the session leader', (c) => {
    const p = c.process();
    return p ? c.state.process(p.sid)?.exe : undefined;
  }),
  field('proc.sid.exepath', 'string', 'proc.exepath of the session leader', (c) => {
    const p = c.process();
    return p ? c.state.process(p.sid)?.exePath : undefined;
  }),
  field('proc.vpgid.exepath', 'string', 'proc.exepath of the process group leader', (c) => vpgidLeader(c)?.exePath),
  field('proc.pgid', 'int64', 'process group id (host pid of the group leader)', (c) => vpgidLeader(c)?.tgid),
  field('proc.pgid.name', 'string', 'name of the process group leader', (c) => vpgidLeader(c)?.name),
  field('proc.pgid.exe', 'string', 'proc.exe of the process group leader', (c) => vpgidLeader(c)?.exe),
  field('proc.pgid.exepath', 'string', 'proc.exepath of the process group leader', (c) => vpgidLeader(c)?.exePath),
  field('proc.is_pgid_leader', 'bool', 'process leads its process group', (c) => {
    const p = c.process();
    return p ? p.vpgid === p.vpid : undefined;
  }),
  field('proc.pid.ts', 'reltime', 'process start as epoch ns', (c) => startEpochNs(c, c.process())),
  field('proc.ppid.ts', 'reltime', 'parent start as epoch ns', (c) => startEpochNs(c, c.parent())),
  nullField('proc.is_exe_lower_layer', 'bool', 'executable in an overlayfs lower layer', 'the probe reports the upper layer only'),
  nullField('proc.exe_ino', 'int64', 'inode of the executable', 'the probe does not capture it'),
  nullField('proc.exe_ino.ctime_duration_pidns_start', 'abstime', 'ns between exe inode ctime and pid namespace start', 'pid namespace start is not captured'),
  nullField('proc.pidns_init_start_ts', 'uint64', 'start of the pid namespace init process', 'not captured'),
  nullField('proc.fdopencount', 'uint64', 'open fds of the process', 'the fd table is per fd, not counted'),
  nullField('proc.fdlimit', 'int64', 'fd limit of the process', NOT_SAMPLED),
  nullField('proc.fdusage', 'double', 'fd usage ratio', NOT_SAMPLED),
  nullField('proc.vmsize', 'uint64', 'virtual memory size (KiB)', NOT_SAMPLED),
  nullField('proc.vmrss', 'uint64', 'resident memory (KiB)', NOT_SAMPLED),
  nullField('proc.vmswap', 'uint64', 'swapped memory (KiB)', NOT_SAMPLED),
  nullField('proc.nthreads', 'uint64', 'threads of the process', 'threads are not tracked'),
  nullField('proc.nchilds', 'uint64', 'child threads of the process', 'threads are not tracked'),
  ...stdField(0, 'stdin'),
  ...stdField(1, 'stdout'),
  ...stdField(2, 'stderr'),
];

export const PROC_FIELDS: readonly FieldDef[] = [
  field('proc.pid', 'int64', 'process id (tgid)', (c) => c.ev.tgid),
  field('proc.vpid', 'int64', 'pid inside its pid namespace', (c) => c.process()?.vpid ?? c.ev.vpid),
  field('proc.ppid', 'int64', "parent's pid", (c) => c.parentTgid() || undefined),
  field('proc.name', 'string', 'process name (comm)', (c) => c.process()?.name ?? c.ev.comm()),
  field('proc.exe', 'string', 'argv[0]', (c) => c.process()?.exe ?? c.ev.argv()?.[0]),
  field('proc.exepath', 'string', 'full executable path', (c) => c.process()?.exePath ?? c.ev.exePath()),
  fieldWithArg(
    'proc.args',
    'string',
    'arguments without argv[0], space-joined; [N] the N-th one (0 = first after argv[0])',
    (arg) => {
      const n = arg === undefined ? -1 : Number(arg);
      return (c) => {
        const p = c.process();
        if (p !== undefined && n < 0) return argsText(p);
        const args = p?.args ?? c.ev.argv()?.slice(1);
        if (!args) return undefined;
        return n < 0 ? args.join(' ') : (args[n] ?? '');
      };
    },
    { arg: 'index_opt' },
  ),
  field('proc.cmdnargs', 'uint64', 'number of arguments', (c) => c.process()?.args.length),
  field('proc.cmdlenargs', 'uint64', 'total length of the arguments', (c) => {
    const p = c.process();
    return p ? p.args.reduce((n, a) => n + a.length, 0) : undefined;
  }),
  field('proc.cmdline', 'string', 'proc.name + proc.args', (c) => {
    const p = c.process();
    return p ? cmdline(p) : undefined;
  }),
  field('proc.cwd', 'string', 'current working directory', (c) => c.process()?.cwd || c.ev.cwd()),
  field('proc.tty', 'uint32', 'controlling terminal (0 = none)', (c) => c.process()?.tty ?? c.ev.tty),
  field('proc.sid', 'int64', 'session id', (c) => c.process()?.sid),
  field('proc.sname', 'string', 'name of the session leader', (c) => {
    const p = c.process();
    return p ? c.state.process(p.sid)?.name : undefined;
  }),
  field('proc.is_sid_leader', 'bool', 'process leads its session', (c) => {
    const p = c.process();
    return p ? p.sid === p.tgid : undefined;
  }),
  field('proc.vpgid', 'int64', 'process group id inside the pid namespace', (c) => c.process()?.vpgid),
  field('proc.vpgid.name', 'string', 'name of the process group leader', (c) => vpgidLeader(c)?.name),
  field('proc.vpgid.exe', 'string', 'proc.exe of the process group leader', (c) => vpgidLeader(c)?.exe),
  field('proc.is_vpgid_leader', 'bool', 'process leads its process group', (c) => {
    const p = c.process();
    return p ? p.vpgid === p.vpid : undefined;
  }),
  fieldWithArg(
    'proc.env',
    'string',
    'environment (K=V …), or one variable with [K]',
    (arg) => (c) => {
      const env = c.process()?.env ?? c.ev.env();
      if (!env) return undefined;
      return arg === undefined ? env.join(' ') : envValue(env, arg);
    },
    { arg: 'key_opt' },
  ),
  field('proc.duration', 'reltime', 'ns since the process started', (c) => {
    const p = c.process();
    return p && p.startNs > 0 ? c.ev.tsNs - p.startNs : undefined;
  }),
  field('proc.ppid.duration', 'reltime', 'ns since the parent started', (c) => {
    const p = c.parent();
    return p && p.startNs > 0 ? c.ev.tsNs - p.startNs : undefined;
  }),
  field('proc.exe_ino.ctime', 'abstime', 'ctime of the executable inode', (c) => {
    const v = c.process()?.exeCtimeNs;
    return v ? v : undefined;
  }),
  field('proc.exe_ino.mtime', 'abstime', 'mtime of the executable inode', (c) => {
    const v = c.process()?.exeMtimeNs;
    return v ? v : undefined;
  }),
  field('proc.exe_ino.ctime_duration_proc_start', 'abstime', 'ns between exe inode ctime and process start', (c) => {
    const p = c.process();
    if (!p || !p.exeCtimeNs || p.startNs <= 0) return undefined;
    return BigInt(Math.trunc(p.startNs)) + c.bootOffsetNs - p.exeCtimeNs;
  }),
  field('proc.is_exe_writable', 'bool', 'executable is writable by the process user', (c) => c.process()?.exeWritable ?? (c.ev.exeFlags() & EXE_WRITABLE) !== 0),
  field('proc.is_exe_upper_layer', 'bool', 'executable in the overlayfs upper layer', (c) => c.process()?.exeUpperLayer ?? (c.ev.exeFlags() & EXE_UPPER_LAYER) !== 0),
  field('proc.is_exe_from_memfd', 'bool', 'executable is a memfd', (c) => c.process()?.exeFromMemfd ?? (c.ev.exeFlags() & EXE_FROM_MEMFD) !== 0),
  field('proc.pname', 'string', "parent's proc.name", (c) => c.parent()?.name),
  field('proc.pexe', 'string', "parent's proc.exe", (c) => c.parent()?.exe),
  field('proc.pexepath', 'string', "parent's proc.exepath", (c) => c.parent()?.exePath),
  field('proc.pcmdline', 'string', "parent's proc.cmdline", (c) => {
    const p = c.parent();
    return p ? cmdline(p) : undefined;
  }),
  ancestorField('proc.aname', 'string', 'proc.name', (p) => p.name),
  ancestorField('proc.apid', 'int64', 'pid', (p) => p.tgid),
  ancestorField('proc.aexe', 'string', 'proc.exe', (p) => p.exe),
  ancestorField('proc.aexepath', 'string', 'proc.exepath', (p) => p.exePath),
  ancestorField('proc.acmdline', 'string', 'proc.cmdline', cmdline),
  ancestorField('proc.aenv', 'string', 'proc.env', (p) => p.env.join(' ')),
  ...PROC_PARITY_FIELDS,
];
