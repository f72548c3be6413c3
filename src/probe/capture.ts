/**
 * Capture files: the probe's batch records written verbatim, so a replay feeds the decoder the
 * exact bytes the kernel produced.
 *
 * File header (64 bytes, little-endian):
 *   0 magic "LNRCAP\0\1"   8 u32 format version   12 u32 probe ABI version   16 u32 header size
 *  20 u32 record header size   24 i64 boot offset ns (REALTIME − BOOTTIME at record time)
 *  32 i64 wall-clock ns when recording started   40..63 reserved (0)
 * Then chunks, one per batch: u32 chunk magic "LNRB", u32 payload bytes, u32 record count,
 * u32 reserved, payload (whole records).
 *
 * Version 2 (a capture a rule triggered) adds one chunk right after the header: magic "LNRT",
 * u32 payload bytes, u32 0, u32 0, payload = what triggered it as UTF-8 JSON padded with spaces to
 * 8 bytes. Version 1 files (`lanner record`) are unchanged and still written as version 1, so an
 * older build reads them; this build reads both.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createPrivateFileSync, describeFileError, fileKind, PrivateFileError } from '../lib/private-file';
import type { EventBatch, EventSource, SourceStats } from './event';
import { EVENT_TYPE_COUNT } from './event-types';
import { BufferBatch, RecordError, scanRecords } from './decoder';
import { ABI_VERSION, HEADER_SIZE } from './layout';
import { bootOffsetNs } from './clock';
import { openProbe, typeMask, type ProbeOptions } from './probe';

export const CAPTURE_MAGIC = Buffer.from([0x4c, 0x4e, 0x52, 0x43, 0x41, 0x50, 0x00, 0x01]); // "LNRCAP\0\1"
/** Records only (`lanner record`). */
export const CAPTURE_VERSION = 1;
/** Records after a trigger chunk (a rule-triggered capture). */
export const CAPTURE_VERSION_TRIGGERED = 2;
export const CAPTURE_HEADER_SIZE = 64;
const CHUNK_MAGIC = 0x42524e4c; // "LNRB"
const TRIGGER_MAGIC = 0x54524e4c; // "LNRT"
/** Largest trigger chunk accepted (it holds a rule name and a few numbers). */
const MAX_TRIGGER_BYTES = 64 << 10;
/** Bytes before each chunk's payload. */
export const CHUNK_HEADER_SIZE = 16;
/** Largest chunk accepted on replay (a batch buffer is far smaller). */
export const MAX_CHUNK_BYTES = 64 << 20;

/**
 * A capture that cannot be read or written: a malformed file (`offset` is the file position where
 * reading failed) or a path that is not a capture at all (no offset; `offset` is 0).
 */
export class CaptureError extends Error {
  readonly offset: number;
  constructor(message: string, offset?: number) {
    super(offset === undefined ? message : `${message} (at byte ${offset})`);
    this.name = 'CaptureError';
    this.offset = offset ?? 0;
  }
}

/** Captures hold command lines (passwords given as arguments): owner-only from creation. */
export const CAPTURE_FILE_MODE = 0o600;

/** What made the agent write a capture (version 2 files). */
export interface CaptureTrigger {
  /** The rule whose match started the capture. */
  readonly rule: string;
  /** The matched event's time, ns since the epoch, as a decimal string (JSON has no 64-bit integers). */
  readonly timeNs: string;
  /** `rules` (the rule has `capture: true`) or `all_rules`. */
  readonly mode: string;
  /** Window asked for before and after the match, in milliseconds. */
  readonly preMs: number;
  readonly durationMs: number;
  readonly hostname: string;
}

export interface CaptureHeader {
  readonly version: number;
  readonly abiVersion: number;
  readonly bootOffsetNs: bigint;
  readonly startedNs: bigint;
  /** Version 2: what triggered the capture. */
  readonly trigger?: CaptureTrigger;
}

