#!/usr/bin/env node
/*
 * Open-path filter benchmark (not part of the test suite; root and `npm run build` needed).
 *
 *   node test/bench/probe-open-filter.js [--loops 1000000] [--rounds 3]
 *
 * The loop of test/bench/probe-bench.js (open("/etc/hostname") + close, 1M times) under the
 * stock-rules event set, with the in-kernel open-path filter off and on (prefix /etc/shadow), and
 * with the alias lookup (src/probe/alias-targets.ts) on: file targets only (one inode lookup per
 * open), and with a directory target (two more lookups, one level up each).
 * Reports medians of workload CPU (its own getrusage, so BPF time in its syscalls counts), agent
 * CPU (this process) while the loop ran, events delivered, filtered and dropped.
 */
'use strict';
const { openCloseBench, median, listBpfProgs: listProgs, enableBpfStats, DEFAULT_TYPES } = require('./open-close-loop');
const probeLib = require('../../dist/probe/index.js');

const { loops: LOOPS, rounds: ROUNDS, runLoop } = openCloseBench(3);

async function round(prefixes, aliasPaths = []) {
  const known = new Set(listProgs().map((p) => p.id));
  const source = await probeLib.openProbe({ types: DEFAULT_TYPES, ringBytes: 16 << 20, openFilter: prefixes === null ? null : { prefixes } });
  if (aliasPaths.length > 0) source.setAliasTargets(aliasPaths);
  let events = 0;
  let pathBytes = 0;
  // Minimal rule-like consumer: every event's type, and the path of every open (as fd.name would).
  await source.start((batch) => {
    events += batch.count;
    batch.forEach((ev) => {
      if (ev.typeId >= 8 && ev.typeId <= 11) pathBytes += ev.str(0)?.length ?? 0;
    });
  });
  await new Promise((r) => setTimeout(r, 50));
  const exitProg = listProgs().find((p) => !known.has(p.id) && p.name === 'lnr_sys_exit');
  const k0 = source.nativeStats();
  const e0 = events;
  const p0 = listProgs().find((p) => p.id === exitProg.id);
  const r = await runLoop();
  const p1 = listProgs().find((p) => p.id === exitProg.id);
  await new Promise((res) => setTimeout(res, 100));
  const k1 = source.nativeStats();
  await source.close();
  const dropped = k1.dropFull - k0.dropFull + k1.dropBig - k0.dropBig + k1.dropOther - k0.dropOther;
  const runs = (p1.run_cnt ?? 0) - (p0.run_cnt ?? 0);
  const exitNsPerRun = runs > 0 ? ((p1.run_time_ns ?? 0) - (p0.run_time_ns ?? 0)) / runs : 0;
  void pathBytes;
  return { ...r, events: events - e0, filtered: k1.filteredByPath - k0.filteredByPath, dropped, exitNsPerRun };
}


(async () => {
  enableBpfStats();
  const configs = [
    ['filter off', null],
    ['filter on (/etc/shadow)', ['/etc/shadow']],
    ['filter on + alias files', ['/etc/shadow'], [{ path: '/etc/shadow', writeOnly: false }, { path: '/etc/gshadow', writeOnly: false }]],
    ['filter on + alias files and a dir', ['/etc/shadow'], [{ path: '/etc/shadow', writeOnly: false }, { path: '/etc/pam.d/', writeOnly: false }]],
  ];
  const res = { detached: [] };
  for (const [name] of configs) res[name] = [];
  for (let i = 0; i < ROUNDS; i++) {
    res.detached.push(await runLoop());
    for (const [name, prefixes, aliasPaths] of configs) res[name].push(await round(prefixes, aliasPaths));
  }
  console.log(`${LOOPS} x open+close of /etc/hostname, stock-rules event set, ${ROUNDS} rounds, medians`);
  console.log(`detached: workload CPU ${median(res.detached.map((r) => r.workloadCpuS)).toFixed(3)} s`);
  for (const [name] of configs) {
    const rs = res[name];
    const m = (k) => median(rs.map((r) => r[k]));
    console.log(
      `${name}: workload CPU ${m('workloadCpuS').toFixed(3)} s, agent CPU ${m('agentCpuS').toFixed(3)} s, ` +
        `delivered ${m('events')}, filtered ${m('filtered')}, dropped ${m('dropped')} (max ${Math.max(...rs.map((r) => r.dropped))}), ` +
        `lnr_sys_exit ${m('exitNsPerRun').toFixed(0)} ns/run`,
    );
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
