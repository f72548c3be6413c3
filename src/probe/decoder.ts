/**
 * Flyweight decoding of probe records (layout.ts) straight from the batch buffer: numeric fields
 * are typed-array reads at fixed offsets, strings are decoded only when asked. One view object is
 * re-pointed at each record; `copy()` detaches a record when it must outlive the batch.
 */
import type { EventBatch, EventView, SockAddr } from './event';
import { splitNulSeparated } from './event';
import { EVENT_TYPES, EVENT_TYPE_COUNT, eventTypeByName } from './event-types';
import { FLAG_FD_CHECKED, FLAG_FD_SOCKET, FLAG_KILL_FAILED, FLAG_KILL_HELD, FLAG_KILLED, FLAG_TRUNCATED, HEADER_SIZE, MAX_RECORD, OFF, SLOT } from './layout';
import { AUDIT_UID_UNSET } from './linux';

const TWO32 = 4294967296;
const textDecoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Decodes bytes [start, end) of the batch buffer as UTF-8. Buffer's own slice decoder is 2.5x
 * faster than TextDecoder on the short strings of events (measured 103 vs 253 ns for a path) and
 * needs no subarray per string; it is undocumented, so fall back to toString() without it.
 */
type Utf8Slicer = (buf: Buffer, start: number, end: number) => string;
const utf8Slice: Utf8Slicer =
  typeof (Buffer.prototype as unknown as { utf8Slice?: unknown }).utf8Slice === 'function'
    ? (buf, start, end) => (buf as unknown as { utf8Slice(s: number, e: number): string }).utf8Slice(start, end)
    : (buf, start, end) => buf.toString('utf8', start, end);

/** A malformed record: where it starts and what is wrong. */
export class RecordError extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`bad record at byte ${offset}: ${reason}`);
    this.name = 'RecordError';
  }
}

// Per type: bit i set when arg i is a C int (sign-extend from 32 bits) or a u32 id (uid/gid),
// and bit s set when string slot s is a path (normalised on read).
const int32Args = new Uint8Array(256);
const uint32Args = new Uint8Array(256);
const T_EXECVE = eventTypeByName('execve')!.id;
const T_EXECVEAT = eventTypeByName('execveat')!.id;
const T_CONNECT = eventTypeByName('connect')!.id;
const T_ACCEPT = eventTypeByName('accept')!.id;
const T_ACCEPT4 = eventTypeByName('accept4')!.id;
const T_RECVFROM = eventTypeByName('recvfrom')!.id;
const T_SENDTO = eventTypeByName('sendto')!.id;

/**
 * A capability set as a bigint. Most processes of a node carry one of a few sets, and building a
 * bigint from two words costs four allocations: the last one built is reused when it repeats.
 */
let lastCapHi = -1;
let lastCapLo = -1;
let lastCap = 0n;
function capabilitySet(hi: number, lo: number): bigint {
  if (hi !== lastCapHi || lo !== lastCapLo) {
    lastCap = (BigInt(hi) << 32n) | BigInt(lo);
    lastCapHi = hi;
    lastCapLo = lo;
  }
  return lastCap;
}

function nulSeparated(text: string | undefined): string[] | undefined {
  return text === undefined ? undefined : splitNulSeparated(text);
}

const pathSlots = new Uint8Array(256);
for (const t of EVENT_TYPES) {
  for (const p of t.params) {
    if (p.source.from === 'arg') {
      if (p.kind === 'fd' || p.kind === 'pid' || p.kind === 'int' || p.kind === 'signal' || p.kind === 'keyctl_op') int32Args[t.id]! |= 1 << p.source.index;
      if (p.kind === 'uid' || p.kind === 'gid' || p.kind === 'uint32' || p.kind === 'prot_flags' || p.kind === 'mmap_flags') uint32Args[t.id]! |= 1 << p.source.index;
    } else if (p.source.from === 'str' && p.kind === 'path') {
      pathSlots[t.id]! |= 1 << p.source.slot;
    }
  }
}

/** Whether string slot `slot` of an event type holds a path (normalised by `str`). */
export function isPathSlot(typeId: number, slot: 0 | 1): boolean {
  return ((pathSlots[typeId & 255]! >> slot) & 1) === 1;
}

