import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventView } from '../../src/probe/event';
import { EVENT_TYPES } from '../../src/probe/event-types';
import { PATH_PREFIX_LEN, PATH_PREFIX_MAX } from '../../src/probe/layout';
import { ProbeError, openProbe, validateOpenPathPrefixes, type KernelEventSource } from '../../src/probe/probe';
import { normalizePath } from '../../src/probe/decoder';
import { O_WRONLY } from '../../src/probe/linux';
import { kernelShipsOpen } from '../support/open-filter-model';
import { actionsBinary, kernelIt, kernelUnavailableReason } from './support';

const HOSTNAME_OPENS = 40;

function typeName(ev: EventView): string {
  return EVENT_TYPES[ev.typeId]?.name ?? `#${ev.typeId}`;
}

describe('open path prefix validation', () => {
  it('accepts absolute normalised prefixes and dedupes them', () => {
    expect(validateOpenPathPrefixes(null)).toEqual([]);
    expect(validateOpenPathPrefixes(['/etc/sha', '/var/log/', '/etc/sha', '/']).map((p) => p.prefix)).toEqual(['/etc/sha', '/var/log/', '/']);
    // Wanted for any open by one consumer and for writes by another: any open wins.
    expect(validateOpenPathPrefixes([{ prefix: '/etc', writeOnly: true }, '/etc', { prefix: '/usr', writeOnly: true }])).toEqual([
      { prefix: '/etc', writeOnly: false },
      { prefix: '/usr', writeOnly: true },
    ]);
    expect(validateOpenPathPrefixes(['/' + 'a'.repeat(PATH_PREFIX_LEN - 1)])).toHaveLength(1);
    expect(validateOpenPathPrefixes(['/.hidden', '/a/..b'])).toHaveLength(2);
    // A prefix may end in '/.': it holds the hidden names of a directory.
    expect(validateOpenPathPrefixes(['/dev/shm/.'])).toHaveLength(1);
  });

  it.each([
    ['relative', ['etc/shadow'], /absolute/],
    ['empty', [''], /absolute/],
    ['NUL byte', ['/etc/\0shadow'], /NUL/],
    ['too long', ['/' + 'a'.repeat(PATH_PREFIX_LEN)], /longer than 128 bytes/],
    ['too long in UTF-8 bytes', ['/' + 'é'.repeat(64)], /longer than 128 bytes/],
    ['double slash', ['/etc//shadow'], /not normalised/],
    ['dot-dot component', ['/tmp/../etc'], /not normalised/],
    ['trailing dot on a whole path', [{ prefix: '/etc/.', writeOnly: false, exact: true }], /not normalised/],
    ['too many', Array.from({ length: PATH_PREFIX_MAX + 1 }, (_, i) => `/p${i}`), /at most 128/],
    ['not a string', [42 as unknown as string], /not a string/],
  ])('rejects %s', (_name, prefixes, message) => {
    expect(() => validateOpenPathPrefixes(prefixes)).toThrowError(message);
    try {
      validateOpenPathPrefixes(prefixes);
    } catch (err) {
      expect(err).toBeInstanceOf(ProbeError);
      expect((err as ProbeError).code).toBe('EINVAL');
    }
  });
});

