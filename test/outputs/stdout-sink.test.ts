import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, fstatSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FALCO_DEFAULT_FORMAT, LineFormatter } from '../../src/outputs/format';
import { timeOfDayNs } from '../../src/lib/time-format';
import { StdoutSink } from '../../src/outputs/stdout-sink';
import { makeAlert, seqOf, silentLogger, waitFor } from './helpers';
import { expectSidekickAccepts } from './sidekick-validator';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function fifo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lanner-stdout-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'pipe');
  execFileSync('mkfifo', [path]);
  return path;
}

describe('stdout sink', () => {
  it('a pipe whose reader stalls fills our queue, then drops are counted; the event loop never blocks', async () => {
    const path = fifo();
    // O_RDWR opens a FIFO without a reader on Linux; nobody reads until the end of the test.
    const fd = openSync(path, constants.O_RDWR);
    const sink = new StdoutSink({ queueCapacity: 100, fd }, new LineFormatter(FALCO_DEFAULT_FORMAT), { logger: silentLogger });
    const big = 'y'.repeat(2_000);
    let accepted = 0;
    let offered = 0;
    const acceptedIds: number[] = [];
    const offer = (): void => {
      const a = makeAlert({ message: big });
      offered++;
      if (sink.offer(a)) {
        accepted++;
        acceptedIds.push(a.outputFields['seq.id'] as number);
      }
    };
    for (let i = 0; i < 10_000; i++) offer();
    expect(accepted).toBe(100);
    expect(sink.stats().dropped).toBe(9_900);

    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    // The pipe (64 KiB) and the writer buffer take ~40 of these alerts; the rest wait in the queue.
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 1_000; i++) offer();
    await new Promise((r) => setTimeout(r, 100));
    clearInterval(ticker);
    expect(ticks).toBeGreaterThan(20);
    const st = sink.stats();
    expect(st.dropped).toBe(offered - accepted);
    expect(st.queueDepth).toBe(100); // full again: the reader is still stalled
    expect(accepted).toBeGreaterThan(100);

    // The reader comes back: everything accepted comes out, in order.
    const lines: string[] = [];
    let partial = '';
    const reader = spawn('cat', [path], { stdio: ['ignore', 'pipe', 'ignore'] });
    reader.stdout.on('data', (d: Buffer) => {
      const parts = (partial + d.toString()).split('\n');
      partial = parts.pop()!;
      lines.push(...parts);
    });
    await waitFor(() => lines.length === accepted, 10_000, 'reader receiving every accepted alert');
    expect(lines.map(seqOf)).toEqual(acceptedIds);
    for (const l of lines.slice(0, 5)) expectSidekickAccepts(l);
    await sink.close(500);
    reader.kill();
  });

  it('EPIPE (reader gone) marks the sink unhealthy and counts later alerts as failed', async () => {
    const path = fifo();
    const rfd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const wfd = openSync(path, constants.O_WRONLY);
    closeSync(rfd);
    const sink = new StdoutSink({ queueCapacity: 10, fd: wfd }, new LineFormatter(FALCO_DEFAULT_FORMAT), { logger: silentLogger });
    sink.offer(makeAlert());
    await waitFor(() => !sink.healthy, 5_000, 'EPIPE noticed');
    for (let i = 0; i < 3; i++) sink.offer(makeAlert());
    await waitFor(() => sink.stats().failed === 3, 5_000, 'later alerts counted as failed');
    await sink.close(200);
  });

  it('text format writes the Falco output line', async () => {
    const path = fifo();
    const fd = openSync(path, constants.O_RDWR);
    const sink = new StdoutSink({ queueCapacity: 10, fd }, new LineFormatter({ ...FALCO_DEFAULT_FORMAT, jsonOutput: false }), { logger: silentLogger });
    const a = makeAlert({ priority: 4 });
    sink.offer(a);
    let text = '';
    const reader = spawn('cat', [path], { stdio: ['ignore', 'pipe', 'ignore'] });
    reader.stdout.on('data', (d: Buffer) => (text += d.toString()));
    await waitFor(() => text.includes('\n'), 5_000, 'one line');
    expect(text).toBe(`${timeOfDayNs(a.timeNs)}: Warning ${a.message}\n`);
    await sink.close(200);
    reader.kill();
  });

  it('owns its fd: close() resolves once the fd is closed, so a reused number is never closed late', async () => {
    const path = fifo();
    const fd = openSync(path, constants.O_RDWR);
    const sink = new StdoutSink({ queueCapacity: 10, fd }, new LineFormatter(FALCO_DEFAULT_FORMAT), { logger: silentLogger });
    sink.offer(makeAlert());
    await waitFor(() => sink.stats().sent === 1, 5_000, 'one alert written');
    await sink.close(200);
    expect(() => fstatSync(fd)).toThrowError(/EBADF/);
  });
});
