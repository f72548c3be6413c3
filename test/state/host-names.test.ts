/**
 * Watched host names: the DNS names rules compare addresses with, resolved off the event path from
 * the agent's own Kubernetes service address, the hosts file and DNS, in that order.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kubernetesServiceNames, parseHostsFile, WatchedHostNames, type ResolveName } from '../../src/state/host-names';

const tmp = mkdtempSync(join(tmpdir(), 'lanner-hosts-'));
const hostsFile = join(tmp, 'hosts');
writeFileSync(hostsFile, '# comment\n127.0.0.1 localhost\n203.0.113.10  api.example  Mirror.Example # trailing\n203.0.113.11 pool.example\nnot-an-ip bogus.example\n');

const opened: WatchedHostNames[] = [];
function watcher(resolve: ResolveName, extra: Partial<ConstructorParameters<typeof WatchedHostNames>[0]> = {}): WatchedHostNames {
  const w = new WatchedHostNames({ hostsFile, refreshMs: 0, timeoutMs: 100, maxNames: 16, resolve, ...extra });
  opened.push(w);
  return w;
}
afterEach(() => {
  for (const w of opened.splice(0)) w.close();
});

describe('parseHostsFile', () => {
  it('maps each name (lower case) to its addresses, skipping comments and malformed lines', () => {
    const m = parseHostsFile('10.0.0.1 a b # c\n::1 a\n# 10.0.0.2 z\nfoo bar\n10.0.0.3 B\n');
    expect(Object.fromEntries(m)).toEqual({ a: ['10.0.0.1', '::1'], b: ['10.0.0.1', '10.0.0.3'] });
  });
});

describe('WatchedHostNames', () => {
  it('resolves only the watched names: static entries, then the hosts file, then DNS', async () => {
    const asked: string[] = [];
    const w = watcher(
      async (name) => {
        asked.push(name);
        return name === 'dns.example' ? ['198.51.100.5', '203.0.113.10'] : [];
      },
      { staticHosts: kubernetesServiceNames({ KUBERNETES_SERVICE_HOST: '10.96.0.1' }) },
    );
    await w.watch(['api.example', 'mirror.example', 'DNS.example', 'kubernetes.default.svc.cluster.local', 'nowhere.example']);
    expect(asked.sort()).toEqual(['dns.example', 'nowhere.example']);
    expect(w.namesOf('203.0.113.10')).toEqual(['api.example', 'dns.example', 'mirror.example']);
    expect(w.namesOf('198.51.100.5')).toEqual(['dns.example']);
    expect(w.namesOf('10.96.0.1')).toEqual(['kubernetes.default.svc.cluster.local']);
    expect(w.namesOf('203.0.113.11')).toBeUndefined(); // pool.example is in the hosts file but not watched
    expect(w.stats()).toMatchObject({ watched: 5, ignored: 0, refreshes: 1 });
  });

  it('a failing resolver names nothing, and an unchanged set is not resolved again', async () => {
    let calls = 0;
    const w = watcher(async () => {
      calls++;
      throw new Error('SERVFAIL');
    });
    await w.watch(['a.example']);
    await w.watch(['A.example']);
    expect(calls).toBe(1);
    expect(w.namesOf('203.0.113.10')).toBeUndefined();
  });

  it('forgets everything when no rule watches a name, and bounds the names it resolves', async () => {
    const w = watcher(async () => [], { maxNames: 2 });
    await w.watch(['api.example', 'pool.example', 'z.example']);
    expect(w.stats()).toMatchObject({ watched: 2, ignored: 1 });
    expect(w.namesOf('203.0.113.10')).toEqual(['api.example']);
    await w.watch([]);
    expect(w.namesOf('203.0.113.10')).toBeUndefined();
  });

  it('picks up a changed hosts file at the next refresh', async () => {
    const file = join(tmp, 'hosts2');
    writeFileSync(file, '203.0.113.20 moving.example\n');
    const w = watcher(async () => [], { hostsFile: file });
    await w.watch(['moving.example']);
    expect(w.namesOf('203.0.113.20')).toEqual(['moving.example']);
    writeFileSync(file, '203.0.113.21 moving.example\n');
    await w.refresh();
    expect(w.namesOf('203.0.113.20')).toBeUndefined();
    expect(w.namesOf('203.0.113.21')).toEqual(['moving.example']);
  });

  it('knows the API server by the service address Kubernetes gives every pod', () => {
    expect(kubernetesServiceNames({}).size).toBe(0);
    expect(kubernetesServiceNames({ KUBERNETES_SERVICE_HOST: 'not-an-ip' }).size).toBe(0);
    expect(kubernetesServiceNames({ KUBERNETES_SERVICE_HOST: '10.96.0.1' }).get('kubernetes.default.svc')).toEqual(['10.96.0.1']);
  });
});