export function encodeCaptureHeader(bootOffset: bigint, startedNs: bigint, version: number = CAPTURE_VERSION): Buffer {
  const h = Buffer.alloc(CAPTURE_HEADER_SIZE);
  CAPTURE_MAGIC.copy(h, 0);
  h.writeUInt32LE(version, 8);
  h.writeUInt32LE(ABI_VERSION, 12);
  h.writeUInt32LE(CAPTURE_HEADER_SIZE, 16);
  h.writeUInt32LE(HEADER_SIZE, 20);
  h.writeBigInt64LE(bootOffset, 24);
  h.writeBigInt64LE(startedNs, 32);
  return h;
}

export function decodeCaptureHeader(h: Uint8Array): CaptureHeader {
  if (h.length < CAPTURE_HEADER_SIZE) throw new CaptureError(`file too short for a capture header (${h.length} bytes)`, h.length);
  const b = Buffer.from(h.buffer, h.byteOffset, h.length);
  if (!b.subarray(0, 8).equals(CAPTURE_MAGIC)) throw new CaptureError('not a lanner capture (bad magic)', 0);
  const version = b.readUInt32LE(8);
  if (version !== CAPTURE_VERSION && version !== CAPTURE_VERSION_TRIGGERED) {
    throw new CaptureError(`unsupported capture format version ${version} (this build reads ${CAPTURE_VERSION} and ${CAPTURE_VERSION_TRIGGERED})`, 8);
  }
  const abiVersion = b.readUInt32LE(12);
  if (abiVersion !== ABI_VERSION) throw new CaptureError(`capture has probe ABI ${abiVersion}, this build decodes ${ABI_VERSION}`, 12);
  if (b.readUInt32LE(16) !== CAPTURE_HEADER_SIZE) throw new CaptureError(`unexpected header size ${b.readUInt32LE(16)}`, 16);
  if (b.readUInt32LE(20) !== HEADER_SIZE) throw new CaptureError(`unexpected record header size ${b.readUInt32LE(20)}`, 20);
  return { version, abiVersion, bootOffsetNs: b.readBigInt64LE(24), startedNs: b.readBigInt64LE(32) };
}

/** The trigger chunk of a version 2 file: header and JSON padded with spaces to 8 bytes. */
export function encodeTriggerChunk(trigger: CaptureTrigger): Buffer {
  const json = Buffer.from(JSON.stringify(trigger), 'utf8');
  const padded = (json.length + 7) & ~7;
  if (padded > MAX_TRIGGER_BYTES) throw new CaptureError(`capture trigger too large (${json.length} bytes)`);
  const chunk = Buffer.alloc(CHUNK_HEADER_SIZE + padded, 0x20);
  chunk.writeUInt32LE(TRIGGER_MAGIC, 0);
  chunk.writeUInt32LE(padded, 4);
  chunk.writeUInt32LE(0, 8);
  chunk.writeUInt32LE(0, 12);
  json.copy(chunk, CHUNK_HEADER_SIZE);
  return chunk;
}

function decodeTrigger(text: string): CaptureTrigger | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const num = (k: string): number | undefined => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : undefined);
  const rule = str('rule');
  const timeNs = str('timeNs');
  const mode = str('mode');
  const hostname = str('hostname');
  const preMs = num('preMs');
  const durationMs = num('durationMs');
  if (rule === undefined || timeNs === undefined || !/^\d+$/.test(timeNs) || mode === undefined || hostname === undefined || preMs === undefined || durationMs === undefined) return undefined;
  return { rule, timeNs, mode, preMs, durationMs, hostname };
}

/** Where capture bytes come from: a file or memory. */
interface ByteSource {
  readonly size: number;
  /** Reads up to `len` bytes at `pos` into `into` at 0; returns bytes read. */
  read(pos: number, len: number, into: Uint8Array): number;
  close(): void;
}

/**
 * Opens a capture for reading. Only a regular file: a directory fails on read, a FIFO would block
 * the open (and every read) forever, a device may do anything when opened. The type is looked at
 * before opening, then again on what was opened, which O_NONBLOCK keeps from blocking if the path
 * was swapped for a FIFO in between.
 */
