#!/usr/bin/env node
/*
 * Engine-only throughput: replays a synthetic exec/open/connect/close/clone mix (built with
 * src/probe/synthetic.ts) through the compiled rules on one core, with an in-memory state, and
 * measures events/s and heap bytes allocated per event. Prints one JSON object.
 *
 *   node --expose-gc test/bench/engine-throughput.js [--seconds 3] [--dist dist]
 *
 * Allocation: the heap is measured around windows of events short enough that no scavenge runs
 * inside (checked with gc()), so heapUsed deltas are the bytes the window allocated.
 */
'use strict';
const path = require('node:path');
const fs = require('node:fs');

const argv = process.argv.slice(2);
const arg = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const REPO = path.resolve(__dirname, '../..');
const DIST = path.resolve(REPO, arg('--dist', process.env.LANNER_DIST || 'dist'));
const SECONDS = Number(arg('--seconds', '3'));

const { Engine } = require(path.join(DIST, 'engine/rule-engine.js'));
const { loadRules } = require(path.join(DIST, 'rules/ruleset.js'));
const { expandRulesPaths } = require(path.join(DIST, 'engine/manager.js'));
const { syntheticEvent } = require(path.join(DIST, 'probe/synthetic.js'));

const { STOCK_SYSCALL_FILES: stockFiles } = require('../support/stock-rules');

// --- a small node: host daemons plus two containers -------------------------------------------
function proc(p) {
  const args = p.args ?? [];
  return {
    argsLine: args.length > 0 ? args.join(' ') : undefined,
    ptgid: 1, name: 'x', exe: 'x', exePath: '/usr/bin/x', args: [], cwd: '/', tty: 0, sid: p.tgid, vpgid: p.tgid, vpid: p.tgid, uid: 0, gid: 0,
    euid: 0, loginuid: -1, startNs: 1, containerId: 'host', capEffective: 0n, capPermitted: 0n, exeWritable: false, exeUpperLayer: false,
    exeFromMemfd: false, pidNs: 1, mntNs: 1, env: [], exeCtimeNs: 0n, exeMtimeNs: 0n, ...p,
  };
}
const processes = new Map();
const add = (p) => processes.set(p.tgid, proc(p));
add({ tgid: 1, ptgid: 0, name: 'systemd', exe: '/sbin/init', exePath: '/usr/lib/systemd/systemd' });
add({ tgid: 400, name: 'containerd', exe: '/usr/bin/containerd', exePath: '/usr/bin/containerd' });
add({ tgid: 500, name: 'kubelet', exe: '/usr/bin/kubelet', exePath: '/usr/bin/kubelet', args: ['--config', '/var/lib/kubelet/config.yaml'] });
add({ tgid: 600, ptgid: 400, name: 'containerd-shim', exe: 'containerd-shim', exePath: '/usr/bin/containerd-shim-runc-v2' });
add({ tgid: 700, ptgid: 600, name: 'nginx', exe: 'nginx', exePath: '/usr/sbin/nginx', args: ['-g', 'daemon off;'], containerId: 'aaaaaaaaaaaa', uid: 101, euid: 101 });
add({ tgid: 701, ptgid: 700, name: 'nginx', exe: 'nginx', exePath: '/usr/sbin/nginx', containerId: 'aaaaaaaaaaaa', uid: 101, euid: 101 });
add({ tgid: 800, ptgid: 600, name: 'java', exe: '/usr/bin/java', exePath: '/usr/lib/jvm/bin/java', args: ['-jar', 'app.jar'], containerId: 'bbbbbbbbbbbb' });
add({ tgid: 900, ptgid: 500, name: 'iptables', exe: 'iptables', exePath: '/usr/sbin/iptables', args: ['-w', '-L'] });
add({ tgid: 901, ptgid: 600, name: 'ls', exe: 'ls', exePath: '/usr/bin/ls', args: ['-l'], containerId: 'bbbbbbbbbbbb' });
const containers = new Map([
  ['aaaaaaaaaaaa', { id: 'aaaaaaaaaaaa', fullId: 'a'.repeat(64), runtime: 'containerd', name: 'web', image: 'nginx:1.27', imageRepository: 'docker.io/library/nginx', imageTag: '1.27', imageDigest: '', privileged: false, mounts: [], startTsNs: 1n, podName: 'web-0', podNamespace: 'shop', podUid: 'u', podLabels: {} }],
  ['bbbbbbbbbbbb', { id: 'bbbbbbbbbbbb', fullId: 'b'.repeat(64), runtime: 'containerd', name: 'api', image: 'corp/api:2', imageRepository: 'corp/api', imageTag: '2', imageDigest: '', privileged: false, mounts: [], startTsNs: 1n, podName: 'api-0', podNamespace: 'shop', podUid: 'v', podLabels: {} }],
]);
const fds = new Map();
const fd = (tgid, f) => fds.set(tgid * 65536 + f.num, { type: 'file', name: '', nameRaw: '', l4proto: '', clientIp: '', clientPort: 0, serverIp: '', serverPort: 0, isServer: false, connected: false, openFlags: 0, ...f });
fd(701, { num: 10, type: 'ipv4', name: '10.1.0.5:80->10.1.0.9:51000', clientIp: '10.1.0.9', clientPort: 51000, serverIp: '10.1.0.5', serverPort: 80, isServer: true, l4proto: 'tcp', connected: true });
fd(800, { num: 20, type: 'ipv4', name: '10.1.0.7:40000->10.96.0.10:53', clientIp: '10.1.0.7', clientPort: 40000, serverIp: '10.96.0.10', serverPort: 53, l4proto: 'udp', connected: true });
fd(500, { num: 30, type: 'ipv4', name: '10.0.0.2:50000->10.0.0.1:6443', clientIp: '10.0.0.2', clientPort: 50000, serverIp: '10.0.0.1', serverPort: 6443, l4proto: 'tcp', connected: true });
const state = {
  process: (tgid) => processes.get(tgid),
  fd: (tgid, n) => fds.get(tgid * 65536 + n),
  container: (id) => containers.get(id),
  containerIdOfCgroup: () => 'host',
  userName: (uid) => (uid === 0 ? 'root' : uid === 101 ? 'nginx' : undefined),
  groupName: (gid) => (gid === 0 ? 'root' : undefined),
  ipNames: () => undefined,
  requiredEventTypes: new Set(['clone', 'procexit', 'close']),
};

