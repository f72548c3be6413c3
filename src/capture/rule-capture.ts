/**
 * Rule-triggered captures (Falco's `capture`): a match of a rule that wants one writes a capture
 * file holding the events of a window before the match (from `RecentBatches`) and of the rule's
 * duration after it. One capture is open at a time; a later match that wants one extends it (the
 * longest deadline wins, as in Falco). Bounded: bytes per file (hard), files kept and disk used
 * under the prefix (oldest deleted or new captures refused, counted and logged).
 *
 * Runs on the event path: `onBatch` per batch (one copy while a loaded rule wants captures, else
 * nothing), `onAlert` per alert (a map lookup; file work only when a capture starts).
 */
import { lstatSync, mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../log';
import type { Alert } from '../outputs/alert';
import { BufferBatch, CAPTURE_CHUNK_HEADER_SIZE, CaptureError, CaptureWriter, type CaptureTrigger, type EventBatch } from '../probe';
import { OFF } from '../probe/layout';
import { megabytes, type CaptureConfig } from './config';
import { firstRecordTs, RecentBatches } from './ring';

/** The output field that carries the capture file of an alert. */
export const CAPTURE_FILE_FIELD = 'lanner.capture_file';

/** After the deadline, wait this long for batches still in the kernel ring before closing. */
const CLOSE_GRACE_MS = 500;
/** A refused capture is logged at most this often (every refusal is counted). */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

/** What a rule contributes to capture decisions (a `CompiledRule` fits). */
export interface CaptureRuleInfo {
  readonly name: string;
  readonly source: string;
  readonly enabled: boolean;
  readonly capture: boolean;
  /** Milliseconds after the match; 0 means the configured default. */
  readonly captureDuration: number;
}

export interface CaptureStats {
  /** Capture files completed. */
  readonly written: number;
  /** Of those, stopped at max_file_size_mb. */
  readonly truncated: number;
  /** Captures not started because the files or disk bound was reached (when_full: refuse). */
  readonly refused: number;
  /** Old capture files deleted to make room (when_full: delete_oldest). */
  readonly deleted: number;
  /** Captures that could not be written (I/O errors). */
  readonly failed: number;
  /** Capture files under the prefix and their bytes, now. */
  readonly files: number;
  readonly bytes: number;
}

export interface RuleCapturesOptions {
  readonly config: CaptureConfig;
  readonly log: Logger;
  readonly hostname: string;
  /** Wall clock minus the kernel clock, ns: turns an alert's time back into the event's. */
  readonly bootOffsetNs: bigint;
}

interface OpenCapture {
  readonly path: string;
  readonly writer: CaptureWriter;
  /** Kernel time (ns) after which events are no longer written. */
  deadlineTs: number;
  timer: NodeJS.Timeout | undefined;
}

interface KeptFile {
  readonly path: string;
  readonly bytes: number;
}

/**
 * mkdir -p with mode 0700, by hand: Node's recursive mkdirSync spins forever where the parent
 * exists but refuses children with ENOENT (a path below /proc).
 */
function makeDirectory(dir: string, depth: number): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || depth > 64 || dirname(dir) === dir) throw err;
    makeDirectory(dirname(dir), depth + 1);
    mkdirSync(dir, { mode: 0o700 });
  }
}

/** Kernel time now (CLOCK_MONOTONIC, equal to the probe's CLOCK_BOOTTIME unless the host suspended). */
const kernelNow = (): number => Number(process.hrtime.bigint());

export class RuleCaptures {
  private readonly dir: string;
  private readonly base: string;
  private readonly maxFileBytes: number;
  private readonly maxTotalBytes: number;
  private readonly preNs: number;
  private ring: RecentBatches | undefined;
  /** Per rule that triggers captures: milliseconds after its match. */
  private durations = new Map<string, number>();
  private current: OpenCapture | undefined;
  private readonly kept: KeptFile[] = [];
  private keptBytes = 0;
  private seq = 0;
  private counts = { written: 0, truncated: 0, refused: 0, deleted: 0, failed: 0 };
  private lastRefusalLog = 0;
  private refusedSinceLog = 0;

  constructor(private readonly opts: RuleCapturesOptions) {
    const c = opts.config;
    this.dir = dirname(c.path_prefix);
    this.base = basename(c.path_prefix);
    this.maxFileBytes = megabytes(c.max_file_size_mb);
    this.maxTotalBytes = megabytes(c.max_total_size_mb);
    this.preNs = c.pre_duration * 1e6;
  }

