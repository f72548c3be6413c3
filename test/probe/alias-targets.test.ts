/**
 * Alias targets: the rules' files keyed by inode, looked up by the kernel at each successful open
 * so another name for them (symlink, symlinked directory, hard link, /proc/self/root) ships with
 * the named path in str1. Resolution in user space (stat, prefixes, directories, bounds) and the
 * kernel's lookup against real files.
 */
import { spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventView } from '../../src/probe/event';
import { EVENT_TYPES } from '../../src/probe/event-types';
import { ALIAS_MAX } from '../../src/probe/layout';
import { kernelDevFromStat } from '../../src/probe/linux';
import { resolveAliasTargets, sameAliasTargets } from '../../src/probe/alias-targets';
import { openProbe, type KernelEventSource } from '../../src/probe/probe';
import { actionsBinary, kernelIt, kernelUnavailableReason } from './support';

describe('kernelDevFromStat', () => {
  it("gives the kernel's major << 20 | minor, as /proc/self/mountinfo names the root filesystem", () => {
    const root = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === '/');
    const [major, minor] = root!.split(' ')[2]!.split(':').map(Number) as [number, number];
    expect(kernelDevFromStat(statSync('/', { bigint: true }).dev)).toBe(((major << 20) | minor) >>> 0);
  });

  it('keeps the high bits of large minors and majors', () => {
    // glibc: minor 0x12345 -> low byte 0x45, bits 8.. at << 12; major 0x321 -> << 8.
    const stDev = (0x45n) | (0x321n << 8n) | (0x123n << 20n);
    expect(kernelDevFromStat(stDev)).toBe(((0x321 << 20) | 0x12345) >>> 0);
  });
});

describe('resolveAliasTargets', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync('/tmp/lanner-alias-unit-');
    writeFileSync(join(dir, 'secret'), 's');
    mkdirSync(join(dir, 'keys'));
    writeFileSync(join(dir, 'host_key_rsa'), 'r');
    writeFileSync(join(dir, 'host_key_ed25519'), 'e');
    linkSync(join(dir, 'secret'), join(dir, 'secret-hard'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keys files by inode, directories only when read under, and skips the root and missing paths', () => {
    const r = resolveAliasTargets([
      { path: join(dir, 'secret'), writeOnly: false },
      { path: `${join(dir, 'keys')}/`, writeOnly: false },
      { path: dir, writeOnly: true }, // a directory named for writes only: no target
      { path: '/', writeOnly: false },
      { path: join(dir, 'missing/'), writeOnly: false },
    ]);
    const st = statSync(join(dir, 'secret'), { bigint: true });
    expect(r.targets).toEqual([
      { dev: kernelDevFromStat(st.dev), ino: Number(st.ino), dir: false, path: join(dir, 'secret') },
      expect.objectContaining({ dir: true, path: join(dir, 'keys') }),
    ]);
    expect(r.overflow).toBe(0);
  });

  it('expands a prefix that names no file into the files it covers, and keeps one name per inode', () => {
    const r = resolveAliasTargets([
      { path: join(dir, 'host_key_'), writeOnly: false },
      { path: join(dir, 'secret'), writeOnly: false },
      { path: join(dir, 'secret-hard'), writeOnly: false },
    ]);
    expect(r.targets.map((t) => t.path)).toEqual([join(dir, 'host_key_ed25519'), join(dir, 'host_key_rsa'), join(dir, 'secret')]);
  });

  it('counts what the kernel table cannot hold', () => {
    const many = Array.from({ length: ALIAS_MAX + 3 }, (_, i) => ({ path: `/x/${i}`, writeOnly: false }));
    let ino = 0n;
    const fakeStat = (): ReturnType<typeof statSync> => ({ dev: 2049n, ino: ++ino, isFile: () => true, isDirectory: () => false }) as unknown as ReturnType<typeof statSync>;
    const r = resolveAliasTargets(many, fakeStat as never);
    expect(r.targets).toHaveLength(ALIAS_MAX);
    expect(r.overflow).toBe(3);
  });

  it('sees a file replaced by rename as a change (the refresh then updates the kernel)', () => {
    const path = join(dir, 'secret');
    const before = resolveAliasTargets([{ path, writeOnly: false }]).targets;
    writeFileSync(join(dir, 'secret.new'), 'n');
    renameSync(join(dir, 'secret.new'), path);
    const after = resolveAliasTargets([{ path, writeOnly: false }]).targets;
    expect(sameAliasTargets(before, before)).toBe(true);
    expect(sameAliasTargets(before, after)).toBe(false);
  });
});

