/**
 * Process lifecycle from events: fork/clone (either side first), exec, exit, and the entry for a
 * process we never saw start (read lazily from /proc within a budget, else built from the event
 * header). Also the header refresh every event applies to its process.
 */
import type { EventView } from '../probe/event';
import { EXE_FROM_MEMFD, EXE_UPPER_LAYER, EXE_WRITABLE } from '../probe/event';
import { argIndex, eventTypeByName } from '../probe/event-types';
import { CLONE_NEWPID, CLONE_PARENT, CLONE_THREAD, PR_SET_NAME } from '../probe/linux';
import { HOST_CONTAINER_ID } from './cgroup';
import type { StateConfig } from './config';
import type { ContainerResolver } from './container-resolver';
import { type FdCounters, FdTable, resolvePath } from './fd-table';
import { type ProcSnapshot, readProcess } from './procfs';
import { ProcessEntry, type ProcessTable } from './process-table';

const T_CLONE = eventTypeByName('clone')!.id;
const T_CLONE3 = eventTypeByName('clone3')!.id;
const CLONE_FLAGS = argIndex('clone', 'flags');
const PRCTL_OPTION = argIndex('prctl', 'option');
const SETPGID_PID = argIndex('setpgid', 'pid');
const SETPGID_PGID = argIndex('setpgid', 'pgid');
const FCHDIR_FD = argIndex('fchdir', 'fd');

const MAX_RECENT_EXITS = 1024;
const RECENT_EXIT_WINDOW_NS = 1e9;

/** comm of an OCI runtime's container init before it execs the container's entry point. */
const RUNTIME_INIT = /^(runc|crun|libcrun|youki|runsc|kata)/;

export interface ProcessEventStats {
  /** Events whose process was not in the table. */
  readonly misses: number;
  readonly forks: number;
  readonly exits: number;
  readonly lazyProcReads: number;
}

export class ProcessLifecycle {
  /** tgid → exit time of the last exits, to ignore a parent-side fork report arriving late. */
  private readonly recentExits = new Map<number, number>();
  /**
   * Whether the caller's side of clones is arriving: only then can a child's exit come before the
   * clone that created it, so only then are recent exits worth remembering (the agent asks the
   * kernel for the caller's side only while a rule matches a clone type).
   */
  private seenCallerForks = false;
  private readonly procRoot: string;
  private misses = 0;
  private forks = 0;
  private exits = 0;
  private lazyReads = 0;
  private lazyWindowStartMs = 0;
  private lazyWindowReads = 0;

  constructor(
    private readonly table: ProcessTable,
    private readonly fdCounters: FdCounters,
    private readonly containers: ContainerResolver,
    private readonly config: StateConfig,
  ) {
    this.procRoot = config.proc_root;
  }

  stats(): ProcessEventStats {
    return { misses: this.misses, forks: this.forks, exits: this.exits, lazyProcReads: this.lazyReads };
  }

  /** The entry for the event's process, creating one on a miss. */
  ensure(ev: EventView): ProcessEntry {
    const p = this.table.get(ev.tgid);
    if (p !== undefined) {
      this.refresh(p, ev);
      return p;
    }
    this.misses++;
    return this.createUnknown(ev);
  }

  /** Header fields every event carries: cheap to copy, and they heal missed setuid/reparenting. */
  refresh(p: ProcessEntry, ev: EventView): void {
    p.uid = ev.uid;
    p.gid = ev.gid;
    p.euid = ev.euid;
    p.loginuid = ev.loginuid;
    if (ev.ptgid !== 0) p.ptgid = ev.ptgid;
    if (ev.tty !== 0) p.tty = ev.tty;
    // A negative id means "resolve now" (new entry, or an exec that may have changed it).
    if (p.cgroupId < 0 || (ev.cgroupId !== 0 && ev.cgroupId !== p.cgroupId)) {
      p.cgroupId = ev.cgroupId;
      p.containerId = this.containers.containerIdOfCgroup(ev.cgroupId, p.tgid);
      this.containers.noteContainerPid(p);
    }
  }

