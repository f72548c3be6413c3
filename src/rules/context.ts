/**
 * Per-event extraction context. One instance lives as long as a compiled ruleset; `reset(ev)` is
 * called per event and bumps a stamp so every memo below (process/fd/container lookups and the
 * per-field value slots) invalidates without allocating.
 */
import type { EventView } from '../probe/event';
import { argIndexOf, EVENT_TYPES, familyMask } from '../probe/event-types';
import type { ContainerInfo, FdInfo, FdType, ProcessInfo, StateReader } from '../state/types';

export type FieldValue = string | number | bigint | boolean | Uint8Array | readonly string[];

/** A value as text: byte buffers as latin1, lists comma-joined (outputs and string transformers). */
export function fieldValueText(v: FieldValue): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('latin1');
  if (Array.isArray(v)) return v.join(',');
  return String(v);
}

/** Which fd an event refers to, per event type id: a syscall argument index, the return value, or none. */
const FD_FROM_RET = -1;
const FD_NONE = -2;

const eventFdSource: Int32Array = (() => {
  const out = new Int32Array(EVENT_TYPES.length).fill(FD_NONE);
  for (const t of EVENT_TYPES) {
    const named = t.params.find((p) => p.kind === 'fd' && (p.name === 'fd' || p.name === 'oldfd') && p.source.from === 'arg');
    if (named && named.source.from === 'arg') out[t.id] = named.source.index;
    else if (t.params[0]?.kind === 'fd' && t.params[0].source.from === 'ret') out[t.id] = FD_FROM_RET;
  }
  return out;
})();

/** Whether events of this type refer to an fd (the `fd.*` fields have a value to read). */
export function eventTypeHasFd(typeId: number): boolean {
  return eventFdSource[typeId] !== FD_NONE;
}

/** 1 for open-family event type ids. */
export const isOpenFamily: Uint8Array = familyMask('open');

/** Index of the `flags` raw argument of open-family events (−1 elsewhere). */
export const openFlagsArg: Int8Array = (() => {
  const flags = argIndexOf('flags');
  return flags.map((index, id) => (isOpenFamily[id] ? index : -1));
})();

/** Index of the `mode` raw argument (−1 where the event type has none). */
export const modeArg: Int8Array = (() => {
  const out = new Int8Array(EVENT_TYPES.length).fill(-1);
  for (const t of EVENT_TYPES) {
    const f = t.params.find((p) => p.kind === 'mode');
    if (f && f.source.from === 'arg') out[t.id] = f.source.index;
  }
  return out;
})();

function socketFdType(family: string): FdType {
  return family === 'ipv4' ? 'ipv4' : family === 'ipv6' ? 'ipv6' : family === 'unix' ? 'unix' : 'unknown';
}

export class ExtractContext {
  ev!: EventView;
  /** Sequence number of the current event (evt.num), starting at 1; set by the engine. */
  evtNum = 0;
  /** Bumped per event; memo slots holding this stamp are valid for the current event. */
  stamp = 0;
  readonly slotStamp: Uint32Array;
  readonly slotValue: (FieldValue | undefined)[];
  readonly nodeStamp: Uint32Array;
  readonly nodeValue: Uint8Array;

  /** Timestamps of this event and of the one evaluated before it (evt.deltatime). */
  private curTsNs = 0;
  private prevTsNs = 0;
  private procStamp = 0;
  private procValue: ProcessInfo | undefined;
  private parentStamp = 0;
  private parentValue: ProcessInfo | undefined;
  private fdStamp = 0;
  private fdValue: FdInfo | undefined;
  private cidStamp = 0;
  private cidValue = '';
  private ctrStamp = 0;
  private ctrValue: ContainerInfo | undefined;

  constructor(
    readonly state: StateReader,
    slotCount: number,
    nodeCount: number,
    readonly bootOffsetNs: bigint,
    readonly hostname: string,
  ) {
    this.slotStamp = new Uint32Array(slotCount);
    this.slotValue = new Array<FieldValue | undefined>(slotCount).fill(undefined);
    this.nodeStamp = new Uint32Array(nodeCount);
    this.nodeValue = new Uint8Array(nodeCount);
  }

  /** Starts a new event: invalidates every memo. The caller sets `evtNum`. */
  reset(ev: EventView): void {
    this.ev = ev;
    this.prevTsNs = this.curTsNs;
    this.curTsNs = ev.tsNs;
    // Wrap well before 2^32 so Uint32Array stamps never alias a live value.
    if (++this.stamp === 0xffffffff) {
      this.stamp = 1;
      this.slotStamp.fill(0);
      this.nodeStamp.fill(0);
      this.procStamp = this.parentStamp = this.fdStamp = this.cidStamp = this.ctrStamp = 0;
    }
  }