// --- the event mix -----------------------------------------------------------------------------
const O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0o100, O_APPEND = 0o2000, O_CLOEXEC = 0o2000000;
const mix = [];
const push = (n, init) => { for (let i = 0; i < n; i++) mix.push(syntheticEvent({ tsNs: 1e9 + mix.length * 1000, ...init })); };
const open = (tgid, name, flags, ret = 5) => ({ type: 'openat', tgid, ptgid: processes.get(tgid).ptgid, ret, args: [-100, 0, flags, 0o644], str0: name });
push(18, open(701, '/usr/share/nginx/html/index.html', O_RDONLY | O_CLOEXEC));
push(8, open(701, '/var/log/nginx/access.log', O_WRONLY | O_APPEND | O_CREAT));
push(10, open(500, '/sys/fs/cgroup/kubepods/cpu.stat', O_RDONLY | O_CLOEXEC));
push(8, open(500, '/proc/700/stat', O_RDONLY));
push(6, open(800, '/usr/lib/jvm/lib/modules', O_RDONLY | O_CLOEXEC));
push(3, open(900, '/etc/ld.so.cache', O_RDONLY | O_CLOEXEC));
push(2, open(800, '/nonexistent/file', O_RDONLY, -2));
push(20, { type: 'close', tgid: 701, ret: 0, args: [5] });
push(8, { type: 'clone', tgid: 600, ret: 901, args: [0x1200011] });
push(2, { type: 'procexit', tgid: 901 });
push(4, { type: 'execve', tgid: 900, ptgid: 500, comm: 'iptables', argv: ['iptables', '-w', '-L'], exePath: '/usr/sbin/iptables' });
push(3, { type: 'execve', tgid: 901, ptgid: 600, comm: 'ls', argv: ['ls', '-l'], exePath: '/usr/bin/ls' });
push(4, { type: 'connect', tgid: 500, ret: 0, args: [30], sockaddr: { family: 'ipv4', address: '10.0.0.1', port: 6443 } });
push(2, { type: 'connect', tgid: 800, ret: -115, args: [20], sockaddr: { family: 'ipv4', address: '10.96.0.10', port: 53 } });
push(2, { type: 'sendto', tgid: 800, ret: 40, args: [20, 0, 40], sockaddr: { family: 'ipv4', address: '10.96.0.10', port: 53 } });
push(1, { type: 'socket', tgid: 800, ret: 21, args: [2, 2, 0] });
push(1, { type: 'accept4', tgid: 701, ret: 10, args: [3, 0, 0, 0o4000], sockaddr: { family: 'ipv4', address: '10.1.0.9', port: 51000 } });
// Shuffle deterministically so buckets interleave like real traffic.
let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
for (let i = mix.length - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [mix[i], mix[j]] = [mix[j], mix[i]]; }