  onFork(ev: EventView): void {
    const ret = ev.ret;
    if (ret === 0) {
      // Child side: the event's task is the new one.
      if (ev.tid !== ev.tgid) {
        this.ensure(ev); // a new thread of an existing process
        return;
      }
      const existing = this.table.get(ev.tgid);
      if (existing !== undefined && isThisChild(existing, ev.ptgid, ev.tsNs)) {
        // The parent side got here first (or the child already exec'd): same process.
        existing.vpid = ev.vpid;
        existing.pidNs = ev.pidNs;
        this.refresh(existing, ev);
        return;
      }
      const parent = this.table.get(ev.ptgid);
      const comm = ev.comm();
      if (parent !== undefined && comm !== '' && parent.name !== '' && parent.name !== comm) {
        // Not its forker: a child whose parent exited before the child's first event (a daemon's
        // double fork) was handed to a reaper (the node's init, a subreaper), and the header names
        // the reaper. The child still carries its forker's comm; copying the reaper's image would
        // name it after init until it execs. /proc has the child's own image (its forker's), when
        // the budget allows; a thread of another name forking (a JVM's) takes the same path. An
        // empty name on either side says nothing.
        const e = this.createUnknown(ev);
        e.startNs = ev.tsNs;
        this.forks++;
        return;
      }
      this.createChild(ev.tgid, parent, ev.tsNs, ev.ptgid, ev);
      return;
    }
    const caller = this.ensure(ev);
    if (ret < 0) return;
    this.seenCallerForks = true;
    // Parent side. clone3's flags live in a struct the event does not carry, so its child is
    // left to the child-side event, as is any child of a caller inside a pid namespace (the
    // returned pid is namespace-relative there).
    if (ev.typeId === T_CLONE3 || ev.vpid !== ev.tgid) return;
    const flags = ev.typeId === T_CLONE ? ev.rawArg(CLONE_FLAGS) : 0;
    if ((flags & CLONE_THREAD) !== 0) return;
    // A short-lived child may have run, exited and been removed before its parent's clone
    // returned; re-creating it here would leave an entry no exit will ever remove.
    const exitedAt = this.recentExits.get(ret);
    if (exitedAt !== undefined && Math.abs(ev.tsNs - exitedAt) < RECENT_EXIT_WINDOW_NS) return;
    const existing = this.table.get(ret);
    const parentTgid = (flags & CLONE_PARENT) !== 0 ? caller.ptgid : caller.tgid;
    if (existing !== undefined && isThisChild(existing, parentTgid, ev.tsNs)) return;
    const child = this.createChild(ret, caller, ev.tsNs, parentTgid, undefined);
    child.vpid = (flags & CLONE_NEWPID) !== 0 ? 1 : ret;
  }

  onExec(ev: EventView): void {
    if (ev.ret < 0) {
      this.ensure(ev);
      return;
    }
    let p = this.table.get(ev.tgid);
    if (p === undefined) {
      this.misses++;
      p = new ProcessEntry(ev.tgid, 'exec', new FdTable(this.config.max_fds_per_process), this.procRoot);
      p.cgroupId = -1;
      this.table.insert(p);
    } else if (p.origin === 'header') {
      this.table.setOrigin(p, 'exec');
    }
    const preExecName = p.name;
    p.name = ev.comm();
    p.setArgvText(ev.argvText(), ev.exePath() ?? ev.str(0) ?? '');
    const cwd = ev.cwd();
    if (cwd !== undefined) p.cwd = cwd;
    const env = ev.envText();
    if (env !== undefined) p.setEnvText(boundedEnvText(env, this.config.max_env_bytes));
    p.capEffective = ev.capEffective();
    p.capPermitted = ev.capPermitted();
    const flags = ev.exeFlags();
    p.exeWritable = (flags & EXE_WRITABLE) !== 0;
    p.exeUpperLayer = (flags & EXE_UPPER_LAYER) !== 0;
    p.exeFromMemfd = (flags & EXE_FROM_MEMFD) !== 0;
    p.vpid = ev.vpid;
    p.pidNs = ev.pidNs;
    p.mntNs = ev.mntNs;
    p.resetExeCache();
    p.fds.closeOnExec(this.fdCounters);
    // Runtimes move a container's first process into its cgroup between fork and exec, and with
    // cgroup v1 containers the v2 id does not even change: so when a runtime's init becomes the
    // container's first process, look its container up again. Any other exec keeps its cgroup,
    // which spares a /proc read per exec on hosts where the v2 id cannot tell containers apart.
    if (RUNTIME_INIT.test(preExecName)) p.cgroupId = -1;
    this.refresh(p, ev);
  }

