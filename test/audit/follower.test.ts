/**
 * The audit log follower: rotation by rename and by truncation, restarts with the saved position
 * (also into a file rotated meanwhile), partial and oversized lines. Nothing lost, nothing twice.
 */
import { appendFileSync, existsSync, readFileSync, renameSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLogFollower, type FollowerOptions } from '../../src/audit/file-follower';
import type { BadInputKind } from '../../src/audit/event';
import { captureLogger, tempDir } from './helpers';

interface Harness {
  readonly dir: string;
  readonly path: string;
  readonly lines: string[];
  readonly bad: BadInputKind[];
  follower(opts?: Partial<FollowerOptions>): AuditLogFollower;
  write(...lines: string[]): void;
}

function harness(): Harness {
  const dir = tempDir('lanner-follow-');
  const path = join(dir, 'audit.log');
  const lines: string[] = [];
  const bad: BadInputKind[] = [];
  const { log } = captureLogger();
  return {
    dir,
    path,
    lines,
    bad,
    follower: (opts = {}) =>
      new AuditLogFollower({
        resolvePath: () => path,
        stateFile: join(dir, 'state', 'audit.state'),
        startAt: 'beginning',
        readChunkBytes: 1 << 16,
        maxLineBytes: 4096,
        onLine: (l) => void lines.push(l),
        onBad: (k) => void bad.push(k),
        log,
        ...opts,
      }),
    write: (...ls) => appendFileSync(path, ls.map((l) => l + '\n').join('')),
  };
}

describe('audit log follower', () => {
  it('reads complete lines and holds a partial line until its newline arrives', () => {
    const h = harness();
    h.write('a1', 'a2');
    const f = h.follower();
    f.catchUp();
    appendFileSync(h.path, '{"half');
    f.catchUp();
    expect(h.lines).toEqual(['a1', 'a2']);
    appendFileSync(h.path, '":1}\n\n');
    f.catchUp();
    expect(h.lines).toEqual(['a1', 'a2', '{"half":1}']);
    expect(f.stats()).toMatchObject({ open: true, lines: 3, offset: readFileSync(h.path).length });
    f.stop();
  });

  it('rotation by rename: the old file is read to its end, then the new one from its start', () => {
    const h = harness();
    h.write('a1', 'a2');
    const f = h.follower();
    f.catchUp();
    h.write('a3'); // written before the rotation, not read yet
    renameSync(h.path, join(h.dir, 'audit-2026-12-02T07-00-00.000.log'));
    f.catchUp(); // renamed, no new file yet: keeps the old one
    expect(h.lines).toEqual(['a1', 'a2', 'a3']);
    h.write('b1', 'b2');
    f.catchUp();
    h.write('b3');
    f.catchUp();
    expect(h.lines).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'b3']);
    expect(f.stats().rotations).toBe(1);
    f.stop();
  });

  it('rotation by truncation (copytruncate): the file is read again from its start', () => {
    const h = harness();
    h.write('a1-long-line', 'a2-long-line');
    const f = h.follower();
    f.catchUp();
    truncateSync(h.path, 0);
    h.write('c1');
    f.catchUp();
    h.write('c2');
    f.catchUp();
    expect(h.lines).toEqual(['a1-long-line', 'a2-long-line', 'c1', 'c2']);
    expect(f.stats().truncations).toBe(1);
    f.stop();
  });

  it('a restart resumes exactly where the last run stopped', () => {
    const h = harness();
    h.write('a1', 'a2');
    const first = h.follower();
    first.catchUp();
    first.stop();
    h.write('a3', 'a4');
    const second = h.follower({ startAt: 'end' }); // the saved position wins over start_at
    second.catchUp();
    expect(h.lines).toEqual(['a1', 'a2', 'a3', 'a4']);
    second.stop();
    const state = JSON.parse(readFileSync(join(h.dir, 'state', 'audit.state'), 'utf8')) as { offset: number; path: string };
    expect(state).toMatchObject({ path: h.path, offset: readFileSync(h.path).length });
    expect(existsSync(join(h.dir, 'state', 'audit.state.tmp'))).toBe(false);
  });

  it('a restart finishes a file rotated while it was down (found by inode), then reads the new one', () => {
    const h = harness();
    h.write('a1');
    const first = h.follower();
    first.catchUp();
    first.stop();
    h.write('a2', 'a3');
    renameSync(h.path, join(h.dir, 'audit-1.log'));
    h.write('b1');
    const second = h.follower();
    second.catchUp();
    expect(h.lines).toEqual(['a1', 'a2', 'a3', 'b1']);
    second.stop();
    // And once more: nothing is read twice after that.
    const third = h.follower();
    h.write('b2');
    third.catchUp();
    expect(h.lines).toEqual(['a1', 'a2', 'a3', 'b1', 'b2']);
    third.stop();
  });

  it('a restart after the rotated file is gone reads the new file from its start', () => {
    const h = harness();
    h.write('a1');
    const first = h.follower();
    first.catchUp();
    first.stop();
    renameSync(h.path, join(h.dir, 'audit-1.log'));
    unlinkSync(join(h.dir, 'audit-1.log'));
    h.write('b1');
    const second = h.follower();
    second.catchUp();
    expect(h.lines).toEqual(['a1', 'b1']);
    second.stop();
  });

  it('a restart after the file was truncated while down reads it from its start', () => {
    const h = harness();
    h.write('a1-long-line', 'a2-long-line');
    const first = h.follower();
    first.catchUp();
    first.stop();
    writeFileSync(h.path, 'c1\n');
    const second = h.follower();
    second.catchUp();
    expect(h.lines).toEqual(['a1-long-line', 'a2-long-line', 'c1']);
    second.stop();
  });

  it('without a saved position: start_at end follows new lines only; a file created later is read whole', () => {
    const h = harness();
    h.write('old1', 'old2');
    const f = h.follower({ startAt: 'end' });
    f.catchUp();
    h.write('new1');
    f.catchUp();
    expect(h.lines).toEqual(['new1']);
    f.stop();

    const g = harness();
    const late = g.follower({ startAt: 'end' });
    late.catchUp(); // no file yet
    g.write('first');
    late.catchUp();
    expect(g.lines).toEqual(['first']);
    late.stop();
  });

  it('skips an oversized line without buffering it whole, across read chunks, and goes on', () => {
    const h = harness();
    const huge = 'x'.repeat(50_000);
    h.write('before', huge, 'after');
    const f = h.follower({ readChunkBytes: 4096, maxLineBytes: 8192 });
    f.catchUp();
    expect(h.lines).toEqual(['before', 'after']);
    expect(h.bad).toEqual(['too_large']);
    f.stop();
  });

  it('a line cut by a rotation is reported as torn, not delivered', () => {
    const h = harness();
    h.write('a1');
    appendFileSync(h.path, '{"cut');
    const f = h.follower();
    f.catchUp();
    renameSync(h.path, join(h.dir, 'audit-1.log'));
    h.write('b1');
    f.catchUp();
    expect(h.lines).toEqual(['a1', 'b1']);
    expect(h.bad).toEqual(['torn_line']);
    f.stop();
  });

  it('polls on its own once started, and stop() saves the position', async () => {
    const h = harness();
    const f = h.follower();
    f.start(10);
    h.write('t1');
    await new Promise((r) => setTimeout(r, 80));
    h.write('t2');
    await new Promise((r) => setTimeout(r, 80));
    f.stop();
    expect(h.lines).toEqual(['t1', 't2']);
    const state = JSON.parse(readFileSync(join(h.dir, 'state', 'audit.state'), 'utf8')) as { offset: number };
    expect(state.offset).toBe(6);
  });
});