  /** ns since the previous event this context evaluated; 0 for the first. */
  deltaNs(): number {
    return this.prevTsNs === 0 ? 0 : this.curTsNs - this.prevTsNs;
  }

  process(): ProcessInfo | undefined {
    if (this.procStamp !== this.stamp) {
      this.procStamp = this.stamp;
      this.procValue = this.state.process(this.ev.tgid);
    }
    return this.procValue;
  }

  parentTgid(): number {
    const p = this.process();
    return p && p.ptgid > 0 ? p.ptgid : this.ev.ptgid;
  }

  parent(): ProcessInfo | undefined {
    if (this.parentStamp !== this.stamp) {
      this.parentStamp = this.stamp;
      const ppid = this.parentTgid();
      this.parentValue = ppid > 0 ? this.state.process(ppid) : undefined;
    }
    return this.parentValue;
  }

  /** The n-th ancestor (1 = parent); undefined when the chain is not known that far. */
  ancestor(level: number): ProcessInfo | undefined {
    if (level === 0) return this.process();
    let p = this.parent();
    for (let i = 1; i < level && p !== undefined; i++) p = p.ptgid > 0 && p.ptgid !== p.tgid ? this.state.process(p.ptgid) : undefined;
    return p;
  }

  /** The fd number the event is about, or undefined. Failed fd-creating calls give −1. */
  fdNum(): number | undefined {
    const src = eventFdSource[this.ev.typeId];
    if (src === undefined || src === FD_NONE) return undefined;
    if (src === FD_FROM_RET) return this.ev.ret < 0 ? -1 : this.ev.ret;
    return this.ev.rawArg(src);
  }

  /**
   * The event's fd: from the state table, else rebuilt from the event itself (failed opens, or a
   * socket the state has not seen), the way Falco keeps a transient fd for such events.
   */
  fd(): FdInfo | undefined {
    if (this.fdStamp !== this.stamp) {
      this.fdStamp = this.stamp;
      this.fdValue = this.lookupFd();
    }
    return this.fdValue;
  }

  private lookupFd(): FdInfo | undefined {
    const num = this.fdNum();
    if (num === undefined) return undefined;
    const ev = this.ev;
    if (num >= 0) {
      const known = this.state.fd(ev.tgid, num);
      if (known) return known;
    }
    if (isOpenFamily[ev.typeId]) {
      const path = ev.str(0);
      if (path === undefined) return undefined;
      const flagsIdx = openFlagsArg[ev.typeId]!;
      return {
        num,
        type: 'file',
        name: ev.strRaw(1) ?? path, // the alias target's path, when the kernel found one
        nameRaw: ev.strRaw(0) ?? path,
        l4proto: '',
        clientIp: '',
        clientPort: 0,
        serverIp: '',
        serverPort: 0,
        isServer: false,
        connected: false,
        openFlags: flagsIdx >= 0 ? ev.rawArg(flagsIdx) : 0,
      };
    }
    const sa = ev.sockaddr();
    if (sa) {
      const ip = sa.family === 'ipv4' || sa.family === 'ipv6';
      const name = ip ? `->${sa.family === 'ipv6' ? `[${sa.address}]` : sa.address}:${sa.port}` : sa.address;
      return {
        num,
        type: socketFdType(sa.family),
        name,
        nameRaw: name,
        l4proto: '',
        clientIp: '',
        clientPort: 0,
        serverIp: ip ? sa.address : '',
        serverPort: sa.port,
        isServer: false,
        connected: false,
        openFlags: 0,
      };
    }
    return undefined;
  }

  containerId(): string {
    if (this.cidStamp !== this.stamp) {
      this.cidStamp = this.stamp;
      const p = this.process();
      this.cidValue = p ? p.containerId : this.state.containerIdOfCgroup(this.ev.cgroupId, this.ev.tgid);
    }
    return this.cidValue;
  }

  container(): ContainerInfo | undefined {
    if (this.ctrStamp !== this.stamp) {
      this.ctrStamp = this.stamp;
      const id = this.containerId();
      this.ctrValue = id === 'host' || id === '' ? undefined : this.state.container(id);
    }
    return this.ctrValue;
  }
}