  /** Whether the event's process is a container runtime's init, about to become a container's process. */
  isRuntimeInit(tgid: number): boolean {
    const p = this.table.get(tgid);
    return p !== undefined && RUNTIME_INIT.test(p.name);
  }

  /** Before the rules: the exiting process's header fields are current for them to read. */
  beforeExit(ev: EventView): void {
    const p = this.table.get(ev.tgid);
    if (p) this.refresh(p, ev);
  }

  /** After the rules: the process is gone. */
  afterExit(ev: EventView): void {
    // The probe reports a process exit once, from the last thread of the group to leave, and
    // that need not be the leader (Go runtimes exit from any thread): the process is gone.
    if (this.table.remove(ev.tgid)) this.exits++;
    if (!this.seenCallerForks) return;
    if (this.recentExits.size >= MAX_RECENT_EXITS) this.recentExits.delete(this.recentExits.keys().next().value as number);
    this.recentExits.delete(ev.tgid);
    this.recentExits.set(ev.tgid, ev.tsNs);
  }

  /** A process we never saw start: /proc if it is still there (within budget), else the header. */
  private createUnknown(ev: EventView): ProcessEntry {
    const snap = this.takeLazyRead() ? readProcess(ev.tgid, { procRoot: this.procRoot, maxEnvBytes: this.config.max_env_bytes }) : undefined;
    let e: ProcessEntry;
    if (snap) {
      e = entryFromSnapshot(snap, 'proc', this.config.max_fds_per_process, this.procRoot);
      e.cgroupId = ev.cgroupId;
      e.containerId = snap.cgroupText ? this.containers.resolveCgroupText(snap.cgroupText, ev.cgroupId) : HOST_CONTAINER_ID;
      this.containers.noteContainerPid(e);
    } else {
      e = new ProcessEntry(ev.tgid, 'header', new FdTable(this.config.max_fds_per_process), this.procRoot);
      e.name = ev.comm();
      e.vpid = ev.vpid;
      e.pidNs = ev.pidNs;
      e.mntNs = ev.mntNs;
      e.capEffective = ev.capEffective();
      e.capPermitted = ev.capPermitted();
      e.cgroupId = -1;
    }
    this.refresh(e, ev);
    this.table.insert(e);
    return e;
  }

  private takeLazyRead(): boolean {
    const limit = this.config.lazy_proc_reads_per_second;
    if (limit === 0) return false;
    const now = Date.now();
    if (now - this.lazyWindowStartMs >= 1000) {
      this.lazyWindowStartMs = now;
      this.lazyWindowReads = 0;
    }
    if (this.lazyWindowReads >= limit) return false;
    this.lazyWindowReads++;
    this.lazyReads++;
    return true;
  }

  private createChild(tgid: number, parent: ProcessEntry | undefined, tsNs: number, ptgid: number, childEv: EventView | undefined): ProcessEntry {
    const fdCapacity = this.config.max_fds_per_process;
    const child = new ProcessEntry(tgid, 'fork', parent ? new FdTable(fdCapacity, parent.fds) : new FdTable(fdCapacity), this.procRoot);
    if (parent) {
      child.inheritFrom(parent);
      this.fdCounters.total += child.fds.size;
    } else if (childEv) {
      this.misses++;
      child.name = childEv.comm();
      child.capEffective = childEv.capEffective();
      child.capPermitted = childEv.capPermitted();
      child.cgroupId = -1;
    }
    child.ptgid = ptgid;
    child.startNs = tsNs;
    child.vpid = tgid;
    if (childEv) {
      child.vpid = childEv.vpid;
      child.pidNs = childEv.pidNs;
      child.mntNs = childEv.mntNs;
      this.refresh(child, childEv);
    }
    this.table.insert(child);
    this.forks++;
    return child;
  }
}

