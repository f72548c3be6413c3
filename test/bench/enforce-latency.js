#!/usr/bin/env node
/*
 * User-space kill latency (issue 20): from the syscall a kill rule matches to the death of the
 * process, for a rule the kernel cannot enforce (`fd.name contains`), so the agent kills from user
 * space. Runs the real agent (dist/cli.js) with that rule in enforce mode, a victim that records
 * CLOCK_BOOTTIME before its open and a parent that takes it again when waitpid reaps the child.
 *
 *   node test/bench/enforce-latency.js [--count N] [--drain-ms MS] [--adaptive]
 *
 * Prints p50, p90, p99 and max in milliseconds, and the escapes (children not killed within 5 s).
 */
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REPO = path.resolve(__dirname, '../..');
const argv = process.argv.slice(2);
const flag = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const COUNT = Number(flag('--count', '200'));
const DRAIN_MS = flag('--drain-ms', undefined);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lanner-bench-enforce-'));
const target = path.join(dir, 'watched-target');
fs.writeFileSync(target, 'x');
const victim = path.join(dir, 'kill_victim');
const cc = spawnSync('cc', ['-O2', '-o', victim, path.join(__dirname, 'workloads/kill_victim.c')], { encoding: 'utf8' });
if (cc.status !== 0) throw new Error(`cc: ${cc.stderr}`);
const rules = path.join(dir, 'rules.yaml');
fs.writeFileSync(
  rules,
  `- rule: Bench user-space kill
  desc: a condition the kernel cannot evaluate exactly, so the kill comes from user space
  condition: evt.type in (open, openat) and fd.name contains watched-target and proc.name = kill_victim
  output: killed (pid=%proc.pid)
  priority: CRITICAL
  actions: [kill]
  enforcement: enforce
`,
);

const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
(async () => {
  const args = ['--max-semi-space-size=4', path.join(REPO, 'dist/cli.js'), 'run', '-r', rules, '-o', 'metrics.enabled=false', '-o', 'posture.enabled=false', '-o', 'enforcement.rate.per_second=1000', '-o', 'enforcement.rate.burst=1000'];
  if (DRAIN_MS) args.push('-o', `probe.drain_interval_ms=${DRAIN_MS}`);
  if (argv.includes('--adaptive')) args.push('-o', 'probe.adaptive_wakeup=true');
  const agent = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  await new Promise((resolve, reject) => {
    agent.stderr.on('data', (d) => {
      log += d.toString();
      if (log.includes('"agent ready"')) resolve();
    });
    agent.on('exit', (code) => reject(new Error(`agent exited ${code}: ${log.slice(-2000)}`)));
  });
  const run = spawnSync(victim, [target, String(COUNT)], { encoding: 'utf8', timeout: COUNT * 6000 });
  agent.kill('SIGTERM');
  const lines = run.stdout.trim().split('\n');
  const escaped = lines.filter((l) => l === 'escaped').length;
  const ms = lines.filter((l) => l !== 'escaped').map((l) => Number(l) / 1000).sort((a, b) => a - b);
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(JSON.stringify({ adaptive_wakeup: argv.includes('--adaptive'), count: COUNT, killed: ms.length, escaped, p50_ms: pct(ms, 50), p90_ms: pct(ms, 90), p99_ms: pct(ms, 99), max_ms: ms[ms.length - 1], loadavg: load, cpus: os.cpus().length }));
  fs.rmSync(dir, { recursive: true, force: true });
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
