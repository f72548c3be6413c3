#!/usr/bin/env node
/*
 * Alert stream benchmarks: serialiser cost, fan-out cost with limits on, and end-to-end
 * throughput of the file and HTTP sinks on this machine. Needs the compiled outputs part
 * (`npm run build:ts`, or LANNER_DIST=/path/to/compiled/root).
 *
 *   node test/bench/outputs-throughput.js
 */
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const DIST = process.env.LANNER_DIST || path.resolve(__dirname, '../../dist');
const { formatJson, FALCO_DEFAULT_FORMAT, LineFormatter } = require(path.join(DIST, 'outputs/format'));
const { Outputs } = require(path.join(DIST, 'outputs/index'));
const { FileSink } = require(path.join(DIST, 'outputs/file-sink'));
const { HttpSink } = require(path.join(DIST, 'outputs/http-sink'));
const pino = require('pino');

const logger = pino({ level: 'silent' });
const NO_TLS = { ca_file: '', cert_file: '', key_file: '', insecure: false };

function alert(i) {
  return {
    timeNs: 1785492000123456789n + BigInt(i),
    rule: `Terminal shell in container ${i % 50}`,
    priority: 5,
    source: 'syscall',
    message: `Shell spawned in container | evt_type=execve user=root process=bash proc_exepath=/bin/bash parent=runc command=bash -i seq=${i}`,
    outputFields: {
      'container.id': '3ad7b26ded6d', 'container.image.repository': 'nginx', 'container.image.tag': '1.27', 'container.name': 'web',
      'evt.type': 'execve', 'k8s.ns.name': 'shop', 'k8s.pod.name': 'web-0', 'proc.cmdline': 'bash -i', 'proc.name': 'bash',
      'proc.tty': 34816, 'user.loginuid': -1, 'user.name': 'root', 'user.uid': 0, 'proc.pid': i, 'container.start_ts': 1728133229850062067n,
    },
    tags: ['T1059', 'container', 'maturity_stable', 'mitre_execution', 'shell'],
    hostname: 'node-1',
  };
}

function timeIt(label, n, fn) {
  fn(Math.min(n, 2000)); // warm up
  const t0 = process.hrtime.bigint();
  fn(n);
  const ns = Number(process.hrtime.bigint() - t0);
  console.log(`${label}: ${(ns / n).toFixed(0)} ns/alert (${Math.round((n * 1e9) / ns)} alerts/s)`);
}

async function waitFor(cond) {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

async function main() {
  const alerts = Array.from({ length: 100_000 }, (_, i) => alert(i));
  timeIt('formatJson (15 typed fields)', alerts.length, (n) => {
    for (let i = 0; i < n; i++) formatJson(alerts[i], FALCO_DEFAULT_FORMAT);
  });

  const sink = { name: 'null', healthy: true, offer: () => true, stats: () => ({}), close: async () => undefined };
  const outputs = new Outputs([sink], {
    rateLimit: { enabled: true, rate: 1e9, burst: 1e9, maxRules: 10_000 },
    dedup: { enabled: true, windowMs: 10_000, maxEntries: 10_000 },
    summaryIntervalMs: 60_000,
    summaryPriority: 7,
  }, { logger, hostname: 'node-1' });
  timeIt('Outputs.publish (rate limit + dedup on, one null sink)', alerts.length, (n) => {
    for (let i = 0; i < n; i++) outputs.publish(alerts[i]);
  });
  await outputs.close(10);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lanner-bench-'));
  try {
    const fileSink = new FileSink({ path: path.join(dir, 'a.json'), queueCapacity: 200_000, maxBytes: 50 * 1024 * 1024, rotateIntervalMs: 0, keep: 2 }, new LineFormatter(FALCO_DEFAULT_FORMAT), { logger });
    const t0 = process.hrtime.bigint();
    for (const a of alerts) fileSink.offer(a);
    await waitFor(() => fileSink.stats().sent === alerts.length);
    await fileSink.close(10_000);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(`file sink end to end: ${Math.round(alerts.length / s)} alerts/s (${fileSink.rotationCount} rotations)`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end());
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/`;
  for (const batchSize of [1, 100]) {
    const n = batchSize === 1 ? 5_000 : 50_000;
    const h = new HttpSink({ url, queueCapacity: n, batchSize, timeoutMs: 5000, userAgent: 'bench', headers: {}, maxAttempts: 0, initialBackoffMs: 10, maxBackoffMs: 100, tls: NO_TLS }, new LineFormatter(FALCO_DEFAULT_FORMAT), { logger });
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) h.offer(alerts[i]);
    await waitFor(() => h.stats().sent === n);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(`http sink to a local receiver, batch ${batchSize}: ${Math.round(n / s)} alerts/s`);
    await h.close(1000);
  }
  server.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
