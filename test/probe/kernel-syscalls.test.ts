/**
 * The event types added for node-level detection (ownership, executable memory, pidfds, other
 * processes' memory, kexec, keys, the mount API, file handles, io_uring), each produced by a real
 * syscall of the test workload (fixtures/actions.c) and checked field by field as decoded.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { EventView } from '../../src/probe/event';
import { EVENT_TYPES } from '../../src/probe/event-types';
import { AT_FDCWD, MAP_ANONYMOUS, MAP_PRIVATE, O_RDONLY, PROT_EXEC, PROT_READ, PROT_WRITE } from '../../src/probe/linux';
import { openProbe, type KernelEventSource } from '../../src/probe/probe';
import { actionsBinary, kernelIt, kernelUnavailableReason } from './support';

const NEW_TYPES = [
  'chown', 'lchown', 'fchown', 'fchownat', 'mprotect', 'mmap', 'pidfd_open', 'pidfd_getfd', 'process_vm_readv', 'kexec_load',
  'kexec_file_load', 'keyctl', 'fsopen', 'fsmount', 'move_mount', 'open_by_handle_at', 'io_uring_setup', 'io_uring_enter', 'io_uring_register',
];
const AT_EMPTY_PATH = 0x1000;

function typeName(ev: EventView): string {
  return EVENT_TYPES[ev.typeId]?.name ?? `#${ev.typeId}`;
}

describe('kernel probe: ownership, executable memory and kernel-facing calls', () => {
  let source: KernelEventSource | undefined;
  let workDir = '';

  beforeAll(async () => {
    if (kernelUnavailableReason() !== undefined) return;
    // Only the types under test: what else the host does cannot crowd the ring.
    source = await openProbe({ ringBytes: 16 << 20, types: new Set(NEW_TYPES) });
    workDir = realpathSync(mkdtempSync(join(tmpdir(), 'lanner-kt-new-')));
  });

  afterAll(async () => {
    await source?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  /** Runs one action of the workload; its printed JSON and copies of its process's events. */
  function run(action: string, ...args: string[]): { info: Record<string, number>; events: EventView[] } {
    const src = source!;
    src.drainNow(() => undefined);
    const dropsBefore = src.nativeStats()!.dropFull;
    const r = spawnSync(actionsBinary(), [action, ...args], { cwd: workDir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as Record<string, number>;
    const events: EventView[] = [];
    src.drainNow((batch) => batch.forEach((ev) => void (ev.tgid === info.pid && events.push(ev.copy()))));
    expect(src.nativeStats()!.dropFull - dropsBefore, 'ring-full drops during the workload').toBe(0);
    return { info, events };
  }

  kernelIt('reports the chown family with ids and resolved paths', () => {
    const { info, events } = run('chown', workDir);
    const file = join(workDir, 'own.txt');
    const of = (name: string) => events.filter((e) => typeName(e) === name);

    const [chown] = of('chown');
    expect(chown, 'chown').toBeDefined();
    expect([chown!.ret, chown!.str(0), chown!.rawArg(1), chown!.rawArg(2)]).toEqual([0, file, 1234, 2345]);

    // lchown names the link itself; -1 ("unchanged") reads as the unsigned 32-bit value.
    const [lchown] = of('lchown');
    expect([lchown!.ret, lchown!.str(0), lchown!.rawArg(1), lchown!.rawArg(2)]).toEqual([0, join(workDir, 'own.lnk'), 1235, 0xffffffff]);

    // fchown: the fd, and the path the kernel walked from it.
    const [fchown] = of('fchown');
    expect([fchown!.ret, fchown!.rawArg(0), fchown!.str(0), fchown!.rawArg(1), fchown!.rawArg(2)]).toEqual([0, info.fd, file, 1236, 2346]);

    // fchownat relative to a directory fd, then on the fd itself (AT_EMPTY_PATH).
    const ats = of('fchownat');
    expect(ats.length).toBe(2);
    expect([ats[0]!.rawArg(0), ats[0]!.str(0), ats[0]!.strRaw(0), ats[0]!.rawArg(2), ats[0]!.rawArg(3), ats[0]!.rawArg(4)]).toEqual([info.dirfd, file, file, 1237, 2347, 0]);
    expect([ats[1]!.rawArg(0), ats[1]!.str(0), ats[1]!.rawArg(2), ats[1]!.rawArg(3), ats[1]!.rawArg(4)]).toEqual([info.fd, file, 1238, 2348, AT_EMPTY_PATH]);
  });

  kernelIt('ships only the mappings and protection changes that make memory executable', () => {
    const { info, events } = run('memexec');
    const mmaps = events.filter((e) => typeName(e) === 'mmap');
    const mprotects = events.filter((e) => typeName(e) === 'mprotect');
    // W+X anonymous and R+X anonymous; not the data mapping, not the file's code mapping, and
    // none of the loader's library mappings before main().
    expect(mmaps.map((e) => e.ret)).toEqual([info.wx, info.anonx]);
    expect(mmaps[0]!.rawArg(2)).toBe(PROT_READ | PROT_WRITE | PROT_EXEC);
    expect(mmaps[0]!.rawArg(3)).toBe(MAP_PRIVATE | MAP_ANONYMOUS);
    expect(mmaps[0]!.rawArg(4)).toBe(-1);
    expect(mmaps[0]!.rawArg(1)).toBe(4096);
    expect(mmaps[1]!.rawArg(2)).toBe(PROT_READ | PROT_EXEC);
    // mprotect to PROT_READ is not shipped; to PROT_READ|PROT_EXEC is, with its address.
    expect(mprotects.length).toBe(1);
    expect([mprotects[0]!.ret, mprotects[0]!.rawArg(0), mprotects[0]!.rawArg(1), mprotects[0]!.rawArg(2)]).toEqual([0, info.data, 4096, PROT_READ | PROT_EXEC]);
  });

  kernelIt('reports pidfds, process_vm_readv, keyctl, kexec, the mount API, open_by_handle_at and io_uring', () => {
    const { info, events } = run('misc', workDir);
    const one = (name: string): EventView => {
      const found = events.filter((e) => typeName(e) === name);
      expect(found.length, name).toBe(1);
      return found[0]!;
    };
    const pidfdOpen = one('pidfd_open');
    expect([pidfdOpen.ret, pidfdOpen.rawArg(0), pidfdOpen.rawArg(1)]).toEqual([info.pidfd, info.child, 0]);
    const getfd = one('pidfd_getfd');
    expect([getfd.ret, getfd.rawArg(0), getfd.rawArg(1), getfd.rawArg(2)]).toEqual([info.gfd, info.pidfd, 1, 0]);
    const readv = one('process_vm_readv');
    expect([readv.ret, readv.rawArg(0)]).toEqual([info.nread, info.child]);
    expect(info.got).toBe(0x1a2b3c4d); // the read really crossed into the child

    const keyctl = one('keyctl');
    expect([keyctl.ret, keyctl.rawArg(0), keyctl.rawArg(1), keyctl.rawArg(2)]).toEqual([info.keyring, 0, -2, 1]);

    // Both kexec calls fail (bad flags, bad fd): failed calls ship, with what they asked for.
    const kexec = one('kexec_load');
    expect(kexec.ret).toBeLessThan(0);
    expect([kexec.rawArg(0), kexec.rawArg(1), kexec.rawArg(3)]).toEqual([0x1000, 0, 0xdead0000]);
    const kexecFile = one('kexec_file_load');
    expect(kexecFile.ret).toBeLessThan(0);
    expect([kexecFile.rawArg(0), kexecFile.rawArg(1), kexecFile.str(0)]).toEqual([-1, -1, 'console=lnr']);

    const fsopen = one('fsopen');
    expect([fsopen.ret, fsopen.str(0), fsopen.rawArg(1)]).toEqual([info.fsfd, 'tmpfs', 1]);
    const fsmount = one('fsmount');
    expect([fsmount.ret, fsmount.rawArg(0), fsmount.rawArg(1)]).toEqual([info.mfd, info.fsfd, 1]);
    const move = one('move_mount');
    expect([move.ret, move.rawArg(0), move.str(0) ?? '', move.rawArg(2), move.str(1), move.rawArg(4)]).toEqual([0, info.mfd, '', AT_FDCWD, join(workDir, 'mnt'), 4]);

    const byHandle = one('open_by_handle_at');
    expect([byHandle.ret, byHandle.rawArg(0), byHandle.rawArg(2), byHandle.str(0)]).toEqual([info.hfd, info.mountfd, O_RDONLY, join(workDir, 'handle.txt')]);

    const setup = one('io_uring_setup');
    // entries asked, then what the kernel filled in: flags, sq/cq sizes, features.
    expect([setup.ret, setup.rawArg(0), setup.rawArg(2), setup.rawArg(3), setup.rawArg(4), setup.rawArg(5)]).toEqual([
      info.ring, 4, 0, info.sqEntries, info.cqEntries, info.features,
    ]);
    const enter = one('io_uring_enter');
    expect([enter.ret, enter.rawArg(0), enter.rawArg(1), enter.rawArg(2), enter.rawArg(3)]).toEqual([info.enter, info.ring, 0, 0, 0]);
    const register = one('io_uring_register');
    expect([register.ret, register.rawArg(0), register.rawArg(1)]).toEqual([-6 /* ENXIO */, info.ring, 1]);
  });
});
