import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseIdFile, UserDb } from '../../src/state/users';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function fakeRoot(passwd: string, group: string): string {
  const root = mkdtempSync(join(tmpdir(), 'lanner-users-'));
  dirs.push(root);
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/passwd'), passwd);
  writeFileSync(join(root, 'etc/group'), group);
  return root;
}

describe('user and group names', () => {
  it('parses passwd/group lines, first entry winning, skipping junk', () => {
    const m = parseIdFile('root:x:0:0:root:/root:/bin/bash\n# comment\nbroken\ntoor:x:0:0::/:/bin/sh\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n');
    expect([...m]).toEqual([
      [0, 'root'],
      [33, 'www-data'],
    ]);
  });

  it('resolves host ids from the host root and container ids through a container process root', () => {
    const host = fakeRoot('root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n', 'root:x:0:\nstaff:x:50:alice\n');
    // A fake procfs where pid 4242 belongs to container abcdef123456.
    const proc = mkdtempSync(join(tmpdir(), 'lanner-uproc-'));
    dirs.push(proc);
    mkdirSync(join(proc, '4242/root/etc'), { recursive: true });
    writeFileSync(join(proc, '4242/root/etc/passwd'), 'root:x:0:0::/root:/bin/sh\nnginx:x:101:101::/:/sbin/nologin\n');
    writeFileSync(join(proc, '4242/root/etc/group'), 'nginx:x:101:\n');
    let now = 0;
    const db = new UserDb({ hostRoot: host, procRoot: proc, maxRoots: 2, refreshMs: 1000, now: () => now, pidOfContainer: (cid) => (cid === 'abcdef123456' ? 4242 : undefined) });
    expect(db.userName(1000, 'host')).toBe('alice');
    expect(db.groupName(50, 'host')).toBe('staff');
    expect(db.userName(101, 'host')).toBeUndefined();
    expect(db.userName(101, 'abcdef123456')).toBe('nginx');
    expect(db.groupName(101, 'abcdef123456')).toBe('nginx');
    expect(db.userName(1000, 'abcdef123456')).toBeUndefined();
    expect(db.userName(0, 'ffffffffffff')).toBeUndefined();
    expect(db.loads).toBe(2);
    // Cached until the refresh interval passes, then re-read.
    writeFileSync(join(host, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\nbob:x:1000:1000::/:/bin/sh\n');
    expect(db.userName(1000, 'host')).toBe('alice');
    now = 1500;
    expect(db.userName(1000, 'host')).toBe('bob');
    expect(db.cachedRoots).toBeLessThanOrEqual(2);
  });

  it("reads nothing through a container process whose root is still the host's (runtime init before pivot)", () => {
    const host = fakeRoot('root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n', 'root:x:0:\n');
    const image = fakeRoot('root:x:0:0::/root:/bin/sh\nappuser:x:1000:1000::/app:/bin/sh\n', 'root:x:0:\n');
    const proc = mkdtempSync(join(tmpdir(), 'lanner-uproc-'));
    dirs.push(proc);
    mkdirSync(join(proc, '77'));
    symlinkSync(host, join(proc, '77/root'));
    const db = new UserDb({ hostRoot: host, procRoot: proc, maxRoots: 4, refreshMs: 60_000, pidOfContainer: () => 77 });
    // Not the host's alice: unknown for now, and nothing cached.
    expect(db.userName(1000, 'c0ffee000000')).toBeUndefined();
    expect(db.loads).toBe(0);
    // Once the process has switched to the image's root, the next lookup reads the image's files.
    unlinkSync(join(proc, '77/root'));
    symlinkSync(image, join(proc, '77/root'));
    expect(db.userName(1000, 'c0ffee000000')).toBe('appuser');
    expect(db.loads).toBe(1);
  });

  it('forgets the tables of containers that are gone, never the host table', () => {
    const host = fakeRoot('root:x:0:0::/root:/bin/sh\n', 'root:x:0:\n');
    const proc = mkdtempSync(join(tmpdir(), 'lanner-uproc-'));
    dirs.push(proc);
    const pids = new Map<string, number>();
    for (let i = 0; i < 3; i++) {
      mkdirSync(join(proc, `${100 + i}/root/etc`), { recursive: true });
      writeFileSync(join(proc, `${100 + i}/root/etc/passwd`), `u${i}:x:1000:1000::/:/bin/sh\n`);
      pids.set(`c${i}`, 100 + i);
    }
    const db = new UserDb({ hostRoot: host, procRoot: proc, maxRoots: 8, refreshMs: 60_000, pidOfContainer: (cid) => pids.get(cid) });
    expect(db.userName(0, 'host')).toBe('root');
    for (let i = 0; i < 3; i++) expect(db.userName(1000, `c${i}`)).toBe(`u${i}`);
    expect(db.cachedRoots).toBe(4);
    expect(db.retain((cid) => cid === 'c1')).toBe(2);
    expect(db.cachedRoots).toBe(2);
    expect(db.userName(0, 'host')).toBe('root');
    expect(db.userName(1000, 'c1')).toBe('u1');
    expect(db.loads).toBe(4);
  });

  it('reads the real host /etc/passwd by default', () => {
    const db = new UserDb({ hostRoot: '', procRoot: '/proc', maxRoots: 4, refreshMs: 60_000, pidOfContainer: () => undefined });
    expect(db.userName(0, 'host')).toBe('root');
    expect(db.groupName(0, 'host')).toBe('root');
  });
});
