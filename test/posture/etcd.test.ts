/**
 * A real etcd (Debian's etcd-server) on loopback ports, started with good and with bad flags:
 * the posture engine finds it through /proc, and what it reports about TLS is checked against
 * how the running etcd actually answers (plain HTTP served or refused, client certificates
 * required or not).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostureEngine } from '../../src/posture/evaluator';
import { freeLoopbackPort } from '../support/net';
import { postureConfig, requireOrSkip, tempRoot } from './helpers';

const ETCD = '/usr/bin/etcd';
const skip = requireOrSkip(existsSync(ETCD) && spawnSync('openssl', ['version']).status === 0, 'etcd (Debian package etcd-server) and openssl are needed');

/** GET /health; resolves with the status code or the error code. */
function health(url: string, tls?: { ca: Buffer; cert?: Buffer; key?: Buffer }): Promise<number | string> {
  return new Promise((resolve) => {
    const opts = { timeout: 3000, ...(tls ? { ca: tls.ca, cert: tls.cert, key: tls.key } : {}) };
    const req = (url.startsWith('https:') ? https : http).get(`${url}/health`, opts, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

interface Etcd {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly clientUrl: string;
  log: string;
}

describe.skipIf(skip !== undefined)('a real etcd, good and bad flags', () => {
  const { root: tmp, cleanup } = tempRoot('lanner-etcd-');
  const running: Etcd[] = [];
  let pki: { ca: Buffer; cert: Buffer; key: Buffer };
  let good: Etcd;
  let bad: Etcd;

  const openssl = (...args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: tmp, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };

  async function startEtcd(name: string, tls: boolean, env: NodeJS.ProcessEnv = {}): Promise<Etcd> {
    const [cport, pport] = [await freeLoopbackPort(), await freeLoopbackPort()];
    const scheme = tls ? 'https' : 'http';
    const client = `${scheme}://127.0.0.1:${cport}`;
    const peer = `${scheme}://127.0.0.1:${pport}`;
    const f = (n: string): string => join(tmp, n);
    const args = [
      `--name=${name}`,
      `--data-dir=${f(`${name}.etcd`)}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=${name}=${peer}`,
      '--log-level=warn',
      ...(tls
        ? [
            `--cert-file=${f('etcd.crt')}`, `--key-file=${f('etcd.key')}`, '--client-cert-auth=true', `--trusted-ca-file=${f('ca.crt')}`,
            `--peer-cert-file=${f('etcd.crt')}`, `--peer-key-file=${f('etcd.key')}`, '--peer-client-cert-auth=true', `--peer-trusted-ca-file=${f('ca.crt')}`,
          ]
        : []),
    ];
    const child = spawn(ETCD, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH, ...env } });
    const e: Etcd = { child, pid: child.pid!, clientUrl: client, log: '' };
    child.stderr!.on('data', (d: Buffer) => (e.log += d.toString()));
    running.push(e);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const code = await health(client, tls ? pki : undefined);
      if (code === 200) return e;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`etcd ${name} did not become healthy (${code}): ${e.log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=lanner-test-ca');
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'etcd.key', '-out', 'etcd.csr', '-subj', '/CN=etcd');
    // Certificates with the SAN and usages etcd needs for both client and peer TLS.
    writeFileSync(join(tmp, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
    openssl('x509', '-req', '-in', 'etcd.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'etcd.crt', '-days', '1', '-extfile', 'ext.cnf');
    pki = { ca: readFileSync(join(tmp, 'ca.crt')), cert: readFileSync(join(tmp, 'etcd.crt')), key: readFileSync(join(tmp, 'etcd.key')) };
    [good, bad] = await Promise.all([startEtcd('good', true), startEtcd('bad', false, { ETCD_AUTO_TLS: 'false' })]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(
      running.map(
        (e) =>
          new Promise<void>((resolve) => {
            if (e.child.exitCode !== null || e.child.signalCode !== null) return resolve();
            e.child.once('exit', () => resolve());
            e.child.kill('SIGTERM');
          }),
      ),
    );
    cleanup();
  });

  const engineFor = (e: Etcd): PostureEngine => new PostureEngine(postureConfig('/', { node_checks: true }), { processFilter: (pid) => pid === e.pid });

  it('etcd with TLS flags: CIS 2.x and Lanner L.4.x pass, and the process indeed refuses plain HTTP and clients without a certificate', async () => {
    const engine = engineFor(good);
    engine.scanAll();
    for (const id of ['2.1', '2.2', '2.3', '2.4', '2.5', '2.6', '2.7']) expect(engine.result('cis-1.12', id)?.status, id).toBe('PASS');
    for (const id of ['L.4.1', 'L.4.2', 'L.4.3']) expect(engine.result('lanner-node', id)?.status, id).toBe('PASS');
    expect(engine.result('cis-1.12', '2.1')?.subject).toBe(`etcd (pid ${good.pid})`);
    // The data directory etcd created: mode 700 passes 1.1.11, root-owned fails 1.1.12 (etcd:etcd wanted).
    expect(engine.result('cis-1.12', '1.1.11')).toMatchObject({ status: 'PASS', actual: `${join(tmp, 'good.etcd')} mode 700` });
    expect(engine.result('cis-1.12', '1.1.12')?.status).toBe('FAIL');
    // Reality: https with a client certificate works; plain http and certificate-less TLS do not.
    expect(await health(good.clientUrl, pki)).toBe(200);
    expect(await health(good.clientUrl.replace('https:', 'http:'))).not.toBe(200);
    expect(await health(good.clientUrl, { ca: pki.ca })).not.toBe(200);
    engine.close();
  });

  it('etcd on plain HTTP without certificates: the checks fail, and the process indeed serves anyone over HTTP', async () => {
    const engine = engineFor(bad);
    engine.scanAll();
    for (const id of ['2.1', '2.2', '2.4', '2.5']) expect(engine.result('cis-1.12', id)?.status, id).toBe('FAIL');
    expect(engine.result('cis-1.12', '2.2')?.actual).toBe('--client-cert-auth not set (default false)');
    expect(engine.result('cis-1.12', '2.3')).toMatchObject({ status: 'PASS', actual: expect.stringContaining('ETCD_AUTO_TLS=false (environment)') });
    expect(engine.result('cis-1.12', '2.7')?.status).toBe('WARN'); // not scored
    expect(engine.result('lanner-node', 'L.4.1')).toMatchObject({ status: 'FAIL', actual: expect.stringContaining(`--listen-client-urls=${bad.clientUrl}`) });
    expect(engine.result('lanner-node', 'L.4.2')?.status).toBe('FAIL');
    expect(engine.result('lanner-node', 'L.4.3')).toMatchObject({ status: 'FAIL', actual: '--peer-trusted-ca-file not set' });
    expect(await health(bad.clientUrl)).toBe(200);
    engine.close();
  });

  it('the etcd going away turns its results INFO', async () => {
    const engine = engineFor(bad);
    engine.scanAll();
    await new Promise<void>((resolve) => {
      bad.child.once('exit', () => resolve());
      bad.child.kill('SIGTERM');
    });
    engine.scanAll();
    expect(engine.result('lanner-node', 'L.4.1')).toMatchObject({ status: 'INFO', actual: 'etcd not running' });
    engine.close();
  });
});
