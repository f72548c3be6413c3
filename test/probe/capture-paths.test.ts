/**
 * Capture files on hostile or wrong paths: `lanner record` must never write through a link or
 * leave a capture (command lines, passwords in arguments) readable by others, and `replay` on
 * something that is not a capture must fail at once with a CaptureError, never hang or crash.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, linkSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CAPTURE_HEADER_SIZE, CaptureError, CaptureWriter, openCapture, recordCapture } from '../../src/probe/capture';

const dir = mkdtempSync(join(tmpdir(), 'lanner-cappath-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string): string => join(dir, `${++n}-${name}`);

function secretFile(): { path: string; content: string } {
  const path = fresh('secret');
  const content = 'mysql -p<password>\n';
  writeFileSync(path, content, { mode: 0o600 });
  return { path, content };
}

function expectUntouched(secret: { path: string; content: string }): void {
  expect(readFileSync(secret.path, 'utf8')).toBe(secret.content);
  expect(statSync(secret.path).mode & 0o777).toBe(0o600);
}

function captureErrorOf(fn: () => unknown): CaptureError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CaptureError);
    return err as CaptureError;
  }
  throw new Error('expected a CaptureError');
}

describe('capture writing', () => {
  it('creates the file 0600 whatever the umask', () => {
    const file = fresh('new.lcap');
    const old = process.umask(0);
    try {
      new CaptureWriter(file, 0n).close();
    } finally {
      process.umask(old);
    }
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(file).size).toBe(CAPTURE_HEADER_SIZE);
  });

  it('a symlink to a 0600 file is refused with a clear error; the target is unchanged', () => {
    const secret = secretFile();
    const file = fresh('link.lcap');
    symlinkSync(secret.path, file);
    const err = captureErrorOf(() => new CaptureWriter(file, 0n));
    expect(err.message).toBe(`cannot write capture ${file}: is a symbolic link; refusing to follow or replace it`);
    expectUntouched(secret);
    expect(lstatSync(file).isSymbolicLink()).toBe(true);
  });

  it('a dangling symlink does not create its target', () => {
    const target = fresh('target');
    const file = fresh('dangling.lcap');
    symlinkSync(target, file);
    captureErrorOf(() => new CaptureWriter(file, 0n));
    expect(existsSync(target)).toBe(false);
  });

  it('an existing capture is replaced by a new 0600 file, never written through another hard link', () => {
    const secret = secretFile();
    const file = fresh('hardlink.lcap');
    linkSync(secret.path, file);
    new CaptureWriter(file, 0n).close();
    expectUntouched(secret);
    expect(statSync(file).ino).not.toBe(statSync(secret.path).ino);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const loose = fresh('loose.lcap');
    writeFileSync(loose, 'old', { mode: 0o644 });
    new CaptureWriter(loose, 0n).close();
    expect(statSync(loose).mode & 0o777).toBe(0o600);
    expect(statSync(loose).size).toBe(CAPTURE_HEADER_SIZE);
  });

  it('recordCapture refuses a symlink before loading the probe', async () => {
    const secret = secretFile();
    const file = fresh('record-link.lcap');
    symlinkSync(secret.path, file);
    const t0 = Date.now();
    await expect(recordCapture({ file, durationS: 0.1 })).rejects.toThrow(CaptureError);
    expect(Date.now() - t0).toBeLessThan(500); // no probe load (~1 s) happened
    expectUntouched(secret);
  });
});

describe('capture reading', () => {
  it('a directory or a missing file: a CaptureError saying so, no stack-worthy error', () => {
    expect(captureErrorOf(() => openCapture(dir)).message).toBe(`cannot read capture ${dir}: is a directory, not a regular file`);
    const missing = fresh('missing.lcap');
    expect(captureErrorOf(() => openCapture(missing)).message).toBe(`cannot read capture ${missing}: no such file or directory`);
  });

  it('a FIFO with no writer: a CaptureError at once, never a hang', () => {
    const fifo = fresh('fifo.lcap');
    execFileSync('mkfifo', [fifo]);
    // In a child: a blocking open would hang this worker's event loop, past any test timeout.
    const script = fresh('open-fifo.ts');
    writeFileSync(
      script,
      `import { openCapture } from ${JSON.stringify(resolve(__dirname, '../../src/probe/capture'))};
       try { openCapture(process.argv[2]!); console.log(JSON.stringify({ opened: true })); }
       catch (e) { console.log(JSON.stringify({ name: (e as Error).name, message: (e as Error).message })); }`,
    );
    const viteNode = resolve(__dirname, '../../node_modules/.bin/vite-node');
    const r = spawnSync(viteNode, [script, fifo], { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
    expect(r.error, 'the child hung').toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { name?: string; message?: string };
    expect(out).toEqual({ name: 'CaptureError', message: `cannot read capture ${fifo}: is a FIFO, not a regular file` });
  }, 40_000);
});