function bench(label, files) {
  const t0 = performance.now();
  const rs = loadRules(files);
  const loadMs = performance.now() - t0;
  if (rs.errors.length) throw new Error(`${label}: ${rs.errors.length} load errors, first: ${rs.errors[0].message}`);
  let alerts = 0;
  const engine = new Engine({ reader: state, hooks: [state], onAlert: () => alerts++, bootOffsetNs: 1_700_000_000_000_000_000n, hostname: 'bench', matching: 'first' });
  engine.setRuleset(rs);
  const n = mix.length;
  // Warm up (JIT).
  for (let i = 0; i < 200_000; i++) engine.process(mix[i % n]);
  alerts = 0;
  const before = engine.stats();
  let events = 0;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(SECONDS * 1e9));
  for (;;) {
    for (let i = 0; i < 100_000; i++) engine.process(mix[i % n]);
    events += 100_000;
    if (process.hrtime.bigint() - start > budget) break;
  }
  const ns = Number(process.hrtime.bigint() - start);
  const cpu = process.cpuUsage(cpu0);
  // On a shared machine wall time includes other tenants; CPU time is this process's own cost.
  const cpuNs = (cpu.user + cpu.system) * 1000;
  const after = engine.stats();

  // Allocation per event over windows small enough to avoid a scavenge inside.
  const perEvent = [];
  if (typeof global.gc === 'function') {
    const WINDOW = 20_000;
    for (let w = 0; w < 15; w++) {
      global.gc();
      const h0 = process.memoryUsage().heapUsed;
      for (let i = 0; i < WINDOW; i++) engine.process(mix[(w * WINDOW + i) % n]);
      const h1 = process.memoryUsage().heapUsed;
      if (h1 >= h0) perEvent.push((h1 - h0) / WINDOW);
    }
    perEvent.sort((a, b) => a - b);
  }
  return {
    rules: rs.rules.length,
    rules_enabled: rs.rules.filter((r) => r.enabled).length,
    load_ms: Math.round(loadMs),
    events,
    events_per_sec: Math.round(events / (ns / 1e9)),
    ns_per_event: +(ns / events).toFixed(1),
    events_per_cpu_sec: Math.round(events / (cpuNs / 1e9)),
    cpu_ns_per_event: +(cpuNs / events).toFixed(1),
    evaluations_per_event: +((after.evaluations - before.evaluations) / events).toFixed(2),
    alerts_per_1000_events: +((alerts / events) * 1000).toFixed(2),
    heap_bytes_per_event_median: perEvent.length ? +perEvent[perEvent.length >> 1].toFixed(1) : null,
  };
}

const result = { mix_size: mix.length, seconds: SECONDS, stock_all_three: bench('stock', stockFiles) };
const defaults = expandRulesPaths([path.join(REPO, 'rules')]).filter((f) => fs.existsSync(f));
if (defaults.length) {
  try {
    result.lanner_defaults = bench('defaults', defaults);
  } catch (err) {
    result.lanner_defaults = { error: err.message };
  }
} else result.lanner_defaults = { skipped: 'no rules/*.yaml' };
process.stdout.write(JSON.stringify(result, null, 2) + '\n');
