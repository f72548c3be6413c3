/**
 * Containers that come and go must not leave their state behind: the metadata cache, cgroup hints,
 * per-container user tables, the pid kept per container and the cgroup id cache return to their
 * size once the containers' processes are gone and the sweep has run, while a live container's
 * state survives it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syntheticEvent, type SyntheticEventInit } from '../../src/probe/synthetic';
import { createStateEngine, type LannerStateEngine } from '../../src/state';
import { makeContainerInfo } from '../../src/state/containers/client';
import type { ContainerInfo } from '../../src/state/types';
import { FakeClient, testStateConfig } from './helpers';

// Pids far above any real pid_max default so /proc never answers for them.
const BASE = 3_900_000_000;
const SHELL = BASE + 1;
const HOST_CGROUP = 7_000;

let procRoot = '';
beforeEach(() => {
  procRoot = mkdtempSync(join(tmpdir(), 'lanner-cproc-'));
});
afterEach(() => {
  rmSync(procRoot, { recursive: true, force: true });
});

function run(st: LannerStateEngine, init: SyntheticEventInit): void {
  const ev = syntheticEvent(init);
  st.beforeRules(ev);
  st.afterRules(ev);
}

/** A process in the fake procfs: its cgroup file and, for containers, a root with /etc/passwd. */
function fakeProc(tgid: number, cgroupPath: string): void {
  mkdirSync(join(procRoot, String(tgid), 'root/etc'), { recursive: true });
  writeFileSync(join(procRoot, String(tgid), 'cgroup'), `0::${cgroupPath}\n`);
  writeFileSync(join(procRoot, String(tgid), 'root/etc/passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n');
}

const fullIdOf = (i: number): string => i.toString(16).padStart(8, '0') + 'c'.repeat(56);

/** The sizes of every container- or cgroup-keyed cache. */
function cacheSizes(st: LannerStateEngine) {
  const s = st.stats();
  return { slots: s.containerCacheSlots, hints: s.containerHints, pids: s.containerPids, users: s.userDbRoots, cgroups: s.cgroupCacheEntries };
}

describe('container state across container churn', () => {
  it('releases the state of containers whose processes are gone, and keeps a live one', async () => {
    const known = new Map<string, ContainerInfo>();
    for (let i = 0; i <= 40; i++) known.set(fullIdOf(i), makeContainerInfo({ fullId: fullIdOf(i), runtime: 'podman', name: `c${i}` }));
    const client = new FakeClient('podman', '/', known);
    // Bounds above the churn, so that what is measured is release, not eviction.
    const st = createStateEngine({
      config: testStateConfig({ proc_root: procRoot, lazy_proc_reads_per_second: 0, users: { max_containers: 64, refresh_seconds: 60 } }),
      seed: false,
      containerClients: [client],
    });
    try {
      fakeProc(SHELL, '/user.slice/session-1.scope');
      run(st, { type: 'execve', tgid: SHELL, ptgid: 1, comm: 'bash', argv: ['bash'], exePath: '/usr/bin/bash', cgroupId: HOST_CGROUP, tsNs: 1_000 });
      expect(st.process(SHELL)!.containerId).toBe('host');
      expect(st.userName(0, 'host')).toBeDefined();

      /** Starts container i: a runtime child of the shell moved into the container's cgroup execs. */
      const start = (i: number): { tgid: number; cid: string } => {
        const tgid = BASE + 1000 + i;
        fakeProc(tgid, `/machine.slice/libpod-${fullIdOf(i)}.scope/container`);
        run(st, { type: 'clone', tgid, ptgid: SHELL, ret: 0, comm: 'bash', cgroupId: HOST_CGROUP, tsNs: 2_000 + i });
        run(st, { type: 'execve', tgid, ptgid: SHELL, comm: 'app', argv: ['/app'], exePath: '/app', cgroupId: 10_000 + i, tsNs: 2_100 + i });
        const cid = st.process(tgid)!.containerId;
        expect(cid).toBe(fullIdOf(i).slice(0, 12));
        // What rules ask about a container process: its description and its user's name.
        st.container(cid);
        expect(st.userName(1000, cid)).toBe('app');
        return { tgid, cid };
      };

      // A container that stays up through the churn.
      const live = start(40);
      await st.containerLookupsIdle();
      expect(st.container(live.cid)?.name).toBe('c40');
      const before = cacheSizes(st);

      for (let i = 0; i < 40; i++) {
        const { tgid } = start(i);
        run(st, { type: 'procexit', tgid, ptgid: SHELL, cgroupId: 10_000 + i, tsNs: 3_000 + i });
        rmSync(join(procRoot, String(tgid)), { recursive: true, force: true });
      }
      await st.containerLookupsIdle();
      expect(st.stats().processes).toBe(2);
      // Each gone container still holds its slots until the sweep.
      expect(cacheSizes(st).hints).toBe(before.hints + 40);

      st.sweep();
      expect(cacheSizes(st)).toEqual(before);

      // The live container is still answered from memory: no new lookup, no new passwd read, and
      // its cgroup id still resolves without /proc.
      const calls = client.calls.length;
      const loads = st.stats().userDbLoads;
      expect(st.container(live.cid)?.name).toBe('c40');
      expect(st.userName(1000, live.cid)).toBe('app');
      await st.containerLookupsIdle();
      expect(client.calls.length).toBe(calls);
      expect(st.stats().userDbLoads).toBe(loads);
      rmSync(join(procRoot, String(live.tgid), 'cgroup'));
      expect(st.containerIdOfCgroup(10_040, live.tgid)).toBe(live.cid);

      // Once its last process exits, the live container goes the same way.
      run(st, { type: 'procexit', tgid: live.tgid, ptgid: SHELL, cgroupId: 10_040, tsNs: 4_000 });
      st.sweep();
      expect(cacheSizes(st)).toEqual({ slots: 0, hints: 0, pids: 0, users: 1, cgroups: 1 });
      expect(st.userName(0, 'host')).toBeDefined();
    } finally {
      await st.close();
    }
  });

  it('keeps a container whose lookup is still running, and drops it once the lookup has settled', async () => {
    const client = new FakeClient('podman', '/', new Map());
    const st = createStateEngine({
      config: testStateConfig({ proc_root: procRoot, lazy_proc_reads_per_second: 0 }),
      seed: false,
      containerClients: [client],
    });
    try {
      const tgid = BASE + 2000;
      fakeProc(tgid, `/machine.slice/libpod-${fullIdOf(99)}.scope`);
      run(st, { type: 'execve', tgid, ptgid: 1, comm: 'app', argv: ['/app'], exePath: '/app', cgroupId: 20_000, tsNs: 1_000 });
      const cid = st.process(tgid)!.containerId;
      expect(st.container(cid)).toBeUndefined();
      run(st, { type: 'procexit', tgid, ptgid: 1, cgroupId: 20_000, tsNs: 2_000 });
      st.sweep();
      // The lookup in flight needs the cgroup hint for the full id.
      expect(cacheSizes(st)).toMatchObject({ slots: 1, hints: 1 });
      await st.containerLookupsIdle();
      expect(client.calls).toEqual([fullIdOf(99)]);
      st.sweep();
      expect(cacheSizes(st)).toMatchObject({ slots: 0, hints: 0, pids: 0, cgroups: 0 });
    } finally {
      await st.close();
    }
  });
});
