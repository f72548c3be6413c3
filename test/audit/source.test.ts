/**
 * The k8s_audit source end to end: realistic events through the audit log file (with rotation and
 * a restart in the middle) and through the HTTPS webhook, fire the stock rules exactly once each.
 */
import { appendFileSync, renameSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compileRules } from '../../src/rules/ruleset';
import { makeCerts, waitFor, type TestCerts } from '../outputs/helpers';
import { anonymousAllowed, bindingToClusterAdmin, eventList, execIntoPod, podCreated, secretReadBy } from './events';
import { auditConfig, stockSource, tempDir, type TestSource } from './helpers';

const running: TestSource[] = [];
afterEach(async () => {
  for (const t of running.splice(0)) await t.source.stop();
});

const line = (ev: Record<string, unknown>): string => JSON.stringify(ev) + '\n';

describe('audit log file input', () => {
  it('follows the log through a rotation and a restart: every event fires once', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit.log');
    const config = auditConfig(dir, { file: { enabled: true } });
    appendFileSync(path, line(execIntoPod()));
    const first = stockSource(config);
    running.push(first);
    await first.source.start();
    await waitFor(() => first.alerts.length === 1, 5000, 'the exec alert');
    appendFileSync(path, line(bindingToClusterAdmin()));
    renameSync(path, join(dir, 'audit-2026-12-02T07-10-00.000.log'));
    appendFileSync(path, line(podCreated({ privileged: true })));
    await waitFor(() => first.alerts.length === 4, 5000, 'the alerts of both files');
    expect(first.fired()).toEqual(['Attach/Exec Pod', 'Attach to cluster-admin Role', 'K8s ClusterRoleBinding Created', 'Create Privileged Pod']);
    expect(first.source.status()).toMatchObject({ state: 'receiving', file: path });
    expect(first.source.stats().file).toMatchObject({ rotations: 1, lines: 3 });
    await first.source.stop();
    running.pop();

    // Written while the agent is down, then a rotation: the restart picks up both, repeats nothing.
    appendFileSync(path, line(secretReadBy('mallory')));
    renameSync(path, join(dir, 'audit-2026-12-02T07-20-00.000.log'));
    appendFileSync(path, line(anonymousAllowed()));
    const second = stockSource({ ...config, file: { ...config.file, start_at: 'end' } });
    running.push(second);
    await second.source.start();
    await waitFor(() => second.alerts.length === 3, 5000, 'the alerts written while stopped');
    await new Promise((r) => setTimeout(r, 100));
    expect(second.fired()).toEqual(['Disallowed K8s User', 'K8s Secret Get Successfully', 'Anonymous Request Allowed']);
  });

  it('counts log lines without parsing them while no k8s_audit rule is loaded', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit.log');
    const t = stockSource(auditConfig(dir, { file: { enabled: true } }));
    running.push(t);
    t.source.setRuleset(compileRules([]));
    appendFileSync(path, line(execIntoPod()) + 'garbage\n');
    await t.source.start();
    await waitFor(() => t.source.stats().eventsByInput.file === 2, 5000, 'two lines counted');
    expect(t.alerts).toEqual([]);
    expect(t.source.stats().badInput.malformed_json).toBe(0);
  });
});

describe('status for /readyz and metrics', () => {
  it('off when disabled, waiting without input, receiving after an event', async () => {
    const dir = tempDir();
    const off = stockSource({ ...auditConfig(dir), enabled: false });
    await off.source.start();
    expect(off.source.status().state).toBe('off');
    const t = stockSource(auditConfig(dir, { file: { enabled: true } }));
    running.push(t);
    await t.source.start();
    expect(t.source.status()).toMatchObject({ state: 'waiting', file: join(dir, 'audit.log'), webhook: undefined, lastEventUnixSeconds: 0 });
    appendFileSync(join(dir, 'audit.log'), line(execIntoPod()));
    await waitFor(() => t.source.status().state === 'receiving', 5000, 'receiving');
    expect(t.source.metricsStats()).toMatchObject({ receiving: true, eventsByInput: { file: 1, webhook: 0 } });
  });
});

