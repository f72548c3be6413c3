/**
 * The kernel's change filter, for real: a Python child changes paths with the classic calls and
 * their *at forms (through os.* and coreutils), and only the calls whose paths match an atom (a
 * prefix, an exact path, a suffix, either path of a two-path call), or the kernel cannot judge,
 * reach user space. The rest are counted as filtered. The TypeScript model of the decision
 * (test/support/open-filter-model.ts) must agree with every call.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { EventView } from '../../src/probe/event';
import { EVENT_TYPES } from '../../src/probe/event-types';
import { normalizePath } from '../../src/probe/decoder';
import { openProbe, type KernelEventSource } from '../../src/probe/probe';
import { CHANGE_FILTER_TYPES } from '../../src/rules/filter-classes';
import type { ChangeFilter } from '../../src/rules/open-filter';
import { kernelShipsChange } from '../support/open-filter-model';
import { kernelIt, kernelUnavailableReason } from './support';

const typeName = (ev: EventView): string => EVENT_TYPES[ev.typeId]?.name ?? `#${ev.typeId}`;

/** A call the child makes: Python source, and what the model needs to judge it. */
interface Call {
  readonly py: string;
  readonly type: string;
  readonly paths: readonly string[];
  readonly mode?: number;
}

describe('in-kernel change filter', () => {
  let source: KernelEventSource | undefined;
  let dir = '';

  beforeAll(async () => {
    if (kernelUnavailableReason() !== undefined) return;
    source = await openProbe({ ringBytes: 16 << 20, types: new Set([...CHANGE_FILTER_TYPES, 'execve', 'procexit']), pressureFraction: 0 });
    dir = realpathSync(mkdtempSync('/tmp/lanner-cf-'));
  });

  afterAll(async () => {
    await source?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the calls in one Python child (cwd: the test directory) and returns its events and the filtered count. */
  function run(calls: readonly Call[]): { events: EventView[]; filtered: number } {
    const src = source!;
    src.drainNow(() => undefined);
    const before = src.nativeStats()!;
    const script = ['import os', `os.chdir(${JSON.stringify(dir)})`, 'def touch(p): open(p, "w").close()', ...calls.map((c) => c.py)].join('\n');
    const r = spawnSync('python3', ['-c', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const events: EventView[] = [];
    src.drainNow((batch) => batch.forEach((ev) => ev.tgid === r.pid && events.push(ev.copy())));
    const after = src.nativeStats()!;
    expect(after.dropFull - before.dropFull, 'ring-full drops').toBe(0);
    return { events, filtered: after.filteredByPath - before.filteredByPath };
  }

  const shipped = (events: readonly EventView[], c: Call): boolean =>
    events.some((e) => typeName(e) === c.type && c.paths.every((p, i) => !p.startsWith('/') || e.str(i as 0 | 1) === normalizePath(p)));

  kernelIt('ships the calls whose paths match an atom or cannot be judged, and only those', () => {
    const d = (name: string): string => `${dir}/${name}`;
    const filter: ChangeFilter = {
      types: CHANGE_FILTER_TYPES.filter((t) => t !== 'truncate'),
      prefixes: [{ prefix: d('keep'), writeOnly: false }, { prefix: d('exact'), writeOnly: false, exact: true }],
      suffixes: [{ suffix: '_history', writeOnly: false }],
      comms: [],
      modeMask: 0o6000, // S_ISUID | S_ISGID
      needles: ['fish_read'],
    };
    const calls: Call[] = [
      { py: `touch("keep1"); os.unlink(${JSON.stringify(d('keep1'))})`, type: 'unlink', paths: [d('keep1')] },
      { py: `touch("drop1"); os.unlink(${JSON.stringify(d('drop1'))})`, type: 'unlink', paths: [d('drop1')] },
      { py: `touch("drop2"); os.rename(${JSON.stringify(d('drop2'))}, ${JSON.stringify(d('keep2'))})`, type: 'rename', paths: [d('drop2'), d('keep2')] },
      { py: `touch("drop3"); os.rename(${JSON.stringify(d('drop3'))}, ${JSON.stringify(d('drop4'))})`, type: 'rename', paths: [d('drop3'), d('drop4')] },
      { py: `os.symlink("/etc/hostname", ${JSON.stringify(d('.bash_history'))})`, type: 'symlink', paths: ['/etc/hostname', d('.bash_history')] },
      { py: `os.symlink("/etc/hostname", ${JSON.stringify(d('link1'))})`, type: 'symlink', paths: ['/etc/hostname', d('link1')] },
      { py: `os.mkdir(${JSON.stringify(d('exact'))})`, type: 'mkdir', paths: [d('exact')] },
      { py: `os.mkdir(${JSON.stringify(d('exactly'))})`, type: 'mkdir', paths: [d('exactly')] },
      { py: `os.rmdir(${JSON.stringify(d('exactly'))})`, type: 'rmdir', paths: [d('exactly')] },
      { py: `touch("drop5"); os.chmod(${JSON.stringify(d('drop5'))}, 0o600)`, type: 'chmod', paths: [d('drop5')], mode: 0o600 },
      // Mode bits: a setuid chmod and a setgid mkdir ship whatever their path; a sticky one does not.
      { py: `touch("drop12"); os.chmod(${JSON.stringify(d('drop12'))}, 0o4755)`, type: 'chmod', paths: [d('drop12')], mode: 0o4755 },
      { py: `os.mkdir(${JSON.stringify(d('drop13'))}, 0o2755)`, type: 'mkdir', paths: [d('drop13')], mode: 0o2755 },
      { py: `os.mkdir(${JSON.stringify(d('drop14'))}, 0o1777)`, type: 'mkdir', paths: [d('drop14')], mode: 0o1777 },
      // Relative and non-normalised paths are not judged: they ship.
      { py: 'touch("drop6"); os.unlink("drop6")', type: 'unlink', paths: ['drop6'] },
      { py: `touch("drop7"); os.unlink(${JSON.stringify(`${dir}//drop7`)})`, type: 'unlink', paths: [`${dir}//drop7`] },
      // The *at forms (dir_fd): the path as passed is what the kernel judges.
      { py: `fd = os.open(${JSON.stringify(dir)}, os.O_RDONLY); touch("drop8"); os.unlink(${JSON.stringify(d('drop8'))}, dir_fd=fd)`, type: 'unlinkat', paths: [d('drop8')] },
      { py: `touch("keep9"); os.unlink(${JSON.stringify(d('keep9'))}, dir_fd=fd)`, type: 'unlinkat', paths: [d('keep9')] },
      { py: `os.mkdir(${JSON.stringify(d('drop10'))}, dir_fd=fd)`, type: 'mkdirat', paths: [d('drop10')] },
      // A substring anywhere in a judged path.
      { py: `touch("a_fish_read_x"); os.unlink(${JSON.stringify(d('a_fish_read_x'))})`, type: 'unlink', paths: [d('a_fish_read_x')] },
      { py: `touch("a_fish_x"); os.unlink(${JSON.stringify(d('a_fish_x'))})`, type: 'unlink', paths: [d('a_fish_x')] },
      // A type outside the filter's types ships whatever its path.
      { py: `touch("drop11"); os.truncate(${JSON.stringify(d('drop11'))}, 0)`, type: 'truncate', paths: [d('drop11')] },
    ];
    source!.setChangeFilter(filter);
    try {
      const { events, filtered } = run(calls);
      let dropped = 0;
      for (const c of calls) {
        const model = kernelShipsChange(filter, { type: c.type, paths: c.paths, comm: 'python3', ...(c.mode !== undefined ? { mode: c.mode } : {}) });
        if (!model) dropped++;
        expect(shipped(events, c), `${c.type} ${c.paths.join(' -> ')}`).toBe(model);
      }
      // Each expectation above is decided, not vacuous: both kinds occur.
      expect(dropped).toBeGreaterThanOrEqual(6);
      expect(calls.length - dropped).toBeGreaterThanOrEqual(8);
      expect(filtered).toBeGreaterThanOrEqual(dropped);
    } finally {
      source!.setChangeFilter(null);
    }
    // Off: the same kind of call ships again.
    const again = run([{ py: `touch("drop1"); os.unlink(${JSON.stringify(d('drop1'))})`, type: 'unlink', paths: [d('drop1')] }]);
    expect(shipped(again.events, { py: '', type: 'unlink', paths: [d('drop1')] })).toBe(true);
  });

  kernelIt('a process name ships all of its calls; the open filter beside it keeps its own atoms', () => {
    const d = (name: string): string => `${dir}/${name}`;
    source!.setOpenFilter({ prefixes: [{ prefix: '/etc/shadow', writeOnly: false, exact: true }], suffixes: [{ suffix: '.key', writeOnly: true }] });
    source!.setChangeFilter({ types: ['unlink'], prefixes: [], comms: ['python3'] });
    try {
      const { events } = run([{ py: `touch("n1"); os.unlink(${JSON.stringify(d('n1'))})`, type: 'unlink', paths: [d('n1')] }]);
      expect(shipped(events, { py: '', type: 'unlink', paths: [d('n1')] })).toBe(true);
      // Too many atoms for the shared tables: refused, and the kernel keeps what it had.
      expect(() => source!.setChangeFilter({ types: ['unlink'], prefixes: [], suffixes: Array.from({ length: 64 }, (_, i) => ({ suffix: `.s${i}`, writeOnly: false })) })).toThrowError(/too long|E2BIG|Argument list/);
      const kept = run([{ py: `touch("n2"); os.unlink(${JSON.stringify(d('n2'))})`, type: 'unlink', paths: [d('n2')] }]);
      expect(shipped(kept.events, { py: '', type: 'unlink', paths: [d('n2')] })).toBe(true);
    } finally {
      source!.setChangeFilter(null);
      source!.setOpenFilter(null);
    }
  });
});