  /**
   * Creates the directory (0700) and takes stock of the captures already there, so the bounds
   * hold across restarts. Throws when the directory cannot be used.
   */
  start(): void {
    try {
      makeDirectory(this.dir, 0);
      if (!statSync(this.dir).isDirectory()) throw new Error('not a directory');
    } catch (err) {
      throw new CaptureError(`cannot use capture directory ${this.dir}: ${(err as Error).message}`);
    }
    const pattern = new RegExp(`^${this.base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}_\\d{20}_\\d+\\.cap$`);
    const found: KeptFile[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!pattern.test(name)) continue;
      const path = join(this.dir, name);
      try {
        const st = lstatSync(path);
        if (st.isFile()) found.push({ path, bytes: st.size });
      } catch {
        // Gone meanwhile.
      }
    }
    // Names start with the match time, zero-padded: name order is age order.
    found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const f of found) this.remember(f);
    this.opts.log.info({ dir: this.dir, files: this.kept.length, bytes: this.keptBytes }, 'rule captures enabled');
  }

  /** After every rules load: which rules trigger captures; the ring runs only while one does. */
  setRules(rules: readonly CaptureRuleInfo[]): void {
    const all = this.opts.config.mode === 'all_rules';
    const durations = new Map<string, number>();
    for (const r of rules) {
      if (!r.enabled || r.source !== 'syscall' || !(all || r.capture)) continue;
      durations.set(r.name, r.captureDuration > 0 ? r.captureDuration : this.opts.config.default_duration);
    }
    this.durations = durations;
    if (durations.size > 0 && this.ring === undefined) this.ring = new RecentBatches(this.opts.config.ring_bytes);
    else if (durations.size === 0) this.ring = undefined;
    this.opts.log.info({ rules: durations.size, ringBytes: this.ring?.capacity ?? 0 }, durations.size > 0 ? 'rule captures armed' : 'rule captures idle: no loaded rule triggers one');
  }

  /** True while some loaded rule triggers captures (the ring keeps the recent past). */
  get armed(): boolean {
    return this.ring !== undefined;
  }

  /** Every batch, before the rules see it: kept for a later match, and written to an open capture. */
  onBatch(batch: EventBatch): void {
    if ((this.ring === undefined && this.current === undefined) || !(batch instanceof BufferBatch)) return;
    const bytes = batch.byteLength;
    if (bytes === 0) return;
    const cur = this.current;
    if (cur !== undefined) {
      if (firstRecordTs(batch.buffer, bytes) > cur.deadlineTs) this.finish('duration');
      else this.write(batch.buffer, 0, bytes, batch.recordCount);
    }
    this.ring?.push(batch.buffer, bytes, batch.recordCount);
  }

  /** Every rule alert: starts or extends a capture when its rule wants one, and names the file in the alert. */
  onAlert(alert: Alert): Alert {
    const durationMs = this.durations.get(alert.rule);
    if (durationMs === undefined || alert.source !== 'syscall') return alert;
    const matchTs = Number(alert.timeNs - this.opts.bootOffsetNs);
    const deadlineTs = matchTs + durationMs * 1e6;
    let path: string | undefined;
    if (this.current !== undefined) {
      if (deadlineTs > this.current.deadlineTs) {
        this.current.deadlineTs = deadlineTs;
        this.schedule();
      }
      path = this.current.path;
    } else {
      path = this.begin(alert, matchTs, deadlineTs, durationMs);
    }
    return path === undefined ? alert : { ...alert, outputFields: { ...alert.outputFields, [CAPTURE_FILE_FIELD]: path } };
  }

  /** Closes an open capture (shutdown). */
  close(): void {
    if (this.current) this.finish('shutdown');
    this.ring = undefined;
  }

  stats(): CaptureStats {
    return { ...this.counts, files: this.kept.length + (this.current ? 1 : 0), bytes: this.keptBytes + (this.current?.writer.fileBytes ?? 0) };
  }

  private begin(alert: Alert, matchTs: number, deadlineTs: number, durationMs: number): string | undefined {
    if (!this.makeRoom()) return undefined;
    const path = `${this.opts.config.path_prefix}_${alert.timeNs.toString().padStart(20, '0')}_${++this.seq}.cap`;
    const trigger: CaptureTrigger = {
      rule: alert.rule,
      timeNs: alert.timeNs.toString(),
      mode: this.opts.config.mode,
      preMs: this.opts.config.pre_duration,
      durationMs,
      hostname: this.opts.hostname,
    };
    let writer: CaptureWriter;
    try {
      writer = new CaptureWriter(path, this.opts.bootOffsetNs, trigger);
    } catch (err) {
      this.counts.failed++;
      this.opts.log.error({ file: path, rule: alert.rule }, `capture not written: ${(err as Error).message}`);
      return undefined;
    }
    this.current = { path, writer, deadlineTs, timer: undefined };
    this.opts.log.info({ file: path, rule: alert.rule, preMs: trigger.preMs, durationMs }, 'capture started');
    this.ring?.forEachSince(matchTs - this.preNs, (c) => {
      if (this.current !== undefined) this.write(c.buffer, c.offset, c.bytes, c.count);
    });
    if (this.current !== undefined) this.schedule();
    return path;
  }

  /** Writes whole records to the open capture up to its size cap; at the cap, the capture ends. */
  private write(buffer: ArrayBuffer, offset: number, bytes: number, count: number): void {
    const cur = this.current!;
    const room = this.maxFileBytes - cur.writer.fileBytes - CAPTURE_CHUNK_HEADER_SIZE;
    let fit = bytes;
    let fitCount = count;
    if (bytes > room) {
      // The records that still fit, by their sizes (only at the cap).
      const dv = new DataView(buffer);
      fit = 0;
      fitCount = 0;
      for (;;) {
        const size = dv.getUint32(offset + fit + OFF.size, true);
        if (size === 0 || fit + size > room) break;
        fit += size;
        fitCount++;
      }
    }
    try {
      if (fit > 0) cur.writer.writeRecords(buffer, fit, fitCount, offset);
    } catch (err) {
      this.counts.failed++;
      this.opts.log.error({ file: cur.path }, `capture write failed: ${(err as Error).message}`);
      this.finish('error');
      return;
    }
    if (fit < bytes) this.finish('size');
  }

  /** (Re)arms the timer that closes the capture when no batch after its deadline comes. */
  private schedule(): void {
    const cur = this.current;
    if (cur === undefined) return;
    if (cur.timer !== undefined) clearTimeout(cur.timer);
    const ms = Math.max(0, (cur.deadlineTs - kernelNow()) / 1e6) + CLOSE_GRACE_MS;
    cur.timer = setTimeout(() => {
      if (this.current !== cur) return;
      if (kernelNow() >= cur.deadlineTs) this.finish('duration');
      else this.schedule();
    }, ms);
    cur.timer.unref();
  }

  private finish(reason: 'duration' | 'size' | 'shutdown' | 'error'): void {
    const cur = this.current;
    if (cur === undefined) return;
    this.current = undefined;
    if (cur.timer !== undefined) clearTimeout(cur.timer);
    try {
      cur.writer.close();
    } catch {
      // The data is written; a failing close changes nothing we can act on.
    }
    this.remember({ path: cur.path, bytes: cur.writer.fileBytes });
    if (reason === 'error') return;
    this.counts.written++;
    if (reason === 'size') {
      this.counts.truncated++;
      this.opts.log.warn({ file: cur.path, events: cur.writer.events, bytes: cur.writer.fileBytes, maxFileSizeMb: this.opts.config.max_file_size_mb }, 'capture stopped at max_file_size_mb');
    }
    this.opts.log.info({ file: cur.path, events: cur.writer.events, bytes: cur.writer.fileBytes, reason }, 'capture written');
  }

  private remember(f: KeptFile): void {
    this.kept.push(f);
    this.keptBytes += f.bytes;
  }

  /** Room for one more file of the largest size, by deleting the oldest or not at all. */
  private makeRoom(): boolean {
    const c = this.opts.config;
    while (this.kept.length + 1 > c.max_files || this.keptBytes + this.maxFileBytes > this.maxTotalBytes) {
      if (c.when_full === 'refuse' || this.kept.length === 0) {
        this.refused();
        return false;
      }
      const oldest = this.kept.shift()!;
      this.keptBytes -= oldest.bytes;
      try {
        unlinkSync(oldest.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.opts.log.warn({ file: oldest.path }, `cannot delete an old capture: ${(err as Error).message}`);
      }
      this.counts.deleted++;
      this.opts.log.info({ file: oldest.path, maxFiles: c.max_files, maxTotalSizeMb: c.max_total_size_mb }, 'old capture deleted to make room');
    }
    return true;
  }

  private refused(): void {
    this.counts.refused++;
    this.refusedSinceLog++;
    const now = Date.now();
    if (now - this.lastRefusalLog < REFUSAL_LOG_INTERVAL_MS) return;
    const c = this.opts.config;
    this.opts.log.warn(
      { refused: this.refusedSinceLog, files: this.kept.length, bytes: this.keptBytes, maxFiles: c.max_files, maxTotalSizeMb: c.max_total_size_mb },
      'capture refused: capture files at their bound (when_full: refuse)',
    );
    this.lastRefusalLog = now;
    this.refusedSinceLog = 0;
  }
}