function openCaptureFd(file: string): number {
  const notCapture = (reason: string): CaptureError => new CaptureError(`cannot read capture ${file}: ${reason}`);
  try {
    const st = statSync(file);
    if (!st.isFile()) throw notCapture(`is ${fileKind(st)}, not a regular file`);
  } catch (err) {
    throw err instanceof CaptureError ? err : notCapture(describeFileError(err));
  }
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw notCapture(describeFileError(err));
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw notCapture(`is ${fileKind(st)}, not a regular file`);
  }
  return fd;
}

function fileSource(file: string): ByteSource {
  const fd = openCaptureFd(file);
  const size = fstatSync(fd).size;
  return {
    size,
    read: (pos, len, into) => {
      let got = 0;
      while (got < len) {
        const n = readSync(fd, into, got, len - got, pos + got);
        if (n === 0) break;
        got += n;
      }
      return got;
    },
    close: () => closeSync(fd),
  };
}

function memorySource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: (pos, len, into) => {
      const n = Math.max(0, Math.min(len, bytes.length - pos));
      into.set(bytes.subarray(pos, pos + n), 0);
      return n;
    },
    close: () => undefined,
  };
}

/** Reads a capture chunk by chunk into one reused, 8-byte aligned buffer. */
export class CaptureReader {
  readonly header: CaptureHeader;
  private pos = CAPTURE_HEADER_SIZE;
  private buffer = new ArrayBuffer(1 << 20);
  private u8 = new Uint8Array(this.buffer);
  private readonly chunkHeader = new Uint8Array(CHUNK_HEADER_SIZE);

  constructor(private readonly source: ByteSource) {
    const h = new Uint8Array(CAPTURE_HEADER_SIZE);
    const n = source.read(0, CAPTURE_HEADER_SIZE, h);
    const header = decodeCaptureHeader(h.subarray(0, n));
    this.header = header.version === CAPTURE_VERSION_TRIGGERED ? { ...header, trigger: this.readTrigger() } : header;
  }

  /** The trigger chunk of a version 2 file (right after the header). */
  private readTrigger(): CaptureTrigger {
    const at = this.pos;
    const got = this.source.read(at, CHUNK_HEADER_SIZE, this.chunkHeader);
    if (got < CHUNK_HEADER_SIZE) throw new CaptureError('truncated trigger chunk header', at);
    const dv = new DataView(this.chunkHeader.buffer);
    if (dv.getUint32(0, true) !== TRIGGER_MAGIC) throw new CaptureError('a version 2 capture must start with its trigger chunk', at);
    const bytes = dv.getUint32(4, true);
    if (bytes % 8 !== 0 || bytes > MAX_TRIGGER_BYTES) throw new CaptureError(`invalid trigger chunk length ${bytes}`, at + 4);
    const payload = new Uint8Array(bytes);
    if (this.source.read(at + CHUNK_HEADER_SIZE, bytes, payload) < bytes) throw new CaptureError('truncated trigger chunk', at + CHUNK_HEADER_SIZE);
    const trigger = decodeTrigger(Buffer.from(payload).toString('utf8'));
    if (trigger === undefined) throw new CaptureError('malformed trigger chunk', at + CHUNK_HEADER_SIZE);
    this.pos = at + CHUNK_HEADER_SIZE + bytes;
    return trigger;
  }

  static fromFile(file: string): CaptureReader {
    const src = fileSource(file);
    try {
      return new CaptureReader(src);
    } catch (err) {
      src.close();
      throw err;
    }
  }

  static fromBytes(bytes: Uint8Array): CaptureReader {
    return new CaptureReader(memorySource(bytes));
  }

