#!/usr/bin/env node
/*
 * k8s_audit source throughput (not part of npm test): audit.k8s.io/v1 events per CPU-second on
 * one core, with Falco's stock k8s_audit_rules.yaml loaded, for
 *
 *   decode   one JSON line at a time through decoding and rule evaluation (no I/O);
 *   file     the whole file input: a log of N events read by the follower (pread, line
 *            splitting, decoding, evaluation), timed until the last line is handled.
 *
 * The mix is a control plane's usual traffic: mostly system components' get/list/watch/update
 * calls at Metadata level, some RequestResponse creates, a few that match rules (exec, secret
 * reads, privileged pods). CPU time (process.cpuUsage) rather than wall time, since these
 * machines are shared. Prints one JSON object.
 *
 *   npm run -s build:ts && node test/bench/audit-throughput.js [--events 200000] [--seconds 3] [--dist dist]
 */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const argv = process.argv.slice(2);
const arg = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const REPO = path.resolve(__dirname, '../..');
const DIST = path.resolve(REPO, arg('--dist', process.env.LANNER_DIST || 'dist'));
const EVENTS = Number(arg('--events', '200000'));
const SECONDS = Number(arg('--seconds', '3'));

const { createAuditSource } = require(path.join(DIST, 'audit/source.js'));
const { loadRules } = require(path.join(DIST, 'rules/ruleset.js'));
const { STOCK_K8S_AUDIT } = require('../support/stock-rules');
const pino = require(require.resolve('pino', { paths: [REPO] }));

// --- a control plane's traffic ------------------------------------------------------------------
let n = 0;
function event(o) {
  n++;
  const t = new Date(Date.UTC(2026, 11, 2, 7, 0, 0) + n).toISOString().replace('Z', `${String(n % 1000).padStart(3, '0')}Z`);
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: o.requestObject ? 'RequestResponse' : 'Metadata',
    auditID: `0f1e2d3c-4b5a-6978-8a9b-${String(n).padStart(12, '0')}`,
    stage: o.stage || 'ResponseComplete',
    requestURI: o.uri,
    verb: o.verb,
    user: { username: o.user, groups: o.groups || ['system:authenticated'] },
    sourceIPs: ['10.0.0.11'],
    userAgent: o.agent || 'kube-controller-manager/v1.31.2 (linux/amd64) kubernetes/5864a46',
    objectRef: o.objectRef,
    responseStatus: { metadata: {}, code: o.code || 200 },
    ...(o.requestObject ? { requestObject: o.requestObject } : {}),
    requestReceivedTimestamp: t,
    stageTimestamp: t,
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'RBAC: allowed by ClusterRoleBinding "system:kube-controller-manager" of ClusterRole "system:kube-controller-manager" to User "system:kube-controller-manager"' },
  };
}
const routine = [
  () => event({ verb: 'get', uri: '/api/v1/namespaces/kube-system/endpoints/kube-controller-manager', user: 'system:kube-controller-manager', objectRef: { resource: 'endpoints', namespace: 'kube-system', name: 'kube-controller-manager', apiVersion: 'v1' } }),
  () => event({ verb: 'update', uri: '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1', user: 'system:node:node-1', groups: ['system:nodes', 'system:authenticated'], objectRef: { resource: 'leases', namespace: 'kube-node-lease', name: 'node-1', apiGroup: 'coordination.k8s.io', apiVersion: 'v1' } }),
  () => event({ verb: 'watch', uri: '/api/v1/pods?allowWatchBookmarks=true&resourceVersion=4242&watch=true', user: 'system:kube-scheduler', objectRef: { resource: 'pods', apiVersion: 'v1' } }),
  () => event({ verb: 'list', uri: '/api/v1/namespaces/default/configmaps?limit=500', user: 'system:serviceaccount:kube-system:generic-garbage-collector', objectRef: { resource: 'configmaps', namespace: 'default', apiVersion: 'v1' } }),
  () => event({ verb: 'patch', uri: '/api/v1/nodes/node-1/status', user: 'system:node:node-1', objectRef: { resource: 'nodes', name: 'node-1', subresource: 'status', apiVersion: 'v1' } }),
  () => event({ verb: 'create', uri: '/api/v1/namespaces/shop/pods', user: 'system:serviceaccount:kube-system:replicaset-controller', objectRef: { resource: 'pods', namespace: 'shop', apiVersion: 'v1' }, code: 201, requestObject: { kind: 'Pod', apiVersion: 'v1', metadata: { generateName: 'web-7d9f-', namespace: 'shop', labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }], resources: { requests: { cpu: '100m' } } }], serviceAccountName: 'default' } } }),
];
const matching = [
  () => event({ verb: 'create', stage: 'ResponseStarted', uri: '/api/v1/namespaces/default/pods/nginx/exec?command=sh&container=nginx&stdin=true&tty=true', user: 'kubernetes-admin', objectRef: { resource: 'pods', namespace: 'default', name: 'nginx', subresource: 'exec', apiVersion: 'v1' }, agent: 'kubectl/v1.31.2' }),
  () => event({ verb: 'get', uri: '/api/v1/namespaces/default/secrets/db', user: 'mallory', objectRef: { resource: 'secrets', namespace: 'default', name: 'db', apiVersion: 'v1' }, agent: 'curl/8.5.0' }),
  () => event({ verb: 'create', uri: '/api/v1/namespaces/default/pods', user: 'kubernetes-admin', objectRef: { resource: 'pods', namespace: 'default', apiVersion: 'v1' }, code: 201, requestObject: { kind: 'Pod', spec: { hostNetwork: true, containers: [{ name: 'x', image: 'alpine:3.20', securityContext: { privileged: true } }] } } }),
];
/** 98 % routine, 2 % matching. */
function lines(count) {
  const out = [];
  for (let i = 0; i < count; i++) out.push(JSON.stringify(i % 50 === 0 ? matching[(i / 50) % matching.length]() : routine[i % routine.length]()));
  return out;
}

