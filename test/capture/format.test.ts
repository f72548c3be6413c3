/**
 * The capture file format with and without a trigger: `lanner record` still writes version 1
 * (readable by older builds), a rule's capture writes version 2 with its trigger chunk first, and
 * this build reads both.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureError, CaptureReader, CaptureWriter, encodeCaptureHeader, type CaptureTrigger } from '../../src/probe/capture';
import { concat, encodeChunk } from '../probe/records';
import { batchOf, readCapture, record } from './support';

const dir = mkdtempSync(join(tmpdir(), 'lanner-capture-format-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const trigger: CaptureTrigger = { rule: 'Shadow read "quoted" é', timeNs: '1700000000123456789', mode: 'rules', preMs: 2000, durationMs: 5000, hostname: 'node-1' };

describe('capture format versions', () => {
  it('writes version 1 without a trigger, as lanner record always did', () => {
    const file = join(dir, 'v1.cap');
    const w = new CaptureWriter(file, 0n);
    const b = batchOf([record(10, '/a'), record(20, '/b')]);
    w.writeRecords(b.buffer, b.byteLength, b.recordCount);
    w.close();
    const bytes = readFileSync(file);
    expect(bytes.readUInt32LE(8)).toBe(1);
    expect(w.fileBytes).toBe(bytes.length);
    const { header, times } = readCapture(file);
    expect(header.trigger).toBeUndefined();
    expect(times).toEqual([10, 20]);
  });

  it('writes version 2 with the trigger first, and reads it back', () => {
    const file = join(dir, 'v2.cap');
    const w = new CaptureWriter(file, 5n, trigger);
    const b = batchOf([record(10, '/a'), record(20, '/b'), record(30, '/c')]);
    // Records from an offset: the ring hands out views into its own buffer.
    const first = record(10, '/a').length;
    w.writeRecords(b.buffer, b.byteLength - first, 2, first);
    w.close();
    const bytes = readFileSync(file);
    expect(bytes.readUInt32LE(8)).toBe(2);
    expect(w.fileBytes).toBe(bytes.length);
    const { header, times } = readCapture(file);
    expect(header.trigger).toEqual(trigger);
    expect(header.bootOffsetNs).toBe(5n);
    expect(times).toEqual([20, 30]);
  });

  it('refuses a version 2 file without its trigger chunk, and an unknown version', () => {
    const records = encodeChunk([record(10, '/a')]);
    const v2NoTrigger = concat([encodeCaptureHeader(0n, 0n, 2), records]);
    expect(() => CaptureReader.fromBytes(v2NoTrigger)).toThrow(/trigger chunk/);
    const v3 = concat([encodeCaptureHeader(0n, 0n, 3), records]);
    expect(() => CaptureReader.fromBytes(v3)).toThrow(CaptureError);
    expect(() => CaptureReader.fromBytes(v3)).toThrow(/version 3/);
  });

  it('refuses a trigger chunk that is not the expected JSON', () => {
    const file = join(dir, 'bad-trigger.cap');
    new CaptureWriter(file, 0n, trigger).close();
    const bytes = readFileSync(file);
    // Break the JSON inside the trigger payload (it starts after the 64-byte header and 16-byte chunk header).
    bytes.write('X', 64 + 16, 'latin1');
    writeFileSync(file, bytes);
    expect(() => CaptureReader.fromFile(file)).toThrow(/malformed trigger chunk/);
  });
});