  /** The next chunk's records (valid until the next call), or undefined at a clean end of file. */
  next(): { buffer: ArrayBuffer; bytes: number; count: number } | undefined {
    if (this.pos === this.source.size) return undefined;
    const at = this.pos;
    const got = this.source.read(at, CHUNK_HEADER_SIZE, this.chunkHeader);
    if (got < CHUNK_HEADER_SIZE) throw new CaptureError(`truncated chunk header (${got} of ${CHUNK_HEADER_SIZE} bytes)`, at);
    const dv = new DataView(this.chunkHeader.buffer);
    if (dv.getUint32(0, true) !== CHUNK_MAGIC) throw new CaptureError('bad chunk magic', at);
    const bytes = dv.getUint32(4, true);
    const count = dv.getUint32(8, true);
    if (bytes % 8 !== 0 || bytes > MAX_CHUNK_BYTES) throw new CaptureError(`invalid chunk length ${bytes}`, at + 4);
    if (bytes > this.buffer.byteLength) {
      this.buffer = new ArrayBuffer(bytes);
      this.u8 = new Uint8Array(this.buffer);
    }
    const payload = at + CHUNK_HEADER_SIZE;
    const n = this.source.read(payload, bytes, this.u8);
    if (n < bytes) throw new CaptureError(`truncated chunk: ${n} of ${bytes} payload bytes`, payload + n);
    let found: number;
    try {
      found = scanRecords(this.u8, 0, bytes, true);
    } catch (err) {
      if (err instanceof RecordError) throw new CaptureError(err.reason, payload + err.offset);
      throw err;
    }
    if (found !== count) throw new CaptureError(`chunk says ${count} records, holds ${found}`, at + 8);
    this.pos = payload + bytes;
    return { buffer: this.buffer, bytes, count };
  }

  close(): void {
    this.source.close();
  }
}

/**
 * Appends batches to a capture file. The file is created new with mode 0600 (an existing regular
 * file is replaced, not written through); a symbolic link or anything else at the path is refused.
 */
export class CaptureWriter {
  private fd: number;
  private readonly chunkHeader = Buffer.alloc(CHUNK_HEADER_SIZE);
  events = 0;
  /** Record bytes written. */
  bytes = 0;
  /** Bytes of the whole file: header, trigger and chunk headers included. */
  fileBytes = 0;