const rules = loadRules([STOCK_K8S_AUDIT]);
if (rules.errors.length) throw new Error(`stock rules: ${rules.errors[0].message}`);
const log = pino({ level: 'silent' });
const cpuSeconds = (u) => (u.user + u.system) / 1e6;

function config(dir) {
  return {
    enabled: true,
    max_event_bytes: 262144,
    bad_input_log_interval_s: 60,
    file: { enabled: true, path: path.join(dir, 'audit.log'), state_file: path.join(dir, 'audit.state'), start_at: 'beginning', poll_interval_ms: 50, read_chunk_bytes: 4 << 20 },
    webhook: { enabled: false, listen: '127.0.0.1:0', path: '/k8s-audit', max_request_bytes: 1 << 20, tls: { cert_file: '', key_file: '', ca_file: '', require_client_cert: false } },
  };
}

function benchDecode(sample) {
  let alerts = 0;
  const source = createAuditSource({ ...config(os.tmpdir()), enabled: false }, { log, hostname: 'bench', matching: 'first', onAlert: () => alerts++ });
  source.setRuleset(rules);
  for (let i = 0; i < 20000; i++) source.ingest(sample[i % sample.length], 'file'); // warm-up
  const start = process.cpuUsage();
  const until = performance.now() + SECONDS * 1000;
  let events = 0;
  while (performance.now() < until) {
    for (let i = 0; i < 1000; i++) source.ingest(sample[(events + i) % sample.length], 'file');
    events += 1000;
  }
  const cpu = cpuSeconds(process.cpuUsage(start));
  return { events, cpuSeconds: +cpu.toFixed(3), eventsPerCpuSecond: Math.round(events / cpu), alertsPer1000: +((alerts / (events + 20000)) * 1000).toFixed(1) };
}

async function benchFile(sample) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lanner-audit-bench-'));
  const file = path.join(dir, 'audit.log');
  const text = sample.join('\n') + '\n';
  fs.writeFileSync(file, text);
  let alerts = 0;
  const source = createAuditSource(config(dir), { log, hostname: 'bench', matching: 'first', onAlert: () => alerts++ });
  source.setRuleset(rules);
  const t0 = performance.now();
  const start = process.cpuUsage();
  await source.start();
  while (source.stats().eventsByInput.file < sample.length) await new Promise((r) => setImmediate(r));
  const cpu = cpuSeconds(process.cpuUsage(start));
  const wall = (performance.now() - t0) / 1000;
  await source.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  return { events: sample.length, megabytes: +(Buffer.byteLength(text) / 1e6).toFixed(1), cpuSeconds: +cpu.toFixed(3), wallSeconds: +wall.toFixed(3), eventsPerCpuSecond: Math.round(sample.length / cpu), alerts };
}

(async () => {
  const sample = lines(EVENTS);
  const avgBytes = Math.round(sample.reduce((s, l) => s + l.length, 0) / sample.length);
  const decode = benchDecode(sample.slice(0, 20000));
  const file = await benchFile(sample);
  process.stdout.write(JSON.stringify({ node: process.version, cpu: os.cpus()[0]?.model, rules: rules.sources.get('k8s_audit').rules.length, avgEventBytes: avgBytes, decode, file }, null, 2) + '\n');
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
