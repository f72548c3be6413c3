#!/usr/bin/env node
/*
 * Probe benchmark (not part of the test suite). Needs root and a build: npm run build.
 *
 *   node test/bench/probe-bench.js [--loops 1000000] [--rounds 5]
 *
 * Workload: a C loop of open("/etc/hostname") + close, compiled here with cc. For each round it
 * runs the loop detached (no probe) and attached (probe delivering to JS), alternating, and
 * reports medians of: workload user+sys CPU (from the loop's own getrusage, so BPF time spent in
 * its syscalls is included), agent (this process) user+sys CPU while the loop ran, events
 * delivered per second and drops. Configurations: "all types" (everything interesting) and
 * "default" (the event types stock rules use; closes of files are not shipped).
 */
'use strict';
const { openCloseBench, median, listBpfProgs: listProgs, enableBpfStats, DEFAULT_TYPES } = require('./open-close-loop');
const probeLib = require('../../dist/probe/index.js');

const { loops: LOOPS, rounds: ROUNDS, runLoop } = openCloseBench(5);

/**
 * Per-program run count and run time from kernel.bpf_stats_enabled (robust against a noisy host).
 * Only programs in `ids` count: other lanner instances on the host have the same names.
 */
function progStats(ids) {
  const out = {};
  for (const p of listProgs()) {
    if (ids.has(p.id)) out[p.name] = { cnt: p.run_cnt ?? 0, ns: p.run_time_ns ?? 0 };
  }
  return out;
}

async function attachedRound(types, extra) {
  const known = new Set(listProgs().map((p) => p.id));
  const source = await probeLib.openProbe({ types, ringBytes: 16 << 20, ...extra });
  const ours = new Set(listProgs().filter((p) => !known.has(p.id) && String(p.name).startsWith('lnr_')).map((p) => p.id));
  let events = 0;
  let sink = 0;
  await source.start((batch) => {
    events += batch.count;
    // Minimal consumer work: touch the type and timestamp of every event.
    batch.forEach((ev) => {
      sink += ev.typeId + ev.tsNs;
    });
  });
  await new Promise((r) => setTimeout(r, 50));
  const before = source.stats();
  const ps0 = progStats(ours);
  const r = await runLoop();
  const ps1 = progStats(ours);
  await new Promise((res) => setTimeout(res, 100)); // let the drain catch up
  const after = source.stats();
  const bpf = {};
  for (const name of Object.keys(ps1)) {
    const runs = ps1[name].cnt - (ps0[name]?.cnt ?? 0);
    bpf[name] = { runs, nsPerRun: runs > 0 ? (ps1[name].ns - (ps0[name]?.ns ?? 0)) / runs : 0, totalS: (ps1[name].ns - (ps0[name]?.ns ?? 0)) / 1e9 };
  }
  await source.close();
  const delivered = after.delivered - before.delivered;
  const dropped = after.droppedRingFull - before.droppedRingFull + (after.droppedTooLarge - before.droppedTooLarge) + (after.droppedOther - before.droppedOther);
  void sink;
  return { ...r, events: delivered, dropped, eventsPerS: delivered / r.wallS, bpf };
}

(async () => {
  enableBpfStats();
  const configs = [
    // The floor: the programs run on every syscall but return at once. Measured with and without
    // the sys_enter program, since each attached raw syscall hook costs every syscall.
    ['attached, nothing interesting', new Set(['init_module']), {}],
    ['attached, nothing interesting, no enter hook', new Set(['init_module']), { enterHooks: false }],
    ['all types', undefined, {}],
    ['default rules set', DEFAULT_TYPES, {}],
    ['default, no enter hooks', DEFAULT_TYPES, { enterHooks: false }],
  ];
  const results = { detached: [] };
  for (const [name] of configs) results[name] = [];
  for (let round = 0; round < ROUNDS; round++) {
    results.detached.push(await runLoop());
    for (const [name, types, extra] of configs) results[name].push(await attachedRound(types, extra));
  }
  const base = median(results.detached.map((r) => r.workloadCpuS));
  console.log(`loop: ${LOOPS} x open+close of /etc/hostname, ${ROUNDS} rounds, medians`);
  console.log(`detached: workload CPU ${base.toFixed(3)} s`);
  for (const [name] of configs) {
    const rs = results[name];
    const w = median(rs.map((r) => r.workloadCpuS));
    console.log(
      `${name}: workload CPU ${w.toFixed(3)} s (+${(((w - base) / base) * 100).toFixed(0)}%), agent CPU ${median(rs.map((r) => r.agentCpuS)).toFixed(3)} s, ` +
        `events ${median(rs.map((r) => r.events))}, ${(median(rs.map((r) => r.eventsPerS)) / 1e6).toFixed(2)} M events/s, dropped ${median(rs.map((r) => r.dropped))} (max ${Math.max(...rs.map((r) => r.dropped))})`,
    );
    for (const prog of Object.keys(rs[0].bpf)) {
      console.log(
        `    ${prog}: ${median(rs.map((r) => r.bpf[prog]?.runs ?? 0))} runs, ${median(rs.map((r) => r.bpf[prog]?.nsPerRun ?? 0)).toFixed(0)} ns/run, ${median(rs.map((r) => r.bpf[prog]?.totalS ?? 0)).toFixed(3)} s total`,
      );
    }
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
