import { spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FALCO_DEFAULT_FORMAT, LineFormatter } from '../../src/outputs/format';
import { FileSink, type FileSinkOptions } from '../../src/outputs/file-sink';
import { makeAlert, seqOf, silentLogger, waitFor } from './helpers';
import { expectSidekickAccepts } from './sidekick-validator';

const formatter = new LineFormatter(FALCO_DEFAULT_FORMAT);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lanner-file-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function newSink(over: Partial<FileSinkOptions> & { path: string }): FileSink {
  const sink = new FileSink({ queueCapacity: 10_000, maxBytes: 0, rotateIntervalMs: 0, keep: 3, ...over }, formatter, { logger: silentLogger });
  cleanups.push(() => sink.close(1_000));
  return sink;
}

/**
 * Follows a file by name the way `tail -F` promises to: read the open file to its end; when the
 * name points at a new inode, finish the old file first, then switch.
 */
class NameFollower {
  private fd = -1;
  private ino = -1;
  private partial = '';
  readonly lines: string[] = [];
  private readonly buf = Buffer.alloc(1 << 16);
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly path: string) {
    this.timer = setInterval(() => this.poll(), 5);
  }

  private drain(): void {
    for (;;) {
      const n = readSync(this.fd, this.buf, 0, this.buf.length, null);
      if (n === 0) return;
      const text = this.partial + this.buf.subarray(0, n).toString();
      const parts = text.split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts);
    }
  }

  poll(): void {
    if (this.fd >= 0) this.drain();
    let ino: number;
    try {
      ino = statSync(this.path).ino;
    } catch {
      return;
    }
    if (ino !== this.ino) {
      if (this.fd >= 0) {
        this.drain();
        closeSync(this.fd);
      }
      this.fd = openSync(this.path, 'r');
      this.ino = fstatSync(this.fd).ino;
      this.drain();
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.poll();
    if (this.fd >= 0) closeSync(this.fd);
  }
}

describe('file sink', () => {
  it('rotates by size while followers by name read every alert exactly once; mode 0600', async () => {
    const dir = tempDir();
    const path = join(dir, 'alerts.json');
    const sink = newSink({ path, maxBytes: 8_192, keep: 100 });
    const follower = new NameFollower(path);

    const N = 400;
    const ids: number[] = [];
    for (let i = 0; i < N; i++) {
      const a = makeAlert();
      ids.push(a.outputFields['seq.id'] as number);
      expect(sink.offer(a)).toBe(true);
      // Keep the follower within one rotation of the writer, as any follower by name must be.
      if (i % 10 === 9) await waitFor(() => follower.lines.length === i + 1, 10_000, `follower at ${i + 1}`);
    }
    await waitFor(() => sink.stats().sent === N, 10_000, 'all written');
    await waitFor(() => follower.lines.length >= N, 10_000, 'follower caught up');
    follower.stop();
    expect(sink.rotationCount).toBeGreaterThan(5);
    expect(follower.lines.map(seqOf)).toEqual(ids);
    for (const l of follower.lines) expectSidekickAccepts(l);

    const files = readdirSync(dir).filter((f) => f.startsWith('alerts.json'));
    for (const f of files) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    for (const f of files) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(8_192);
  });

  it('GNU tail -F follows across rotations at a realistic pace, exactly once', async () => {
    const dir = tempDir();
    const path = join(dir, 'alerts.json');
    const sink = newSink({ path, maxBytes: 8_192, keep: 100 });
    const tail = spawn('tail', ['-F', '-n', '+1', '-s', '0.05', path], { stdio: ['ignore', 'pipe', 'ignore'] });
    let tailOut = '';
    tail.stdout.on('data', (d: Buffer) => (tailOut += d.toString()));
    cleanups.push(() => void tail.kill());
    const lines = (): string[] => tailOut.split('\n').filter(Boolean);
    // tail -F only follows the name: a file rotated away before it looked is skipped by design, so
    // rotations here are ~0.3 s apart (real ones are megabytes apart).
    const ids: number[] = [];
    for (let i = 0; i < 150; i++) {
      const a = makeAlert();
      ids.push(a.outputFields['seq.id'] as number);
      sink.offer(a);
      if (i % 5 === 4) await new Promise((r) => setTimeout(r, 60));
    }
    await waitFor(() => lines().length >= ids.length, 10_000, 'tail -F caught up');
    await new Promise((r) => setTimeout(r, 200));
    expect(sink.rotationCount).toBeGreaterThanOrEqual(4);
    expect(lines().map(seqOf)).toEqual(ids);
  });

  it('keeps only `keep` rotated files, newest as .1, and loses nothing that was kept', async () => {
    const dir = tempDir();
    const path = join(dir, 'alerts.json');
    const sink = newSink({ path, maxBytes: 4_096, keep: 2 });
    const ids: number[] = [];
    for (let i = 0; i < 200; i++) {
      const a = makeAlert();
      ids.push(a.outputFields['seq.id'] as number);
      sink.offer(a);
    }
    await waitFor(() => sink.stats().sent === 200, 10_000, 'all written');
    await sink.close(1_000);
    expect(readdirSync(dir).sort()).toEqual(['alerts.json', 'alerts.json.1', 'alerts.json.2']);
    const read = (f: string): number[] => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).map(seqOf);
    const tailIds = [...read('alerts.json.2'), ...read('alerts.json.1'), ...read('alerts.json')];
    // The three files hold the newest alerts, contiguous and in order.
    expect(tailIds).toEqual(ids.slice(ids.length - tailIds.length));
    expect(sink.rotationCount).toBeGreaterThan(3);
  });

  it('rotates by age, and tightens the mode of an existing file', async () => {
    const dir = tempDir();
    const path = join(dir, 'alerts.json');
    writeFileSync(path, '', { mode: 0o644 });
    const sink = newSink({ path, rotateIntervalMs: 300, keep: 5 });
    sink.offer(makeAlert());
    await waitFor(() => existsSync(`${path}.1`), 5_000, 'time-based rotation');
    expect(statSync(`${path}.1`).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${path}.1`, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
    sink.offer(makeAlert());
    await waitFor(() => sink.stats().sent === 2, 5_000, 'second write');
    await sink.close(1_000);
    expect(readFileSync(path, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('close() flushes everything queued within the deadline', async () => {
    const dir = tempDir();
    const path = join(dir, 'alerts.json');
    const sink = newSink({ path });
    for (let i = 0; i < 2_000; i++) sink.offer(makeAlert());
    await sink.close(5_000);
    expect(readFileSync(path, 'utf8').split('\n').filter(Boolean)).toHaveLength(2_000);
    expect(sink.stats()).toMatchObject({ sent: 2_000, failed: 0, queueDepth: 0 });
  });
});
