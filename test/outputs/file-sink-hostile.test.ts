/**
 * The file sink against a hostile or broken path: links planted where the alert file goes, files
 * of other users, FIFOs, pseudo file systems, the file deleted or swapped while the agent runs,
 * and a gRPC socket path that names a file.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSink, type FileSinkOptions } from '../../src/outputs/file-sink';
import { FALCO_DEFAULT_FORMAT, LineFormatter } from '../../src/outputs/format';
import { createOutputs } from '../../src/outputs/index';
import { makeAlert, seqOf, silentLogger, waitFor } from './helpers';
import { sampleOutputsConfig } from './sample-config';

const formatter = new LineFormatter(FALCO_DEFAULT_FORMAT);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lanner-hostile-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function newSink(over: Partial<FileSinkOptions> & { path: string }): FileSink {
  const sink = new FileSink({ queueCapacity: 1_000, maxBytes: 0, rotateIntervalMs: 0, keep: 3, checkIntervalMs: 50, ...over }, formatter, { logger: silentLogger });
  cleanups.push(() => sink.close(500));
  return sink;
}

/** A secret the agent must never touch: 0600, known content. */
function secretFile(dir: string): { path: string; content: string } {
  const path = join(dir, 'shadow');
  const content = 'root:$6$secret:19000:0:99999:7:::\n';
  writeFileSync(path, content, { mode: 0o600 });
  return { path, content };
}

function expectUntouched(secret: { path: string; content: string }): void {
  expect(readFileSync(secret.path, 'utf8')).toBe(secret.content);
  expect(statSync(secret.path).mode & 0o777).toBe(0o600);
}

/** Outputs with only the file sink at `path`. */
function fileOutputs(path: string): ReturnType<typeof createOutputs> {
  const config = sampleOutputsConfig();
  config.stdout.enabled = false;
  config.file = { ...config.file, enabled: true, path };
  const outputs = createOutputs(config, { logger: silentLogger, hostname: 'node-1' });
  cleanups.push(() => outputs.close(200));
  return outputs;
}