// Both ways the kernel gets the path it judges: the copy made at sys_enter (TOCTOU-safe) and,
// with the entry hook off, a read of user memory at sys_exit.
describe.each([
  { enterHooks: true, mode: 'path copied at entry' },
  { enterHooks: false, mode: 'entry hook off: path read at exit' },
])('in-kernel open path filter ($mode)', ({ enterHooks }) => {
  let source: KernelEventSource | undefined;
  let keepDir = '';
  let otherDir = '';

  beforeAll(async () => {
    if (kernelUnavailableReason() !== undefined) return;
    // openat tracks its fds here so that a shipped open's close is shipped too: the filtered
    // open's close must still not be.
    source = await openProbe({
      ringBytes: 16 << 20,
      types: new Set(['openat', 'close', 'execve', 'procexit']),
      trackFdTypes: new Set(['openat']),
      pressureFraction: 0,
      enterHooks,
    });
    keepDir = mkdtempSync('/tmp/lnr-keep-');
    otherDir = realpathSync(mkdtempSync('/tmp/lanner-of-'));
    writeFileSync(join(keepDir, 'kept.txt'), 'k');
    writeFileSync(join(otherDir, 'x'), 'x');
  });

  afterAll(async () => {
    await source?.close();
    for (const d of [keepDir, otherDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  /** Runs `actions openeach ...args` and returns its fds and the events of its tgid. */
  function run(args: string[]): { fds: number[]; events: EventView[]; filtered: number } {
    const src = source!;
    src.drainNow(() => undefined);
    const before = src.nativeStats()!;
    const r = spawnSync(actionsBinary(), ['openeach', ...args], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const events: EventView[] = [];
    src.drainNow((batch) => batch.forEach((ev) => ev.tgid === r.pid && events.push(ev.copy())));
    const after = src.nativeStats()!;
    expect(after.dropFull - before.dropFull, 'ring-full drops').toBe(0);
    return { fds: JSON.parse(r.stdout) as number[], events, filtered: after.filteredByPath - before.filteredByPath };
  }

  const opensOf = (events: EventView[], path: string): EventView[] => events.filter((e) => typeName(e) === 'openat' && e.str(0) === path);

  kernelIt('ships only opens under the prefixes, relative and non-normalised paths, and counts the rest', async () => {
    const src = source!;
    const kept = join(keepDir, 'kept.txt');
    src.setOpenFilter({ prefixes: ['/etc/sha', '/tmp/lnr-keep'] });
    try {
      const { fds, events, filtered } = run([
        `${HOSTNAME_OPENS}x/etc/hostname`,
        '/etc/shadow',
        kept,
        `cd:${otherDir}`,
        'x',
        '/tmp/../etc/hostname',
        '//etc/hostname',
      ]);
      expect(fds.every((fd) => fd >= 0), `all opens succeed: ${JSON.stringify(fds)}`).toBe(true);
      // Only the two non-normalised spellings of /etc/hostname arrive (the decoder normalises
      // them): the kernel kept all plain /etc/hostname opens back.
      expect(opensOf(events, '/etc/hostname').length).toBe(2);
      expect(filtered).toBeGreaterThanOrEqual(HOSTNAME_OPENS);

      const shadow = opensOf(events, '/etc/shadow');
      expect(shadow.length).toBe(1);
      expect(shadow[0]!.ret).toBe(fds[1]);
      expect(opensOf(events, kept).length).toBe(1);
      // Relative: always shipped, and resolved against the cwd as usual.
      expect(opensOf(events, join(otherDir, 'x')).length).toBe(1);
    } finally {
      src.setOpenFilter(null);
    }
  });

  kernelIt('a write-only prefix ships opens that can write and filters reads under it', async () => {
    const src = source!;
    const kept = join(keepDir, 'kept.txt');
    src.setOpenFilter({ prefixes: [{ prefix: `${keepDir}/`, writeOnly: true }, '/etc/shadow'] });
    try {
      const { fds, events, filtered } = run([kept, `w:${kept}`, '/etc/shadow']);
      expect(fds.every((fd) => fd >= 0), JSON.stringify(fds)).toBe(true);
      const opens = opensOf(events, kept);
      expect(opens.length).toBe(1);
      expect(opens[0]!.ret).toBe(fds[1]);
      expect(opens[0]!.rawArg(2) & 3).toBe(1); // O_WRONLY
      expect(filtered).toBeGreaterThanOrEqual(1);
      // Any-open prefixes still ship reads.
      expect(opensOf(events, '/etc/shadow').length).toBe(1);
    } finally {
      src.setOpenFilter(null);
    }
  });

  kernelIt('a filtered open leaves its fd untracked, so its close is not shipped', async () => {
    const src = source!;
    src.setOpenFilter({ prefixes: ['/etc/sha'] });
    try {
      const { fds, events } = run(['/etc/hostname', '/etc/shadow']);
      expect(fds).toEqual([3, 3]); // both opens got fd 3: only the second close may be shipped
      const closes = events.filter((e) => typeName(e) === 'close' && e.rawArg(0) === 3);
      expect(closes.length).toBe(1);
      const shadowOpen = opensOf(events, '/etc/shadow')[0]!;
      expect(shadowOpen).toBeDefined();
      expect(closes[0]!.tsNs).toBeGreaterThan(shadowOpen.tsNs);
    } finally {
      src.setOpenFilter(null);
    }
  });

  kernelIt('turning the filter off (null) ships every open again', async () => {
    const src = source!;
    src.setOpenFilter({ prefixes: ['/etc/sha'] });
    expect(run(['/etc/hostname']).filtered).toBeGreaterThan(0);
    for (const off of [null]) {
      src.setOpenFilter(off);
      const { events, filtered } = run([`5x/etc/hostname`]);
      expect(filtered).toBe(0);
      expect(opensOf(events, '/etc/hostname').length).toBe(5);
      // With the filter off the loader's opens are shipped too.
      expect(events.filter((e) => typeName(e) === 'openat').length).toBeGreaterThan(5);
    }
  });

  kernelIt('invalid prefixes throw and leave the current filter in place', async () => {
    const src = source!;
    src.setOpenFilter({ prefixes: ['/etc/sha'] });
    try {
      expect(() => src.setOpenFilter({ prefixes: ['relative'] })).toThrowError(/absolute/);
      expect(() => src.setOpenFilter({ prefixes: Array.from({ length: PATH_PREFIX_MAX + 1 }, (_, i) => `/p${i}`) })).toThrowError(/at most 128/);
      expect(() => src.setOpenFilter({ prefixes: [], comms: ['a-name-longer-than-15'] })).toThrowError(/longer than 15 bytes/);
      expect(() => src.setOpenFilter({ prefixes: [], comms: [''] })).toThrowError(/non-empty/);
      expect(run(['/etc/hostname']).events.some((e) => e.str(0) === '/etc/hostname')).toBe(false);
      await expect(openProbe({ openFilter: { prefixes: ['etc'] } })).rejects.toThrowError(/absolute/);
    } finally {
      src.setOpenFilter(null);
    }
  });

  kernelIt('an empty filter drops every open it can judge; the names of the processes keep theirs', async () => {
    const src = source!;
    try {
      src.setOpenFilter({ prefixes: [] });
      const none = run([`5x/etc/hostname`, 'x']);
      expect(opensOf(none.events, '/etc/hostname')).toHaveLength(0);
      expect(opensOf(none.events, join(process.cwd(), 'x'))).toHaveLength(1); // relative: unjudged
      // The helper's comm is its file name: a name atom ships all of its opens, not cat's.
      src.setOpenFilter({ prefixes: [], comms: ['actions'] });
      expect(opensOf(run([`5x/etc/hostname`]).events, '/etc/hostname')).toHaveLength(5);
      src.drainNow(() => undefined);
      const cat = spawnSync('cat', ['/etc/hostname']);
      const catOpens: EventView[] = [];
      src.drainNow((batch) => batch.forEach((ev) => void (ev.tgid === cat.pid && typeName(ev) === 'openat' && ev.str(0) === '/etc/hostname' && catOpens.push(ev.copy()))));
      expect(catOpens).toHaveLength(0);
    } finally {
      src.setOpenFilter(null);
    }
  });

  kernelIt('agrees with the model of its decision on every kind of path', async () => {
    const src = source!;
    const dotted = join(otherDir, 'a..');
    mkdirSync(dotted, { recursive: true });
    writeFileSync(join(dotted, 'f'), 'f');
    // One file per spelling, so a non-normalised spelling never normalises to another's path.
    for (const name of ['v', 'y', 'z', 'zy', 'xx', 'a_needle_w', 'a_needle_r']) writeFileSync(join(otherDir, name), name);
    // Prefix, write-only prefix, exact path, suffix and substring (writes only) atoms, and a name no opener has.
    const filter = {
      prefixes: [{ prefix: '/etc/sha', writeOnly: false }, { prefix: `${otherDir}/w`, writeOnly: true }, { prefix: `${otherDir}/x`, writeOnly: false, exact: true }],
      suffixes: [{ suffix: 'y', writeOnly: false }],
      needles: ['needle'],
      comms: ['not-this'],
    };
    src.setOpenFilter(filter);
    try {
      const paths = ['/etc/hostname', '/etc/shadow', `${dotted}/f`, `${otherDir}/../${otherDir.split('/').pop()}/v`, `${otherDir}//y`, `${otherDir}/./z`, `${otherDir}/x`, `${otherDir}/xx`, `${otherDir}/zy`, `w:${otherDir}/a_needle_w`, `${otherDir}/a_needle_r`, `/${'d'.repeat(300)}`];
      const { events } = run(paths);
      for (const spec of paths) {
        // `w:` opens for writing (the helper's syntax).
        const path = spec.replace(/^w:/, '');
        const model = kernelShipsOpen(filter, { type: 'openat', path, flags: spec.startsWith('w:') ? O_WRONLY : 0, comm: 'actions' });
        const shipped = events.some((e) => typeName(e) === 'openat' && e.str(0) !== undefined && (e.str(0) === path || e.str(0) === normalizePath(path)));
        expect(shipped, path).toBe(model);
      }
    } finally {
      src.setOpenFilter(null);
    }
  });

  kernelIt('openProbe({ openFilter }) starts with the filter on; seen excludes filtered opens', async () => {
    const src = await openProbe({ types: new Set(['openat']), openFilter: { prefixes: ['/etc/sha'] }, ringBytes: 4 << 20, enterHooks });
    try {
      src.drainNow(() => undefined);
      const before = src.nativeStats()!;
      // Many filtered opens, so that background opens of other processes cannot hide a miscount.
      const opens = 20_000;
      const r = spawnSync(actionsBinary(), ['openeach', `${opens}x/etc/hostname`, '/etc/shadow']);
      expect(r.status).toBe(0);
      let delivered = 0;
      let shadow = 0;
      let after = src.nativeStats()!;
      // Other processes open files too: drain until a drain finds nothing and the counters did not
      // move, then compare. The kernel counts an event as seen just before it submits the record,
      // so each drain waits a little for records counted in the last snapshot to land.
      for (let i = 0; i < 100; i++) {
        await new Promise((res) => setTimeout(res, 20));
        const n = src.drainNow((batch) => batch.forEach((ev) => void (ev.tgid === r.pid && ev.str(0) === '/etc/shadow' && shadow++)));
        delivered += n;
        const again = src.nativeStats()!;
        const still = again.seen === after.seen && again.emitted === after.emitted;
        after = again;
        if (n === 0 && still && i > 0) break;
      }
      expect(shadow).toBe(1);
      expect(after.filteredByPath - before.filteredByPath).toBeGreaterThanOrEqual(opens);
      // What is shipped still adds up: filtered opens are neither seen nor dropped.
      const dropped = after.dropFull - before.dropFull + (after.dropBig - before.dropBig) + (after.dropOther - before.dropOther);
      // The counters are global: an event of another process can fall on either side of the
      // snapshots (seen counted just before `before`, drained after it), so allow that edge. Were
      // the 20,000 filtered opens counted as seen, the gap would be thousands. With other test files
      // opening files in parallel (CI at 023132a: a gap of 9), a few dozen is that edge.
      expect(Math.abs(after.seen - before.seen - (delivered + dropped))).toBeLessThanOrEqual(100);
      expect(after.seen - before.seen).toBeLessThan(opens / 4);
    } finally {
      await src.close();
    }
  });
});
