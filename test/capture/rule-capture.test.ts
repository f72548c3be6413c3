import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { CAPTURE_FILE_FIELD, RuleCaptures, type CaptureConfig, type CaptureRuleInfo } from '../../src/capture';
import type { Alert } from '../../src/outputs/alert';
import { batchOf, readCapture, record } from './support';

const root = mkdtempSync(join(tmpdir(), 'lanner-rule-capture-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const BOOT_OFFSET = 1_700_000_000_000_000_000n;
const MS = 1_000_000;
const log = pino({ level: 'silent' });
let dirs = 0;

function config(over: Partial<CaptureConfig> = {}): CaptureConfig {
  return {
    enabled: true,
    path_prefix: join(root, `d${++dirs}`, 'cap'),
    mode: 'rules',
    default_duration: 100,
    pre_duration: 50,
    ring_bytes: 1 << 20,
    max_file_size_mb: 1,
    max_files: 10,
    max_total_size_mb: 10,
    when_full: 'delete_oldest',
    ...over,
  };
}

const rule = (name: string, capture: boolean, captureDuration = 0): CaptureRuleInfo => ({ name, source: 'syscall', enabled: true, capture, captureDuration });

function alertAt(tsNs: number, rule = 'Read shadow'): Alert {
  return { timeNs: BigInt(tsNs) + BOOT_OFFSET, rule, priority: 4, source: 'syscall', message: 'm', outputFields: { 'proc.name': 'cat' }, tags: [], hostname: 'h' };
}

function captures(over: Partial<CaptureConfig> = {}, rules: CaptureRuleInfo[] = [rule('Read shadow', true)]): RuleCaptures {
  const c = new RuleCaptures({ config: config(over), log, hostname: 'node-1', bootOffsetNs: BOOT_OFFSET });
  c.start();
  c.setRules(rules);
  return c;
}

/** Feeds one batch per kernel time, a record every `step` ns from `from` to `to`. */
function feed(c: RuleCaptures, from: number, to: number, step: number): void {
  for (let t = from; t <= to; t += step) c.onBatch(batchOf([record(t, `/f${t}`)]));
}

const fileOf = (a: Alert): string => String(a.outputFields[CAPTURE_FILE_FIELD]);

describe('rule-triggered captures', () => {
  it('writes the window before and after a match into a private file the alert names', () => {
    const c = captures();
    feed(c, 0, 1000 * MS, 10 * MS);
    const match = 1000 * MS;
    const alert = c.onAlert(alertAt(match));
    const file = fileOf(alert);
    expect(file.startsWith(join(root, `d${dirs}`, 'cap_'))).toBe(true);
    expect(alert.outputFields['proc.name']).toBe('cat');
    // Events after the match up to the rule's duration (default 100 ms), then a batch past it closes the file.
    feed(c, 1010 * MS, 1200 * MS, 10 * MS);
    expect(c.stats()).toMatchObject({ written: 1, files: 1 });
    const st = lstatSync(file);
    expect(st.mode & 0o777).toBe(0o600);
    const { header, times } = readCapture(file);
    expect(header.version).toBe(2);
    expect(header.trigger).toMatchObject({ rule: 'Read shadow', mode: 'rules', preMs: 50, durationMs: 100, hostname: 'node-1', timeNs: (BigInt(match) + BOOT_OFFSET).toString() });
    // One record per batch: the window is exact here. 50 ms before (a batch may start earlier), 100 ms after.
    expect(times[0]).toBeGreaterThanOrEqual(940 * MS);
    expect(times[0]).toBeLessThanOrEqual(950 * MS);
    expect(times).toContain(match);
    expect(times[times.length - 1]).toBe(1100 * MS);
    c.close();
  });

  it('ignores alerts of rules without capture in rules mode, and takes every rule in all_rules mode', () => {
    const rules = [rule('Read shadow', true), rule('Other', false)];
    const byRule = captures({}, rules);
    feed(byRule, 0, 100 * MS, 10 * MS);
    expect(byRule.onAlert(alertAt(100 * MS, 'Other')).outputFields[CAPTURE_FILE_FIELD]).toBeUndefined();
    expect(byRule.stats().files).toBe(0);
    byRule.close();

    const all = captures({ mode: 'all_rules' }, rules);
    feed(all, 0, 100 * MS, 10 * MS);
    expect(fileOf(all.onAlert(alertAt(100 * MS, 'Other')))).toMatch(/\.cap$/);
    all.close();
    expect(all.stats()).toMatchObject({ written: 1, files: 1 });
  });

  it("keeps no ring while no loaded rule triggers a capture, and a rule's capture_duration overrides the default", () => {
    const idle = captures({}, [rule('Other', false)]);
    expect(idle.armed).toBe(false);
    idle.setRules([rule('Read shadow', true, 300)]);
    expect(idle.armed).toBe(true);
    feed(idle, 0, 100 * MS, 10 * MS);
    const file = fileOf(idle.onAlert(alertAt(100 * MS)));
    feed(idle, 110 * MS, 600 * MS, 10 * MS);
    const { header, times } = readCapture(file);
    expect(header.trigger?.durationMs).toBe(300);
    expect(times[times.length - 1]).toBe(400 * MS);
    idle.close();
  });

  it('extends the open capture for a later match instead of starting another', () => {
    const c = captures();
    feed(c, 0, 100 * MS, 10 * MS);
    const first = fileOf(c.onAlert(alertAt(100 * MS)));
    feed(c, 110 * MS, 150 * MS, 10 * MS);
    const second = fileOf(c.onAlert(alertAt(150 * MS)));
    expect(second).toBe(first);
    feed(c, 160 * MS, 400 * MS, 10 * MS);
    expect(readCapture(first).times.at(-1)).toBe(250 * MS);
    expect(c.stats()).toMatchObject({ written: 1, files: 1 });
    c.close();
  });

  it('stops a capture at max_file_size_mb, on a record boundary, and counts it truncated', () => {
    const recordBytes = record(0, '/f0').length;
    // Room for the header, the trigger chunk and about ten records.
    const c = captures({ max_file_size_mb: (64 + 256 + 16 * 20 + recordBytes * 10) / (1 << 20), max_total_size_mb: 1 });
    feed(c, 0, 100 * MS, 10 * MS);
    const file = fileOf(c.onAlert(alertAt(100 * MS)));
    feed(c, 110 * MS, 1000 * MS, 10 * MS);
    const stats = c.stats();
    expect(stats).toMatchObject({ written: 1, truncated: 1 });
    const { times } = readCapture(file);
    expect(times.length).toBeGreaterThan(3);
    expect(times.length).toBeLessThan(12);
    expect(lstatSync(file).size).toBeLessThanOrEqual((64 + 256 + 16 * 20 + recordBytes * 10));
    c.close();
  });

  it('deletes the oldest captures beyond max_files (delete_oldest), counting them', () => {
    const c = captures({ max_files: 2 });
    const files: string[] = [];
    for (let i = 0; i < 4; i++) {
      const base = i * 1000 * MS;
      feed(c, base, base + 50 * MS, 10 * MS);
      files.push(fileOf(c.onAlert(alertAt(base + 50 * MS))));
      feed(c, base + 60 * MS, base + 300 * MS, 10 * MS);
    }
    expect(new Set(files).size).toBe(4);
    expect(files.map((f) => existsSync(f))).toEqual([false, false, true, true]);
    expect(c.stats()).toMatchObject({ written: 4, deleted: 2, refused: 0, files: 2 });
    c.close();
  });

  it('refuses new captures at the bound (refuse), keeping the first ones, and counts the refusals', () => {
    const c = captures({ max_files: 2, when_full: 'refuse' });
    const results: (string | undefined)[] = [];
    for (let i = 0; i < 5; i++) {
      const base = i * 1000 * MS;
      feed(c, base, base + 50 * MS, 10 * MS);
      const a = c.onAlert(alertAt(base + 50 * MS));
      results.push(a.outputFields[CAPTURE_FILE_FIELD] as string | undefined);
      feed(c, base + 60 * MS, base + 300 * MS, 10 * MS);
    }
    expect(results.filter((r) => r !== undefined)).toHaveLength(2);
    expect(results.slice(2)).toEqual([undefined, undefined, undefined]);
    expect(existsSync(results[0]!)).toBe(true);
    expect(c.stats()).toMatchObject({ written: 2, refused: 3, deleted: 0, files: 2 });
    c.close();
  });

  it('counts the captures of an earlier run against the bounds, and ignores other files', () => {
    const cfg = config({ max_files: 3 });
    const dir = join(cfg.path_prefix, '..');
    const first = new RuleCaptures({ config: cfg, log, hostname: 'h', bootOffsetNs: BOOT_OFFSET });
    first.start();
    first.setRules([rule('Read shadow', true)]);
    feed(first, 0, 50 * MS, 10 * MS);
    const old = fileOf(first.onAlert(alertAt(50 * MS)));
    first.close();
    writeFileSync(join(dir, 'unrelated.txt'), 'x');
    writeFileSync(join(dir, 'cap_notacapture.cap'), 'x');

    const second = new RuleCaptures({ config: cfg, log, hostname: 'h', bootOffsetNs: BOOT_OFFSET });
    second.start();
    expect(second.stats().files).toBe(1);
    second.setRules([rule('Read shadow', true)]);
    for (let i = 1; i <= 3; i++) {
      const base = i * 1000 * MS;
      feed(second, base, base + 50 * MS, 10 * MS);
      second.onAlert(alertAt(base + 50 * MS));
      feed(second, base + 60 * MS, base + 300 * MS, 10 * MS);
    }
    // The earlier run's file was the oldest: it went first.
    expect(existsSync(old)).toBe(false);
    expect(second.stats()).toMatchObject({ files: 3, deleted: 1 });
    expect(readdirSync(dir)).toContain('unrelated.txt');
    second.close();
  });

  it('never writes through a symbolic link planted at the capture path', () => {
    const cfg = config();
    const c = new RuleCaptures({ config: cfg, log, hostname: 'h', bootOffsetNs: BOOT_OFFSET });
    c.start();
    c.setRules([rule('Read shadow', true)]);
    const target = join(root, 'victim');
    writeFileSync(target, 'untouched');
    const match = 50 * MS;
    symlinkSync(target, `${cfg.path_prefix}_${(BigInt(match) + BOOT_OFFSET).toString().padStart(20, '0')}_1.cap`);
    feed(c, 0, 50 * MS, 10 * MS);
    const a = c.onAlert(alertAt(match));
    expect(a.outputFields[CAPTURE_FILE_FIELD]).toBeUndefined();
    expect(c.stats().failed).toBe(1);
    expect(readdirSync(root)).toContain('victim');
    expect(lstatSync(target).size).toBe('untouched'.length);
    c.close();
  });
});