/** A `/` followed by `/` or `.`: one pass, where two substring searches stopped at every `/`. */
function needsNormalizing(path: string): boolean {
  const last = path.length - 1;
  for (let i = 0; i < last; i++) {
    if (path.charCodeAt(i) === 47) {
      const next = path.charCodeAt(i + 1);
      if (next === 47 || next === 46) return true;
    }
  }
  return false;
}

/** Resolves `.` and `..` components of an absolute path the way the kernel joins them (no symlinks). */
export function normalizePath(path: string): string {
  if (path.length === 0 || path.charCodeAt(0) !== 47 /* / */) return path;
  if (!needsNormalizing(path)) return path;
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return '/' + out.join('/');
}

function parseSockaddr(u8: Uint8Array, off: number, len: number): SockAddr | undefined {
  if (len < 2) return undefined;
  const family = u8[off]! | (u8[off + 1]! << 8);
  if (family === 2 && len >= 8) {
    return { family: 'ipv4', address: `${u8[off + 4]}.${u8[off + 5]}.${u8[off + 6]}.${u8[off + 7]}`, port: (u8[off + 2]! << 8) | u8[off + 3]! };
  }
  if (family === 10 && len >= 24) {
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(((u8[off + 8 + 2 * i]! << 8) | u8[off + 9 + 2 * i]!).toString(16));
    return { family: 'ipv6', address: compressIpv6(groups), port: (u8[off + 2]! << 8) | u8[off + 3]! };
  }
  if (family === 1) {
    if (len <= 2 || u8[off + 2] === 0) return { family: 'unix', address: '', port: 0 };
    let end = off + 2;
    const stop = off + len;
    while (end < stop && u8[end] !== 0) end++;
    return { family: 'unix', address: textDecoder.decode(u8.subarray(off + 2, end)), port: 0 };
  }
  return { family: 'other', address: '', port: 0 };
}

