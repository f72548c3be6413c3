/**
 * The single-instance lock (src/agent/instance-lock.ts): taken in an empty run directory, refused
 * while its holder lives (naming the pid), taken over from a dead holder or a reused pid, and
 * never followed through a link or removed when it is no longer ours.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireInstanceLock, InstanceLockError, LOCK_FILE_NAME } from '../../src/agent/instance-lock';

const tmp = mkdtempSync(join(tmpdir(), 'lanner-lock-'));
let n = 0;
const freshDir = (): string => join(tmp, `run${++n}`);

function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

describe('instance lock', () => {
  it('is taken in a new run directory and released', () => {
    const dir = freshDir();
    const lock = acquireInstanceLock(dir);
    expect(lock.path).toBe(join(dir, LOCK_FILE_NAME));
    expect(readFileSync(lock.path, 'utf8')).toBe(`${process.pid} ${startTime(process.pid)}\n`);
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
  });

  it('is refused while its holder runs, naming the pid', async () => {
    const dir = freshDir();
    mkdirSync(dir);
    const holder = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 50));
      writeFileSync(join(dir, LOCK_FILE_NAME), `${holder.pid} ${startTime(holder.pid!)}\n`);
      expect(() => acquireInstanceLock(dir)).toThrow(InstanceLockError);
      expect(() => acquireInstanceLock(dir)).toThrow(`another lanner is running on this host (pid ${holder.pid}, holding ${join(dir, LOCK_FILE_NAME)})`);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('is taken over from a holder that is gone, or whose pid now belongs to another process', () => {
    const dead = spawnSync('true').pid;
    for (const stale of [`${dead} 12345\n`, `${process.pid} 1\n`, 'garbage']) {
      const dir = freshDir();
      mkdirSync(dir);
      writeFileSync(join(dir, LOCK_FILE_NAME), stale);
      const lock = acquireInstanceLock(dir);
      expect(readFileSync(lock.path, 'utf8')).toBe(`${process.pid} ${startTime(process.pid)}\n`);
      lock.release();
    }
  });

  it('is never read through a link, nor kept in a linked run directory', () => {
    const dir = freshDir();
    mkdirSync(dir);
    const target = join(tmp, 'precious');
    writeFileSync(target, 'keep me');
    symlinkSync(target, join(dir, LOCK_FILE_NAME));
    expect(() => acquireInstanceLock(dir)).toThrow(/instance lock .* ELOOP|symbolic link/);
    expect(readFileSync(target, 'utf8')).toBe('keep me');
    const real = freshDir();
    mkdirSync(real);
    symlinkSync(real, `${real}-link`);
    expect(() => acquireInstanceLock(`${real}-link`)).toThrow(/is a symbolic link, not a directory/);
  });

  it('release leaves a lock another agent holds by then', () => {
    const dir = freshDir();
    const lock = acquireInstanceLock(dir);
    writeFileSync(lock.path, '1 1\n');
    lock.release();
    expect(readFileSync(lock.path, 'utf8')).toBe('1 1\n');
  });
});