describe('alias lookups in the kernel', () => {
  let source: KernelEventSource | undefined;
  let dir = '';

  beforeAll(async () => {
    if (kernelUnavailableReason() !== undefined) return;
    source = await openProbe({ ringBytes: 16 << 20, types: new Set(['openat', 'execve', 'procexit']), pressureFraction: 0 });
    dir = mkdtempSync('/var/tmp/lanner-alias-kernel-');
    mkdirSync(join(dir, 'guarded'));
    writeFileSync(join(dir, 'guarded/inside'), 'i');
    writeFileSync(join(dir, 'target'), 't');
    writeFileSync(join(dir, 'plain'), 'p');
    symlinkSync(join(dir, 'target'), join(dir, 'sym'));
    symlinkSync(dir, join(dir, 'dirlink'));
    linkSync(join(dir, 'target'), join(dir, 'hard'));
  });

  afterAll(async () => {
    await source?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Opens each path in one process (the test tool) and returns that process's openat events. */
  function opens(paths: string[]): EventView[] {
    const src = source!;
    src.drainNow(() => undefined);
    const r = spawnSync(actionsBinary(), ['openeach', ...paths], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out: EventView[] = [];
    src.drainNow((b) => b.forEach((ev) => ev.tgid === r.pid && EVENT_TYPES[ev.typeId]?.name === 'openat' && out.push(ev.copy())));
    return out;
  }

  /** An open's str1 is only ever the alias target's path (LNR_F_ALIASED marks the record too: see the ABI test). */
  const aliasOf = (ev: EventView): string | undefined => ev.strRaw(1);

  kernelIt('reports the target for every other name of a file, and nothing for other files', () => {
    const src = source!;
    const r = src.setAliasTargets([
      { path: join(dir, 'target'), writeOnly: false },
      { path: `${join(dir, 'guarded')}/`, writeOnly: false },
    ]);
    expect(r).toEqual({ targets: 2, overflow: 0 });
    const names = [join(dir, 'target'), join(dir, 'sym'), join(dir, 'dirlink/target'), join(dir, 'hard'), `/proc/self/root${join(dir, 'target')}`, join(dir, 'plain')];
    const evs = opens([...names, join(dir, 'dirlink/guarded/inside')]);
    const byRaw = new Map(evs.map((e) => [e.strRaw(0), aliasOf(e)]));
    for (const n of names.slice(0, 5)) expect(byRaw.get(n), n).toBe(join(dir, 'target'));
    expect(byRaw.get(join(dir, 'plain'))).toBeUndefined();
    // Under a directory target: the path walked from the file, through the real directories.
    expect(byRaw.get(join(dir, 'dirlink/guarded/inside'))).toBe(join(dir, 'guarded/inside'));
  });

  kernelIt('ships an aliased open the open filter would have dropped by its name', () => {
    const src = source!;
    src.setAliasTargets([{ path: join(dir, 'target'), writeOnly: false }]);
    src.setOpenFilter({ prefixes: [join(dir, 'target')] });
    try {
      const evs = opens([join(dir, 'sym'), join(dir, 'plain')]);
      expect(evs.map((e) => [e.strRaw(0), aliasOf(e)])).toEqual([[join(dir, 'sym'), join(dir, 'target')]]);
    } finally {
      src.setOpenFilter(null);
    }
  });

  kernelIt('forgets targets when the set is emptied, and finds a replaced file again when re-resolved', () => {
    const src = source!;
    const target = join(dir, 'target');
    src.setAliasTargets([{ path: target, writeOnly: false }]);
    writeFileSync(`${target}.new`, 'n');
    renameSync(`${target}.new`, target);
    const sym = join(dir, 'sym');
    const symOpen = (): EventView => {
      const ev = opens([sym]).find((e) => e.strRaw(0) === sym);
      expect(ev, 'the open of the symlink ships').toBeDefined();
      return ev!;
    };
    // The old inode is what the map holds until the next resolution.
    expect(aliasOf(symOpen())).toBeUndefined();
    src.setAliasTargets([{ path: target, writeOnly: false }]);
    expect(aliasOf(symOpen())).toBe(target);
    src.setAliasTargets([]);
    expect(aliasOf(symOpen())).toBeUndefined();
  });
});