function compressIpv6(groups: string[]): string {
  if (groups[0] === '0' && groups[1] === '0' && groups[2] === '0' && groups[3] === '0' && groups[4] === '0' && groups[5] === 'ffff') {
    const hi = parseInt(groups[6]!, 16);
    const lo = parseInt(groups[7]!, 16);
    return `::ffff:${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
}

/** Header fields as indexes into 32-bit words (W) and 16-bit halves (H) of a record: OFF, divided. */
const W = {
  tsNs: OFF.tsNs >> 2, size: OFF.size >> 2, tid: OFF.tid >> 2, tgid: OFF.tgid >> 2, ptgid: OFF.ptgid >> 2, cpu: OFF.cpu >> 2,
  cgroupId: OFF.cgroupId >> 2, ret: OFF.ret >> 2, uid: OFF.uid >> 2, gid: OFF.gid >> 2, euid: OFF.euid >> 2, egid: OFF.egid >> 2,
  loginuid: OFF.loginuid >> 2, vpid: OFF.vpid >> 2, pidNs: OFF.pidNs >> 2, mntNs: OFF.mntNs >> 2, tty: OFF.tty >> 2,
  exeFlags: OFF.exeFlags >> 2, capEff: OFF.capEff >> 2, capPrm: OFF.capPrm >> 2, args: OFF.args >> 2,
} as const;
const H = { type: OFF.type >> 1, flags: OFF.flags >> 1 } as const;

const COMM_BYTES = 16;
/**
 * Process names decoded before, by the 16 bytes of the comm field: nearly every event names one of
 * a few hundred processes, and decoding anew would allocate a string per event. Direct-mapped: a
 * collision costs one decode. Shared by all views (a name is the same text in any batch).
 */
const COMM_CACHE_SLOTS = 256;
const commKeys = new Uint32Array(COMM_CACHE_SLOTS * 4);
const commNames: (string | undefined)[] = new Array<string | undefined>(COMM_CACHE_SLOTS).fill(undefined);

/** An EventView over one record of a buffer; `at()` re-points it (no allocation). */
export class RecordView implements EventView {
  private u8: Uint8Array;
  private buf: Buffer;
  private u16: Uint16Array;
  private u32: Uint32Array;
  private i32: Int32Array;
  /** Byte offset of the current record. */
  private base = 0;
  private w = 0; // base / 4

  constructor(buffer: ArrayBuffer) {
    this.u8 = new Uint8Array(buffer);
    this.buf = Buffer.from(buffer);
    this.u16 = new Uint16Array(buffer, 0, buffer.byteLength >> 1);
    this.u32 = new Uint32Array(buffer, 0, buffer.byteLength >> 2);
    this.i32 = new Int32Array(buffer, 0, buffer.byteLength >> 2);
  }

  at(byteOffset: number): this {
    this.base = byteOffset;
    this.w = byteOffset >> 2;
    this.strRead = 0;
    this.rawRead = 0;
    return this;
  }

  /** Size in bytes of the current record. */
  get size(): number {
    return this.u32[this.w + W.size]!;
  }
  get flags(): number {
    return this.u16[(this.base >> 1) + H.flags]!;
  }
  get typeId(): number {
    return this.u16[(this.base >> 1) + H.type]!;
  }
  get tsNs(): number {
    return this.u32[this.w + W.tsNs]! + this.u32[this.w + W.tsNs + 1]! * TWO32;
  }
  get cpu(): number {
    return this.u32[this.w + W.cpu]!;
  }
  get tid(): number {
    return this.u32[this.w + W.tid]!;
  }
  get tgid(): number {
    return this.u32[this.w + W.tgid]!;
  }
  get ptgid(): number {
    return this.u32[this.w + W.ptgid]!;
  }
  get uid(): number {
    return this.u32[this.w + W.uid]!;
  }
  get gid(): number {
    return this.u32[this.w + W.gid]!;
  }
  get euid(): number {
    return this.u32[this.w + W.euid]!;
  }
  get egid(): number {
    return this.u32[this.w + W.egid]!;
  }
  get loginuid(): number {
    const v = this.u32[this.w + W.loginuid]!;
    return v === AUDIT_UID_UNSET ? -1 : v;
  }
  get ret(): number {
    return this.u32[this.w + W.ret]! + this.i32[this.w + W.ret + 1]! * TWO32;
  }
  get cgroupId(): number {
    return this.u32[this.w + W.cgroupId]! + this.u32[this.w + W.cgroupId + 1]! * TWO32;
  }
  get pidNs(): number {
    return this.u32[this.w + W.pidNs]!;
  }
  get mntNs(): number {
    return this.u32[this.w + W.mntNs]!;
  }
  get vpid(): number {
    return this.u32[this.w + W.vpid]!;
  }
  get tty(): number {
    return this.u32[this.w + W.tty]!;
  }
  get truncated(): boolean {
    return (this.flags & FLAG_TRUNCATED) !== 0;
  }
  killFlags(): number {
    return this.flags & (FLAG_KILLED | FLAG_KILL_HELD | FLAG_KILL_FAILED);
  }

  dupTargetIsSocket(): boolean | undefined {
    const f = this.flags;
    return (f & FLAG_FD_CHECKED) === 0 ? undefined : (f & FLAG_FD_SOCKET) !== 0;
  }

  comm(): string {
    const start = this.base + OFF.comm;
    if (start + COMM_BYTES > this.u8.length) return this.commSlice(start);
    // The field's four words pick a cache slot; a hit returns the string decoded before.
    const w = start >> 2;
    const a = this.u32[w]!;
    const b = this.u32[w + 1]!;
    const c = this.u32[w + 2]!;
    const d = this.u32[w + 3]!;
    const slot = (Math.imul(a ^ Math.imul(b, 0x9e3779b1) ^ Math.imul(c, 0x85ebca6b) ^ Math.imul(d, 0xc2b2ae35), 0x27d4eb2d) >>> 24) & (COMM_CACHE_SLOTS - 1);
    const k = slot << 2;
    const cached = commNames[slot];
    if (cached !== undefined && commKeys[k] === a && commKeys[k + 1] === b && commKeys[k + 2] === c && commKeys[k + 3] === d) return cached;
    const name = this.commSlice(start);
    commKeys[k] = a;
    commKeys[k + 1] = b;
    commKeys[k + 2] = c;
    commKeys[k + 3] = d;
    commNames[slot] = name;
    return name;
  }

  private commSlice(start: number): string {
    // Clamped: a truncated record may end before its comm field.
    start = Math.min(start, this.u8.length);
    const limit = Math.min(start + COMM_BYTES, this.u8.length);
    let end = start;
    while (end < limit && this.u8[end] !== 0) end++;
    return utf8Slice(this.buf, start, end);
  }

  rawArg(index: number): number {
    if (index < 0 || index > 5) return 0;
    const w = this.w + W.args + index * 2;
    const lo = this.u32[w]!;
    const t = this.typeId & 255;
    if ((int32Args[t]! >> index) & 1) return lo | 0;
    if ((uint32Args[t]! >> index) & 1) return lo;
    return lo + this.i32[w + 1]! * TWO32;
  }

  /** Byte range of a variable-part slot, set by `locate`. */
  private slotStart = 0;
  private slotEnd = 0;

  /** Finds a variable-part slot; false when absent or out of bounds. */
  private locate(slot: number): boolean {
    const d = (this.base + OFF.desc) >> 1;
    const off = this.u16[d + slot * 2]!;
    const len = this.u16[d + slot * 2 + 1]!;
    if ((off === 0 && len === 0) || off < HEADER_SIZE || off + len > this.size) return false;
    this.slotStart = this.base + off;
    this.slotEnd = this.slotStart + len;
    return true;
  }

  /** Raw bytes of a variable-part slot, or undefined when absent or out of bounds. */
  private slot(slot: number): Uint8Array | undefined {
    return this.locate(slot) ? this.u8.subarray(this.slotStart, this.slotEnd) : undefined;
  }

  /**
   * `strRaw` and `str` of the current record, per slot (bit `1 << slot` of `rawRead` / `strRead`
   * says it is set): fd.name, fd.nameraw, fd.directory, fd.filename, evt.arg.name, the state's
   * fd table and the rules' path gate all read the same path, which would otherwise be decoded
   * (and normalised) once per reader. `at()` clears both.
   */
  private rawRead = 0;
  private raw0: string | undefined;
  private raw1: string | undefined;
  private strRead = 0;
  private str0: string | undefined;
  private str1: string | undefined;

  str(slot: 0 | 1): string | undefined {
    if ((this.strRead & (1 << slot)) !== 0) return slot === 0 ? this.str0 : this.str1;
    const s = this.strRaw(slot);
    const v = s === undefined || !isPathSlot(this.typeId, slot) ? s : normalizePath(s);
    if (slot === 0) this.str0 = v;
    else this.str1 = v;
    this.strRead |= 1 << slot;
    return v;
  }

  strRaw(slot: 0 | 1): string | undefined {
    if ((this.rawRead & (1 << slot)) !== 0) return slot === 0 ? this.raw0 : this.raw1;
    const s = this.text(slot);
    if (slot === 0) this.raw0 = s;
    else this.raw1 = s;
    this.rawRead |= 1 << slot;
    return s;
  }

  sockaddr(): SockAddr | undefined {
    return this.sockaddrIn(SLOT.sockaddr);
  }

  localSockaddr(): SockAddr | undefined {
    return this.typeId === T_CONNECT || this.typeId === T_ACCEPT || this.typeId === T_ACCEPT4 ? this.sockaddrIn(SLOT.localSockaddr) : undefined;
  }

  ioData(): Uint8Array | undefined {
    return this.typeId === T_RECVFROM || this.typeId === T_SENDTO ? this.slot(SLOT.data) : undefined;
  }

  private sockaddrIn(slot: number): SockAddr | undefined {
    const bytes = this.slot(slot);
    return bytes === undefined ? undefined : parseSockaddr(bytes, 0, bytes.length);
  }

  capEffective(): bigint {
    return capabilitySet(this.u32[this.w + W.capEff + 1] ?? 0, this.u32[this.w + W.capEff] ?? 0);
  }
  capPermitted(): bigint {
    return capabilitySet(this.u32[this.w + W.capPrm + 1] ?? 0, this.u32[this.w + W.capPrm] ?? 0);
  }

  /** A slot decoded as UTF-8 text, or undefined when absent. */
  private text(slot: number): string | undefined {
    return this.locate(slot) ? utf8Slice(this.buf, this.slotStart, this.slotEnd) : undefined;
  }

  argv(): readonly string[] | undefined {
    return nulSeparated(this.text(SLOT.argv));
  }
  argvText(): string | undefined {
    return this.text(SLOT.argv);
  }
  exePath(): string | undefined {
    return this.text(SLOT.exe);
  }
  cwd(): string | undefined {
    return this.text(SLOT.cwd);
  }
  exeFlags(): number {
    return this.u32[this.w + W.exeFlags]!;
  }
  env(): readonly string[] | undefined {
    return nulSeparated(this.envText());
  }
  envText(): string | undefined {
    // Only a successful exec carries its environment (in str1; see events.h).
    if (this.ret !== 0 || (this.typeId !== T_EXECVE && this.typeId !== T_EXECVEAT)) return undefined;
    return this.text(SLOT.str1);
  }

  copy(): EventView {
    const size = Math.min(this.size, this.u8.length - this.base);
    const buf = new ArrayBuffer((size + 7) & ~7);
    new Uint8Array(buf).set(this.u8.subarray(this.base, this.base + size));
    return new RecordView(buf).at(0);
  }
}

/**
 * Checks framing of `bytes` bytes of records starting at `start` and returns how many there are.
 * Throws RecordError on the first record whose header or descriptors do not fit.
 */
export function scanRecords(u8: Uint8Array, start: number, bytes: number, strict: boolean): number {
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const end = start + bytes;
  let count = 0;
  let off = start;
  while (off < end) {
    if (end - off < HEADER_SIZE) throw new RecordError(off, `truncated header (${end - off} bytes left)`);
    const size = dv.getUint32(off + OFF.size, true);
    if (size < HEADER_SIZE || size % 8 !== 0 || size > MAX_RECORD) throw new RecordError(off, `invalid size ${size}`);
    if (size > end - off) throw new RecordError(off, `size ${size} runs past the end (${end - off} bytes left)`);
    if (strict) {
      const type = dv.getUint16(off + OFF.type, true);
      if (type >= EVENT_TYPE_COUNT) throw new RecordError(off, `unknown event type ${type}`);
      for (let s = 0; s < 6; s++) {
        const o = dv.getUint16(off + OFF.desc + s * 4, true);
        const l = dv.getUint16(off + OFF.desc + s * 4 + 2, true);
        if ((o !== 0 || l !== 0) && (o < HEADER_SIZE || o + l > size)) throw new RecordError(off, `descriptor ${s} (${o}+${l}) outside the record`);
      }
    }
    off += size;
    count++;
  }
  return count;
}

/** A batch over `[0, bytes)` of a buffer, optionally limited to some event types. */
export class BufferBatch implements EventBatch {
  count = 0;
  /** All records in the batch, including those the type mask hides. */
  recordCount = 0;
  private bytes = 0;
  private readonly view: RecordView;
  private readonly sizes: Uint32Array;
  private readonly types: Uint16Array;
  private typeMask: Uint8Array | undefined;

  constructor(readonly buffer: ArrayBuffer) {
    this.view = new RecordView(buffer);
    this.sizes = new Uint32Array(buffer, 0, buffer.byteLength >> 2);
    this.types = new Uint16Array(buffer, 0, buffer.byteLength >> 1);
  }

  /** Delivers only types with a non-zero entry (user-space filtering, e.g. for replays). */
  setTypeMask(mask: Uint8Array | undefined): void {
    this.typeMask = mask;
  }

  /** Points the batch at the first `bytes` bytes; returns the number of events it will deliver. */
  reset(bytes: number): number {
    this.bytes = Math.min(bytes, this.buffer.byteLength) & ~7;
    bytes = this.bytes;
    let n = 0;
    let all = 0;
    const mask = this.typeMask;
    for (let off = 0; off < bytes; ) {
      const size = this.sizes[(off >> 2) + W.size]!;
      if (size < HEADER_SIZE || (size & 7) !== 0 || off + size > this.bytes) break;
      all++;
      if (mask === undefined || mask[this.types[(off >> 1) + H.type]!]) n++;
      off += size;
    }
    this.recordCount = all;
    this.count = n;
    return n;
  }

  forEach(fn: (ev: EventView) => void): void {
    const mask = this.typeMask;
    const view = this.view;
    for (let off = 0; off < this.bytes; ) {
      const size = this.sizes[(off >> 2) + W.size]!;
      if (size < HEADER_SIZE || (size & 7) !== 0 || off + size > this.bytes) break;
      if (mask === undefined || mask[this.types[(off >> 1) + H.type]!]) fn(view.at(off));
      off += size;
    }
  }

  /** Bytes of records in the current batch. */
  get byteLength(): number {
    return this.bytes;
  }

  /** Adds per-type delivered counts of the current batch into `counts`. */
  countTypes(counts: number[]): void {
    const mask = this.typeMask;
    for (let off = 0; off < this.bytes; ) {
      const size = this.sizes[(off >> 2) + W.size]!;
      if (size < HEADER_SIZE || (size & 7) !== 0 || off + size > this.bytes) break;
      const t = this.types[(off >> 1) + H.type]!;
      if ((mask === undefined || mask[t]) && t < counts.length) counts[t]!++;
      off += size;
    }
  }
}
