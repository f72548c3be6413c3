/**
 * Feeds the posture engine from the event stream. Called for every event, so it costs a table
 * lookup for uninteresting types; only write-opens, chmod/chown/rename/unlink/truncate and execs decode
 * a string, and only execs of Kubernetes components (rare) copy anything. Evaluation itself runs
 * later (per-file debounce, or setImmediate for execs), never inside the batch callback.
 */
import type { EventView } from '../probe/event';
import { argIndexOf, EVENT_TYPES } from '../probe/event-types';
import { CREAT_FLAGS, O_ACCMODE, O_CREAT, O_RDONLY, O_TRUNC } from '../probe/linux';
import type { PostureEngine } from './evaluator';
import type { ProcessInput } from './types';

const enum Kind {
  None = 0,
  Exec,
  OpenStr0,
  Str0,
  Str0Str1,
  Fd,
}

/** Event types the tap reacts to, with where their path lives. */
const KIND_BY_NAME: Readonly<Record<string, Kind>> = {
  execve: Kind.Exec,
  execveat: Kind.Exec,
  open: Kind.OpenStr0,
  openat: Kind.OpenStr0,
  openat2: Kind.OpenStr0,
  creat: Kind.Str0,
  chmod: Kind.Str0,
  fchmodat: Kind.Str0,
  // Ownership: fchown's record carries the fd's path too (walked in the kernel), so no fd lookup.
  chown: Kind.Str0,
  lchown: Kind.Str0,
  fchown: Kind.Str0,
  fchownat: Kind.Str0,
  truncate: Kind.Str0,
  unlink: Kind.Str0,
  unlinkat: Kind.Str0,
  rmdir: Kind.Str0,
  rename: Kind.Str0Str1,
  renameat: Kind.Str0Str1,
  renameat2: Kind.Str0Str1,
  fchmod: Kind.Fd,
  ftruncate: Kind.Fd,
};

const KIND: Uint8Array = (() => {
  const t = new Uint8Array(EVENT_TYPES.length);
  for (const e of EVENT_TYPES) t[e.id] = KIND_BY_NAME[e.name] ?? Kind.None;
  return t;
})();

/** Flags argument index of the open family (syscall arg position). */
const OPEN_FLAGS_ARG: Int8Array = argIndexOf('flags');
/** fchmod/ftruncate: the fd whose file changed. */
const FD_ARG: Int8Array = argIndexOf('fd');

export interface PostureTapStats {
  readonly pathEvents: number;
  readonly execsQueued: number;
  readonly execsDropped: number;
}

export interface PostureTapOptions {
  /** fd → path for fchmod/ftruncate (the state engine's fd table); without it those are ignored. */
  readonly fdPath?: (tgid: number, fd: number) => string | undefined;
  /** Bound on component execs waiting for evaluation (default 64). */
  readonly maxPendingExecs?: number;
}

/** Event type names the tap needs from the probe whether or not a rule names them. */
const TAP_EVENT_TYPES: ReadonlySet<string> = new Set(Object.keys(KIND_BY_NAME));

/**
 * Posture's per-event hook (the rule engine's EventHook shape): after the rules, so a closing fd
 * still has its path in the state tables.
 */
export class PostureTap {
  readonly requiredEventTypes: ReadonlySet<string> = TAP_EVENT_TYPES;

  private readonly pendingExecs: ProcessInput[] = [];
  private scheduled = false;
  private readonly maxPending: number;
  private counters = { pathEvents: 0, execsQueued: 0, execsDropped: 0 };

  constructor(
    private readonly engine: PostureEngine,
    private readonly opts: PostureTapOptions = {},
  ) {
    this.maxPending = opts.maxPendingExecs ?? 64;
  }

  stats(): PostureTapStats {
    return { ...this.counters };
  }

  /** Called once per event, inside the batch callback (the view is not kept). */
  afterRules(ev: EventView): void {
    const kind = KIND[ev.typeId] ?? Kind.None;
    if (kind === Kind.None || ev.ret < 0) return;
    switch (kind) {
      case Kind.Exec:
        this.onExec(ev);
        return;
      case Kind.OpenStr0: {
        // creat has no flags argument: it is open with CREAT_FLAGS.
        const fi = OPEN_FLAGS_ARG[ev.typeId]!;
        const flags = fi >= 0 ? ev.rawArg(fi) : CREAT_FLAGS;
        // Read-only opens cannot change a posture result.
        if ((flags & O_ACCMODE) === O_RDONLY && (flags & (O_CREAT | O_TRUNC)) === 0) return;
        this.path(ev.str(0));
        return;
      }
      case Kind.Str0:
        this.path(ev.str(0));
        return;
      case Kind.Str0Str1:
        this.path(ev.str(0));
        this.path(ev.str(1));
        return;
      case Kind.Fd:
        if (this.opts.fdPath) this.path(this.opts.fdPath(ev.tgid, ev.rawArg(FD_ARG[ev.typeId]!)));
        return;
    }
  }

  private path(p: string | undefined): void {
    if (p !== undefined && this.engine.notePathEvent(p)) this.counters.pathEvents++;
  }

  private onExec(ev: EventView): void {
    const comm = ev.comm();
    const exePath = ev.exePath() ?? '';
    if (!this.engine.isPostureRelevantExec(comm, exePath)) return;
    if (this.pendingExecs.length >= this.maxPending) {
      this.counters.execsDropped++;
      return;
    }
    const env = ev.env();
    this.pendingExecs.push({ pid: ev.tgid, comm, exePath, argv: [...(ev.argv() ?? [])], ...(env ? { env: [...env] } : {}) });
    this.counters.execsQueued++;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  private drain(): void {
    this.scheduled = false;
    const batch = this.pendingExecs.splice(0);
    for (const input of batch) this.engine.evaluateProcess(input);
  }
}
