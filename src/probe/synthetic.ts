/**
 * Plain-object events: the same `EventView` contract the kernel probe and capture replay produce,
 * built from a literal. Used by unit tests, property tests and the engine benchmark, so none of
 * them depends on the kernel.
 */
import type { EventBatch, EventView, SockAddr } from './event';
import { joinNulSeparated } from './event';
import { isPathSlot, normalizePath } from './decoder';
import { eventTypeByName } from './event-types';

export interface SyntheticEventInit {
  /** Event type name, e.g. 'openat'. */
  type: string;
  tsNs?: number;
  cpu?: number;
  tid?: number;
  tgid?: number;
  ptgid?: number;
  uid?: number;
  gid?: number;
  euid?: number;
  egid?: number;
  loginuid?: number;
  ret?: number;
  cgroupId?: number;
  pidNs?: number;
  mntNs?: number;
  vpid?: number;
  tty?: number;
  truncated?: boolean;
  comm?: string;
  args?: readonly number[];
  str0?: string;
  str1?: string;
  sockaddr?: SockAddr;
  localSockaddr?: SockAddr;
  ioData?: Uint8Array;
  capEffective?: bigint;
  capPermitted?: bigint;
  argv?: readonly string[];
  exePath?: string;
  cwd?: string;
  exeFlags?: number;
  env?: readonly string[];
  /** FLAG_KILLED / FLAG_KILL_HELD / FLAG_KILL_FAILED, as the kernel's enforcement sets them. */
  killFlags?: number;
  dupTargetIsSocket?: boolean;
}

class SyntheticEvent implements EventView {
  readonly typeId: number;
  readonly tsNs: number;
  readonly cpu: number;
  readonly tid: number;
  readonly tgid: number;
  readonly ptgid: number;
  readonly uid: number;
  readonly gid: number;
  readonly euid: number;
  readonly egid: number;
  readonly loginuid: number;
  readonly ret: number;
  readonly cgroupId: number;
  readonly pidNs: number;
  readonly mntNs: number;
  readonly vpid: number;
  readonly tty: number;
  readonly truncated: boolean;

  constructor(private readonly init: SyntheticEventInit) {
    const spec = eventTypeByName(init.type);
    if (!spec) throw new Error(`unknown event type '${init.type}'`);
    this.typeId = spec.id;
    this.tsNs = init.tsNs ?? 1_000_000_000;
    this.cpu = init.cpu ?? 0;
    this.tgid = init.tgid ?? 1000;
    this.tid = init.tid ?? this.tgid;
    this.ptgid = init.ptgid ?? 1;
    this.uid = init.uid ?? 0;
    this.gid = init.gid ?? 0;
    this.euid = init.euid ?? this.uid;
    this.egid = init.egid ?? this.gid;
    this.loginuid = init.loginuid ?? -1;
    this.ret = init.ret ?? 0;
    this.cgroupId = init.cgroupId ?? 0;
    this.pidNs = init.pidNs ?? 4026531836;
    this.mntNs = init.mntNs ?? 4026531841;
    this.vpid = init.vpid ?? this.tgid;
    this.tty = init.tty ?? 0;
    this.truncated = init.truncated ?? false;
  }

  killFlags(): number {
    return this.init.killFlags ?? 0;
  }
  dupTargetIsSocket(): boolean | undefined {
    return this.init.dupTargetIsSocket;
  }
  comm(): string {
    return this.init.comm ?? '';
  }
  rawArg(index: number): number {
    return this.init.args?.[index] ?? 0;
  }
  str(slot: 0 | 1): string | undefined {
    const s = this.strRaw(slot);
    // Paths come out normalised, as the decoder gives them.
    return s !== undefined && isPathSlot(this.typeId, slot) ? normalizePath(s) : s;
  }
  strRaw(slot: 0 | 1): string | undefined {
    return slot === 0 ? this.init.str0 : this.init.str1;
  }
  sockaddr(): SockAddr | undefined {
    return this.init.sockaddr;
  }
  localSockaddr(): SockAddr | undefined {
    return this.init.localSockaddr;
  }
  ioData(): Uint8Array | undefined {
    return this.init.ioData;
  }
  capEffective(): bigint {
    return this.init.capEffective ?? 0n;
  }
  capPermitted(): bigint {
    return this.init.capPermitted ?? 0n;
  }
  argv(): readonly string[] | undefined {
    return this.init.argv;
  }
  argvText(): string | undefined {
    return this.init.argv === undefined ? undefined : joinNulSeparated(this.init.argv);
  }
  exePath(): string | undefined {
    return this.init.exePath;
  }
  cwd(): string | undefined {
    return this.init.cwd;
  }
  exeFlags(): number {
    return this.init.exeFlags ?? 0;
  }
  env(): readonly string[] | undefined {
    return this.init.env;
  }
  envText(): string | undefined {
    return this.init.env === undefined ? undefined : joinNulSeparated(this.init.env);
  }
  copy(): EventView {
    return this;
  }
}

export function syntheticEvent(init: SyntheticEventInit): EventView {
  return new SyntheticEvent(init);
}

/** Wraps a list of events as one batch. */
export function syntheticBatch(events: readonly EventView[]): EventBatch {
  return {
    count: events.length,
    forEach(fn: (ev: EventView) => void): void {
      for (const ev of events) fn(ev);
    },
  };
}