describe('audit webhook input', () => {
  let certs: TestCerts;
  beforeAll(() => {
    certs = makeCerts(tempDir('lanner-audit-certs-'));
  });

  interface Reply {
    readonly status: number;
    readonly body: string;
  }
  function post(t: TestSource, body: string, opts: { method?: string; path?: string; client?: boolean } = {}): Promise<Reply> {
    const [host, port] = t.source.status().webhook!.split(':') as [string, string];
    const { readFileSync } = require('node:fs') as typeof import('node:fs');
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host,
          port: Number(port),
          method: opts.method ?? 'POST',
          path: opts.path ?? '/k8s-audit',
          ca: readFileSync(certs.ca),
          ...(opts.client ? { cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) } : {}),
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  const webhookSource = async (patch: { require_client_cert?: boolean; max_request_bytes?: number } = {}): Promise<TestSource> => {
    const tls = { cert_file: certs.serverCert, key_file: certs.serverKey, ca_file: patch.require_client_cert ? certs.ca : '', require_client_cert: patch.require_client_cert ?? false };
    const t = stockSource(auditConfig(tempDir(), { webhook: { enabled: true, tls, ...(patch.max_request_bytes ? { max_request_bytes: patch.max_request_bytes } : {}) } }));
    running.push(t);
    await t.source.start();
    return t;
  };

  it('takes an EventList over HTTPS and fires the stock rules', async () => {
    const t = await webhookSource();
    const reply = await post(t, JSON.stringify(eventList([execIntoPod(), bindingToClusterAdmin(), secretReadBy('mallory')])));
    expect(reply.status).toBe(200);
    expect(t.fired()).toEqual(['Attach/Exec Pod', 'Attach to cluster-admin Role', 'K8s ClusterRoleBinding Created', 'Disallowed K8s User', 'K8s Secret Get Successfully']);
    expect(t.source.stats()).toMatchObject({ eventsByInput: { webhook: 3, file: 0 }, webhook: { requests: 1, rejected: 0 } });
    expect(t.source.status().state).toBe('receiving');
  });

  it('refuses oversized bodies (413), other methods (405), other paths (404), non-audit bodies (400), and keeps serving', async () => {
    const t = await webhookSource({ max_request_bytes: 4096 });
    const big = eventList([{ ...podCreated({ privileged: true }), requestObject: { pad: 'x'.repeat(10_000) } }]);
    expect((await post(t, JSON.stringify(big)).catch(() => ({ status: 413, body: '' }))).status).toBe(413);
    expect((await post(t, '', { method: 'GET' })).status).toBe(405);
    expect((await post(t, '{}', { path: '/other' })).status).toBe(404);
    expect((await post(t, 'not json')).status).toBe(400);
    expect((await post(t, JSON.stringify(eventList([podCreated({ privileged: true })])))).status).toBe(200);
    expect(t.fired()).toEqual(['Create Privileged Pod']);
    expect(t.source.stats().badInput).toMatchObject({ request_too_large: 1, malformed_json: 1 });
  });

  it('with require_client_cert, serves only clients with a certificate from the CA', async () => {
    const t = await webhookSource({ require_client_cert: true });
    await expect(post(t, JSON.stringify(eventList([execIntoPod()])))).rejects.toThrow();
    expect((await post(t, JSON.stringify(eventList([execIntoPod()])), { client: true })).status).toBe(200);
    expect(t.fired()).toEqual(['Attach/Exec Pod']);
  });

  it('refuses to start without a readable certificate', async () => {
    const t = stockSource(auditConfig(tempDir(), { webhook: { enabled: true, tls: { cert_file: '/nonexistent.pem', key_file: '/nonexistent.key', ca_file: '', require_client_cert: false } } }));
    await expect(t.source.start()).rejects.toThrow(/nonexistent/);
  });
});
