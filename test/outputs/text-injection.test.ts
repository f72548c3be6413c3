/**
 * Log injection: a watched process picks its name, arguments and the paths it opens, and those
 * end up in the alert text. Raw control bytes must never reach a text line (forged alert lines,
 * terminal escapes), on any text path; JSON must stay parseable back to the exact value.
 */
import { execFileSync, spawn } from 'node:child_process';
import { constants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSink } from '../../src/outputs/file-sink';
import { FALCO_DEFAULT_FORMAT, formatJson, formatLine, LineFormatter } from '../../src/outputs/format';
import { timeOfDayNs } from '../../src/lib/time-format';
import { StdoutSink } from '../../src/outputs/stdout-sink';
import { SyslogSink } from '../../src/outputs/syslog-sink';
import { escapeControlText } from '../../src/outputs/text-escape';
import { makeAlert, NO_TLS, silentLogger, waitFor } from './helpers';

const TEXT = { ...FALCO_DEFAULT_FORMAT, jsonOutput: false };
/** Anything that could end a line or start a terminal sequence, in any text line. */
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** A process name and command line as hostile as a process can make them. */
function hostileAlert(): ReturnType<typeof makeAlert> {
  const forged = `\n${timeOfDayNs(1785492000000000000n)}: Emergency Forged alert, all clear\r\u001b[2K\u001b]0;owned\u0007`;
  return makeAlert({
    priority: 4,
    message: `Shell spawned (proc.name=ba${forged}sh cmdline=x\u0000y\u007fz\u009b31m fd.name=/tmp/\u2028a\ud800b)`,
    outputFields: { 'proc.name': `ba${forged}sh` },
  });
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lanner-inject-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('escapeControlText', () => {
  it('makes every control character visible and leaves ordinary text (and the same string) alone', () => {
    const plain = 'bash -c "ls /tmp/été 日本 😀" C:\\path';
    expect(escapeControlText(plain)).toBe(plain);
    expect(escapeControlText('a\nb\rc\td')).toBe('a\\nb\\rc\\td');
    expect(escapeControlText('\u0000\u001b[31m\u007f')).toBe('\\x00\\x1b[31m\\x7f');
    expect(escapeControlText('\u0085\u009b\u2028\u2029')).toBe('\\u0085\\u009b\\u2028\\u2029');
    expect(escapeControlText('x\ud800y\udfffz')).toBe('x\\ud800y\\udfffz');
    expect(escapeControlText('😀\ud83d')).toBe('😀\\ud83d');
  });
});

describe('text output never carries raw control bytes', () => {
  it('formatLine (text) is one line with the hostile values escaped; the JSON round-trips them exactly', () => {
    const a = hostileAlert();
    const line = formatLine(a, TEXT);
    expect(line).not.toMatch(RAW_CONTROL);
    expect(line.startsWith(`${timeOfDayNs(a.timeNs)}: Warning Shell spawned (proc.name=ba\\n`)).toBe(true);
    expect(line).toContain('\\r\\x1b[2K\\x1b]0;owned\\x07sh cmdline=x\\x00y\\x7fz\\u009b31m fd.name=/tmp/\\u2028a\\ud800b)');

    const json = formatJson(a, FALCO_DEFAULT_FORMAT);
    expect(json).not.toMatch(/[\u0000-\u001f]/);
    const parsed = JSON.parse(json) as { output: string; output_fields: Record<string, string> };
    expect(parsed.output).toBe(`${timeOfDayNs(a.timeNs)}: Warning ${a.message}`);
    expect(parsed.output_fields['proc.name']).toBe(a.outputFields['proc.name']);
  });

  it('stdout in text mode writes exactly one line per alert', async () => {
    const dir = tempDir();
    const path = join(dir, 'pipe');
    execFileSync('mkfifo', [path]);
    const fd = openSync(path, constants.O_RDWR);
    const sink = new StdoutSink({ queueCapacity: 10, fd }, new LineFormatter(TEXT), { logger: silentLogger });
    cleanups.push(() => sink.close(200));
    let text = '';
    const reader = spawn('cat', [path], { stdio: ['ignore', 'pipe', 'ignore'] });
    cleanups.push(() => void reader.kill());
    reader.stdout.on('data', (d: Buffer) => (text += d.toString('latin1')));
    for (let i = 0; i < 3; i++) sink.offer(hostileAlert());
    await waitFor(() => sink.stats().sent === 3 && text.split('\n').length > 3, 5_000, 'three lines');
    const lines = text.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('');
    for (const l of lines) expect(l).not.toMatch(/[\u0000-\u001f\u007f]/);
  });

  it('the file sink in text mode writes exactly one line per alert', async () => {
    const dir = tempDir();
    const path = join(dir, 'alerts.txt');
    const sink = new FileSink({ path, queueCapacity: 10, maxBytes: 0, rotateIntervalMs: 0, keep: 0 }, new LineFormatter(TEXT), { logger: silentLogger });
    for (let i = 0; i < 3; i++) sink.offer(hostileAlert());
    await waitFor(() => sink.stats().sent === 3, 5_000, 'three alerts written');
    await sink.close(1_000);
    const raw = readFileSync(path);
    const lines = raw.toString('latin1').split('\n');
    expect(lines).toHaveLength(4);
    for (const l of lines) expect(l).not.toMatch(/[\u0000-\u001f\u007f]/);
  });

  it('syslog messages in text mode carry no raw control bytes', () => {
    const sink = new SyslogSink(
      { transport: 'udp', path: '/dev/log', host: '127.0.0.1', port: 514, facility: 'local0', appName: 'lanner', maxMessageBytes: 8192, queueCapacity: 1, tls: NO_TLS },
      new LineFormatter(TEXT),
      { logger: silentLogger },
    );
    const msg = sink.message(hostileAlert()).toString('latin1');
    expect(msg).toContain('Shell spawned');
    expect(msg).not.toMatch(/[\u0000-\u001f\u007f]/);
  });
});