  /** With a `trigger`, the file is version 2 and starts with it; without, version 1. */
  constructor(file: string, bootOffset: bigint = bootOffsetNs(), trigger?: CaptureTrigger) {
    try {
      this.fd = createPrivateFileSync(file, CAPTURE_FILE_MODE);
    } catch (err) {
      if (err instanceof PrivateFileError) throw new CaptureError(`cannot write capture ${err.message}`);
      throw err;
    }
    const started = BigInt(Date.now()) * 1_000_000n;
    try {
      this.fileBytes += writeSync(this.fd, encodeCaptureHeader(bootOffset, started, trigger ? CAPTURE_VERSION_TRIGGERED : CAPTURE_VERSION));
      if (trigger) this.fileBytes += writeSync(this.fd, encodeTriggerChunk(trigger));
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Writes `bytes` bytes of `buffer` from `offset` (whole records) as one chunk. */
  writeRecords(buffer: ArrayBuffer, bytes: number, count: number, offset = 0): void {
    if (bytes === 0) return;
    this.chunkHeader.writeUInt32LE(CHUNK_MAGIC, 0);
    this.chunkHeader.writeUInt32LE(bytes, 4);
    this.chunkHeader.writeUInt32LE(count, 8);
    this.chunkHeader.writeUInt32LE(0, 12);
    writeSync(this.fd, this.chunkHeader);
    writeSync(this.fd, new Uint8Array(buffer, offset, bytes));
    this.events += count;
    this.bytes += bytes;
    this.fileBytes += CHUNK_HEADER_SIZE + bytes;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

export interface CaptureSource extends EventSource {
  readonly header: CaptureHeader;
  /** Resolves when every chunk was delivered; rejects with CaptureError on a corrupt file. */
  readonly done: Promise<void>;
}

class ReplaySource implements CaptureSource {
  running = false;
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (err: Error) => void;
  private mask: Uint8Array | undefined;
  private closed = false;
  private delivered = 0;
  private batches = 0;
  private readonly deliveredByType: number[] = new Array<number>(EVENT_TYPE_COUNT).fill(0);

  constructor(private readonly reader: CaptureReader) {
    this.done = new Promise<void>((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    // A replay nobody awaits must not crash the process on a corrupt file.
    this.done.catch(() => undefined);
  }

  get header(): CaptureHeader {
    return this.reader.header;
  }

  async start(onBatch: (batch: EventBatch) => void): Promise<void> {
    if (this.running || this.closed) return;
    this.running = true;
    const step = (): void => {
      if (this.closed) return;
      try {
        const chunk = this.reader.next();
        if (!chunk) {
          this.finish();
          return;
        }
        const batch = new BufferBatch(chunk.buffer);
        batch.setTypeMask(this.mask);
        const n = batch.reset(chunk.bytes);
        if (n > 0) {
          batch.countTypes(this.deliveredByType);
          this.delivered += n;
          this.batches++;
          onBatch(batch);
        }
      } catch (err) {
        this.finish(err as Error);
        return;
      }
      setImmediate(step);
    };
    setImmediate(step);
  }

  private finish(err?: Error): void {
    this.running = false;
    this.reader.close();
    this.closed = true;
    if (err) this.rejectDone(err);
    else this.resolveDone();
  }

  setInterestingTypes(names: ReadonlySet<string>): void {
    this.mask = typeMask(names);
  }

  stats(): SourceStats {
    return {
      seen: this.delivered,
      delivered: this.delivered,
      droppedRingFull: 0,
      droppedTooLarge: 0,
      droppedOther: 0,
      batches: this.batches,
      trickleWaits: 0,
      deliveredByType: this.deliveredByType.slice(),
      droppedByType: new Array<number>(EVENT_TYPE_COUNT).fill(0),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.finish();
  }
}

/** Replays a capture file. Throws CaptureError at once for a bad header; chunk errors reject `done`. */
export function openCapture(file: string): CaptureSource {
  return new ReplaySource(CaptureReader.fromFile(file));
}

/** Replays capture bytes held in memory (tests, fuzzing). */
export function openCaptureBytes(bytes: Uint8Array): CaptureSource {
  return new ReplaySource(CaptureReader.fromBytes(bytes));
}

export interface RecordOptions {
  file: string;
  /** Stop after this many seconds (default: until `signal` aborts). */
  durationS?: number;
  signal?: AbortSignal;
  probeOptions?: ProbeOptions;
  /** Called once the probe is attached and events are being written. */
  onStarted?: () => void;
}

export interface RecordResult {
  events: number;
  bytes: number;
  stats: SourceStats;
}

/** `lanner record`: runs the probe and writes every batch to `file` until the duration or signal ends it. */
export async function recordCapture(opts: RecordOptions): Promise<RecordResult> {
  // The file first: a path that cannot be written fails before the probe is loaded.
  const writer = new CaptureWriter(opts.file);
  let source: Awaited<ReturnType<typeof openProbe>>;
  try {
    source = await openProbe(opts.probeOptions);
  } catch (err) {
    writer.close();
    // Nothing was recorded: leave no header-only file behind (unlink never follows a link).
    try {
      unlinkSync(opts.file);
    } catch {
      // Already gone.
    }
    throw err;
  }
  try {
    await source.start((batch) => {
      if (batch instanceof BufferBatch) writer.writeRecords(batch.buffer, batch.byteLength, batch.recordCount);
    });
    opts.onStarted?.();
    await new Promise<void>((resolve) => {
      const timer = opts.durationS !== undefined ? setTimeout(resolve, opts.durationS * 1000) : undefined;
      if (opts.signal?.aborted) resolve();
      opts.signal?.addEventListener('abort', () => {
        if (timer) clearTimeout(timer);
        resolve();
      });
    });
    // Pick up what is still queued in the ring before detaching.
    source.drainNow((batch) => {
      if (batch instanceof BufferBatch) writer.writeRecords(batch.buffer, batch.byteLength, batch.recordCount);
    });
  } finally {
    await source.close();
    writer.close();
  }
  return { events: writer.events, bytes: writer.bytes, stats: source.stats() };
}