/** setuid/setgid/capset and friends: the kernel recomputed the capability sets. */
export function onCredsChange(p: ProcessEntry, ev: EventView): void {
  p.capEffective = ev.capEffective();
  p.capPermitted = ev.capPermitted();
}

/** setsid: the caller leads a new session and a new process group (proc.sid, proc.vpgid). */
export function onSetsid(p: ProcessEntry): void {
  p.sid = p.tgid;
  p.vpgid = p.vpid;
}

/**
 * setpgid(pid, pgid): pid 0 is the caller, pgid 0 the target's own pid. The pids are in the caller's
 * namespace: another process is found by pid only from the host's (a shell putting its child in a
 * group of its own; the child's own call, which every shell makes too, covers the rest).
 */
export function onSetpgid(p: ProcessEntry, ev: EventView, processOf: (tgid: number) => ProcessEntry | undefined): void {
  const pid = ev.rawArg(SETPGID_PID);
  const pgid = ev.rawArg(SETPGID_PGID);
  const target = pid === 0 || pid === p.vpid ? p : p.vpid === p.tgid ? processOf(pid) : undefined;
  if (target !== undefined) target.vpgid = pgid === 0 ? target.vpid : pgid;
}

/** prctl(PR_SET_NAME) renames the calling thread (its comm is in the event header). */
export function onPrctl(p: ProcessEntry, ev: EventView): void {
  if (ev.rawArg(PRCTL_OPTION) === PR_SET_NAME) p.name = ev.comm();
}

/** chdir(path), path relative to the old working directory unless absolute. */
export function onChdir(p: ProcessEntry, ev: EventView): void {
  const path = ev.str(0);
  if (path) p.cwd = path.startsWith('/') ? path : resolvePath(p.cwd || '/', path);
}

/** fchdir(fd): the new working directory is what the fd names, when we know it. */
export function onFchdir(p: ProcessEntry, ev: EventView): void {
  const e = p.fds.get(ev.rawArg(FCHDIR_FD) | 0);
  if (e && (e.type === 'directory' || e.type === 'file')) p.cwd = e.name;
}

/** A table entry from a /proc snapshot (seed, or a lazy read for a process seen mid-life). */
export function entryFromSnapshot(s: ProcSnapshot, origin: 'proc' | 'header', fdCapacity: number, procRoot: string): ProcessEntry {
  const e = new ProcessEntry(s.tgid, origin, new FdTable(fdCapacity), procRoot);
  e.ptgid = s.ptgid;
  e.name = s.name;
  e.exe = s.exe;
  e.exePath = s.exePath;
  e.args = s.args;
  e.cwd = s.cwd;
  e.tty = s.tty;
  e.sid = s.sid;
  e.vpgid = s.vpgid;
  e.vpid = s.vpid;
  e.uid = s.uid;
  e.gid = s.gid;
  e.euid = s.euid;
  e.loginuid = s.loginuid;
  e.startNs = s.startNs;
  e.capEffective = s.capEffective;
  e.capPermitted = s.capPermitted;
  e.pidNs = s.pidNs;
  e.mntNs = s.mntNs;
  e.env = s.env;
  e.exeFromMemfd = s.exeFromMemfd;
  return e;
}

/**
 * Whether an entry already describes the child a fork reports (the other side's report came
 * first, or the child was already read from /proc) rather than an older process whose pid was
 * reused and whose exit we missed.
 */
function isThisChild(e: ProcessEntry, parentTgid: number, forkTsNs: number): boolean {
  if (e.ptgid !== parentTgid) return false;
  if (e.origin === 'fork' || e.origin === 'exec') return true;
  return e.origin === 'proc' && e.startNs > forkTsNs - RECENT_EXIT_WINDOW_NS;
}

/** The exec's environment area cut to the configured byte budget, at an entry's end. */
function boundedEnvText(text: string, maxBytes: number): string {
  if (text.length <= maxBytes) return text;
  if (maxBytes === 0) return '';
  // Whole entries only: up to the last separator that fits (its NUL counts against the budget).
  const end = text.lastIndexOf('\0', maxBytes - 1);
  return end < 0 ? '' : text.slice(0, end + 1);
}