describe('file sink refuses paths it must not write', () => {
  it('a symlink to a 0600 file: start() rejects naming sink, path and reason; the target is unchanged', async () => {
    const dir = tempDir();
    const secret = secretFile(dir);
    const path = join(dir, 'alerts.json');
    symlinkSync(secret.path, path);
    const outputs = fileOutputs(path);
    await expect(outputs.start()).rejects.toThrow(`file output: cannot write alerts to ${path}: is a symbolic link; refusing to follow it`);
    // Even if the caller ignored the failure, alerts never go through the link.
    outputs.publish(makeAlert());
    await new Promise((r) => setTimeout(r, 300));
    expect(outputs.healthy).toBe(false);
    expectUntouched(secret);
    expect(lstatSync(path).isSymbolicLink()).toBe(true);
  });

  it('a dangling symlink is not followed to create its target', async () => {
    const dir = tempDir();
    const target = join(dir, 'created-through-link');
    const path = join(dir, 'alerts.json');
    symlinkSync(target, path);
    const sink = newSink({ path });
    await expect(sink.start()).rejects.toThrow(/symbolic link/);
    expect(existsSync(target)).toBe(false);
  });

  it('a file of another user, or one with a second name (hard link), is not adopted', async () => {
    const dir = tempDir();
    const foreign = join(dir, 'foreign.json');
    writeFileSync(foreign, 'theirs\n', { mode: 0o644 });
    chownSync(foreign, 65534, 65534);
    await expect(newSink({ path: foreign }).start()).rejects.toThrow(`${foreign}: is owned by uid 65534`);
    expect(readFileSync(foreign, 'utf8')).toBe('theirs\n');
    expect(statSync(foreign).mode & 0o777).toBe(0o644);

    const secret = secretFile(dir);
    const linked = join(dir, 'linked.json');
    linkSync(secret.path, linked);
    await expect(newSink({ path: linked }).start()).rejects.toThrow(/hard links/);
    expectUntouched(secret);
  });

  it('a FIFO at the path is refused without blocking', async () => {
    const dir = tempDir();
    const path = join(dir, 'alerts.json');
    execFileSync('mkfifo', [path]);
    const t0 = Date.now();
    await expect(newSink({ path }).start()).rejects.toThrow(`${path}: is a FIFO, not a regular file`);
    expect(Date.now() - t0).toBeLessThan(2_000);
  }, 10_000);

  it('paths under /proc and /sys, and a directory that cannot be made, fail at start', async () => {
    await expect(fileOutputs('/proc/sys/kernel/lanner-alerts.json').start()).rejects.toThrow(/file output: .*is on a proc file system/);
    await expect(fileOutputs('/sys/kernel/lanner-alerts.json').start()).rejects.toThrow(/file output: .*is on a sysfs file system/);
    const dir = tempDir();
    writeFileSync(join(dir, 'not-a-dir'), '');
    const path = join(dir, 'not-a-dir', 'alerts.json');
    await expect(fileOutputs(path).start()).rejects.toThrow(`file output: cannot write alerts to ${path}: cannot create its directory`);
  });

  it('creates a new file 0600 from the first byte, whatever the umask', async () => {
    const dir = tempDir();
    const path = join(dir, 'logs', 'alerts.json');
    const old = process.umask(0);
    try {
      const sink = newSink({ path });
      await sink.start();
      expect(statSync(path).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(old);
    }
  });
});

describe('file sink when the file changes under it', () => {
  it('deleted: opens a new file, counts it, and the alerts after the deletion land in it', async () => {
    const dir = tempDir();
    const path = join(dir, 'alerts.json');
    const sink = newSink({ path });
    await sink.start();
    const first = makeAlert();
    sink.offer(first);
    await waitFor(() => sink.stats().sent === 1, 5_000, 'first alert written');
    unlinkSync(path);
    await waitFor(() => existsSync(path), 5_000, 'a new alert file');
    expect(sink.reopenCount).toBe(1);
    expect(sink.healthy).toBe(true);
    const later = [makeAlert(), makeAlert()];
    for (const a of later) sink.offer(a);
    await waitFor(() => sink.stats().sent === 3, 5_000, 'later alerts written');
    await sink.close(1_000);
    expect(readFileSync(path, 'utf8').split('\n').filter(Boolean).map(seqOf)).toEqual(later.map((a) => a.outputFields['seq.id']));
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('replaced by a symlink: unhealthy and nothing written through it; healthy again once the path is clean', async () => {
    const dir = tempDir();
    const secret = secretFile(dir);
    const path = join(dir, 'alerts.json');
    const outputs = fileOutputs(path);
    await outputs.start();
    outputs.publish(makeAlert());
    unlinkSync(path);
    symlinkSync(secret.path, path);
    await waitFor(() => !outputs.healthy, 5_000, 'sink unhealthy');
    const waiting = makeAlert();
    outputs.publish(waiting);
    await new Promise((r) => setTimeout(r, 300));
    expectUntouched(secret);
    expect(outputs.stats().sinks.file!.queueDepth).toBe(1);

    unlinkSync(path);
    await waitFor(() => outputs.healthy && outputs.stats().sinks.file!.sent === 2, 15_000, 'recovered and delivered');
    // 'sent' counts the hand-over to the file's writer; the line reaches the file just after.
    await waitFor(() => existsSync(path) && readFileSync(path, 'utf8').includes('\n'), 5_000, 'the line on disk');
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
    expect(lines.map(seqOf)).toEqual([waiting.outputFields['seq.id']]);
  }, 30_000);

  it('a directory that disappears makes the sink unhealthy until it can write again', async () => {
    const dir = tempDir();
    const logs = join(dir, 'logs');
    mkdirSync(logs);
    const path = join(logs, 'alerts.json');
    const sink = newSink({ path });
    await sink.start();
    rmSync(logs, { recursive: true });
    writeFileSync(logs, 'a file where the directory was');
    await waitFor(() => !sink.healthy, 5_000, 'sink unhealthy');
    unlinkSync(logs);
    await waitFor(() => sink.healthy && existsSync(path), 15_000, 'sink healthy again');
  }, 30_000);
});

describe('gRPC socket path', () => {
  it('a regular file where the socket goes is refused at start, not deleted', async () => {
    const dir = tempDir();
    const secret = secretFile(dir);
    const config = sampleOutputsConfig();
    config.stdout.enabled = false;
    config.grpc = { ...config.grpc, enabled: true, bind_address: `unix://${secret.path}` };
    const outputs = createOutputs(config, { logger: silentLogger, hostname: 'node-1', version: '1.2.3' });
    cleanups.push(() => outputs.close(200));
    await expect(outputs.start()).rejects.toThrow(`grpc output: ${secret.path}: is a regular file, not a socket; refusing to remove it`);
    expectUntouched(secret);
  });
});
