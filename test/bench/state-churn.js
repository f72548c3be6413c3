#!/usr/bin/env node
/*
 * State engine benchmark (not part of the test suite): per-event cost of beforeRules+afterRules
 * on a process-churn event mix, table size and heap after N short-lived processes, and the time
 * to seed from this machine's /proc (with fds).
 *
 *   npm run build:ts && node test/bench/state-churn.js [--processes N] [--dist DIR]
 */
'use strict';
const path = require('node:path');

const argv = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const DIST = path.resolve(flag('--dist', path.join(__dirname, '../../dist')));
const N = Number(flag('--processes', '200000'));
const { createStateEngine, stateConfigSchema } = require(path.join(DIST, 'state'));
const { syntheticEvent } = require(path.join(DIST, 'probe/synthetic'));

const config = (over = {}) =>
  stateConfigSchema.parse({
    proc_root: '/proc',
    host_root: '',
    max_processes: 65536,
    max_fds_per_process: 1024,
    seed_fds: true,
    max_env_bytes: 4096,
    lazy_proc_reads_per_second: 0,
    sweep_interval_seconds: 0,
    users: { max_containers: 64, refresh_seconds: 60 },
    dns: { hosts_file: '', refresh_seconds: 60, timeout_ms: 2000, max_names: 64 },
    containers: { metadata: false, max_entries: 1024, negative_ttl_seconds: 30, timeout_ms: 2000, first_exec_wait_ms: 0, max_concurrent_lookups: 4, docker_sockets: [], cri_sockets: [] },
    ...over,
  });

function churn() {
  const st = createStateEngine({ config: config(), seed: false });
  const SHELL = 4_100_000; // real pids are small integers (Smis); stay below pid_max yet clear of live ones
  const BASE = 4_100_001;
  const one = (init) => {
    const ev = syntheticEvent(init);
    st.beforeRules(ev);
    st.afterRules(ev);
  };
  // Real events carry the task's cgroup v2 id; the first one for our own process teaches the
  // engine which container (none) that id means, as the seed does for live cgroups.
  const fs = require('node:fs');
  const v2 = /^0::(.*)$/m.exec(fs.readFileSync('/proc/self/cgroup', 'utf8'))?.[1] ?? '/';
  const mount = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.includes(' - cgroup2 '))?.split(' ')[4];
  const cgroupId = mount ? fs.statSync(`${mount}${v2}`).ino : 0;
  one({ type: 'unlink', tgid: process.pid, cgroupId, ret: -2, str0: '/x' });
  one({ type: 'execve', tgid: SHELL, cgroupId, comm: 'bash', argv: ['bash'], exePath: '/usr/bin/bash', cwd: '/' });
  // Events are built up front: the loop measures the state engine, not event construction.
  const perProcess = (pid, ts) => [
    syntheticEvent({ type: 'clone', tgid: SHELL, cgroupId, ret: pid, args: [0x1200011], tsNs: ts }),
    syntheticEvent({ type: 'clone', tgid: pid, cgroupId, ptgid: SHELL, ret: 0, tsNs: ts + 1 }),
    syntheticEvent({ type: 'execve', tgid: pid, cgroupId, ptgid: SHELL, comm: 'cat', argv: ['cat', '/etc/os-release'], exePath: '/usr/bin/cat', tsNs: ts + 2 }),
    syntheticEvent({ type: 'openat', tgid: pid, cgroupId, ret: 3, args: [-100 >>> 0, 0, 0o2000000], str0: '/etc/os-release', tsNs: ts + 3 }),
    syntheticEvent({ type: 'unlink', tgid: pid, cgroupId, ret: -2, str0: '/tmp/x', tsNs: ts + 4 }),
    syntheticEvent({ type: 'close', tgid: pid, cgroupId, args: [3], tsNs: ts + 5 }),
    syntheticEvent({ type: 'procexit', tgid: pid, cgroupId, tsNs: ts + 6 }),
  ];
  // One pool of 1,000 pids reused round after round (each exits before its pid comes back), so
  // the timed loop allocates only what the engine allocates.
  const POOL = 1000;
  const evs = [];
  for (let i = 0; i < POOL; i++) evs.push(...perProcess(BASE + i, i * 10));
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const sizeBefore = st.stats().processes;
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < N; done += POOL) {
    for (const ev of evs) {
      st.beforeRules(ev);
      st.afterRules(ev);
    }
  }
  const ns = process.hrtime.bigint() - t0;
  const events = (N / POOL) * evs.length;
  global.gc?.();
  const s = st.stats();
  console.log(
    JSON.stringify({
      bench: 'churn',
      processes: N,
      events,
      nsPerEvent: Number(ns) / events,
      cgroupId,
      tableBefore: sizeBefore,
      tableAfter: s.processes,
      fdsAfter: s.fds,
      forks: s.processForks,
      exits: s.processExits,
      heapGrowthBytes: process.memoryUsage().heapUsed - heapBefore,
    }),
  );
}

/** Events that change no state (most of a real stream): lookup and header refresh only. */
function steady() {
  const st = createStateEngine({ config: config(), seed: true });
  const ev = syntheticEvent({ type: 'unlink', tgid: process.pid, ptgid: process.ppid, ret: -2, str0: '/tmp/x', cgroupId: 0 });
  st.beforeRules(ev);
  const n = 5_000_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    st.beforeRules(ev);
    st.afterRules(ev);
  }
  console.log(JSON.stringify({ bench: 'steady', events: n, nsPerEvent: Number(process.hrtime.bigint() - t0) / n }));
  void st.close();
}

function seed() {
  for (const seedFds of [false, true]) {
    const t0 = process.hrtime.bigint();
    const st = createStateEngine({ config: config({ seed_fds: seedFds }), seed: true });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const s = st.stats();
    console.log(JSON.stringify({ bench: 'seed', seedFds, ms, processes: s.processes, fds: s.fds }));
    void st.close();
  }
}

churn();
steady();
seed();
