/**
 * Redaction: the built-in secret shapes are masked in the text and in every string output field,
 * the rest of the text stays; a value masked in a field is masked where the message repeats it;
 * user patterns are RE2 (a pattern that would backtrack catastrophically in a backtracking engine
 * runs in linear time); redaction happens once at fan-out, before any sink.
 */
import { describe, expect, it } from 'vitest';
import type { Alert, AlertSink, SinkStats } from '../../src/outputs/alert';
import { redactionSchema } from '../../src/outputs/config';
import { Outputs } from '../../src/outputs/index';
import { REDACTED, Redactor } from '../../src/outputs/redaction';
import { makeAlert, silentLogger } from './helpers';

const on = new Redactor({ enabled: true, patterns: [] });

describe('built-in patterns', () => {
  const cases: [string, string][] = [
    ['app --password=hunter2 --host db', `app --password=${REDACTED} --host db`],
    ['app --db-password hunter2 -v', `app --db-password ${REDACTED} -v`],
    ['app -secret=s3 --api-key=k1 --access_key k2 --private-key=k3', `app -secret=${REDACTED} --api-key=${REDACTED} --access_key ${REDACTED} --private-key=${REDACTED}`],
    ['app --TOKEN=abc --pwd=x', `app --TOKEN=${REDACTED} --pwd=${REDACTED}`],
    ['curl -H "Authorization: Bearer eyJhbGciOi.x.y" https://api', `curl -H "Authorization: Bearer ${REDACTED}" https://api`],
    ['curl -H Authorization:Basic dXNlcjpwYXNz', `curl -H Authorization:Basic ${REDACTED}`],
    ['git clone https://alice:p4ss@git.example.com/r.git', `git clone https://alice:${REDACTED}@git.example.com/r.git`],
    ['psql postgres://app:pw@db:5432/x', `psql postgres://app:${REDACTED}@db:5432/x`],
    ['aws AKIAIOSFODNN7EXAMPLE ok', `aws ${REDACTED} ok`],
    ['AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCY HOME=/root', `AWS_SECRET_ACCESS_KEY=${REDACTED} HOME=/root`],
    ['DB_PASSWORD=x GITHUB_TOKEN=y API_KEY=z my_secret=w PATH=/bin', `DB_PASSWORD=${REDACTED} GITHUB_TOKEN=${REDACTED} API_KEY=${REDACTED} my_secret=${REDACTED} PATH=/bin`],
  ];
  it.each(cases)('%s', (input, expected) => {
    expect(on.redactText(input)).toBe(expected);
  });

  it('leaves ordinary command lines alone', () => {
    for (const t of ['ls -la /etc', 'app --token-ttl=5m --passive 1 --keyboard us', 'ssh -p 2222 host', 'tar -cpf x.tar /', 'https://example.com/a:b@c']) {
      expect(on.redactText(t)).toBe(t);
    }
  });

  it('-p<password> only for mysql/mariadb clients', () => {
    expect(on.redactText('mysql -uroot -pS3cret shop', true)).toBe(`mysql -uroot -p${REDACTED} shop`);
    expect(on.redactText('tar -pcf x.tar /', false)).toBe('tar -pcf x.tar /');
    const a = on.redact(makeAlert({ message: 'cmd=mysql -uroot -pS3cret shop', outputFields: { 'proc.name': 'mysql', 'proc.args': '-uroot -pS3cret shop' } }));
    expect(a.outputFields['proc.args']).toBe(`-uroot -p${REDACTED} shop`);
    expect(a.message).toBe(`cmd=mysql -uroot -p${REDACTED} shop`);
    const ssh = makeAlert({ message: 'cmd=ssh -p2222 host', outputFields: { 'proc.name': 'ssh', 'proc.args': '-p2222 host' } });
    expect(on.redact(ssh)).toBe(ssh);
  });
});

describe('alerts', () => {
  it('masks fields and the message consistently, proc.env[NAME] whole, and returns the alert itself when clean', () => {
    const a = makeAlert({
      message: 'exec cmdline=app --token=abc env=HOME=/root DB_PASSWORD=pw1 value=pw2-long-value',
      outputFields: { 'proc.cmdline': 'app --token=abc', 'proc.env': 'HOME=/root DB_PASSWORD=pw1', 'proc.env[VAULT_TOKEN]': 'pw2-long-value', 'proc.pid': 42 },
    });
    const r = on.redact(a);
    expect(r.outputFields).toMatchObject({ 'proc.cmdline': `app --token=${REDACTED}`, 'proc.env': `HOME=/root DB_PASSWORD=${REDACTED}`, 'proc.env[VAULT_TOKEN]': REDACTED, 'proc.pid': 42 });
    expect(r.message).toBe(`exec cmdline=app --token=${REDACTED} env=HOME=/root DB_PASSWORD=${REDACTED} value=${REDACTED}`);
    expect(a.message).toContain('abc');
    const clean = makeAlert();
    expect(on.redact(clean)).toBe(clean);
    const off = new Redactor({ enabled: false, patterns: [] });
    expect(off.redact(a)).toBe(a);
  });

  it('user patterns: group 1 is masked, else the whole match; they are RE2, so no input backtracks', () => {
    const r = new Redactor({ enabled: true, patterns: ['(?i)x-api-key:\\s*(\\S+)', 'card [0-9]{4}-[0-9]{4}'] });
    expect(r.redactText('curl -H X-Api-Key: k-123 /x card 1234-5678 end')).toBe(`curl -H X-Api-Key: ${REDACTED} /x ${REDACTED} end`);
    // (a+)+$ is exponential in a backtracking engine on "aaaa…b"; RE2 stays linear.
    const evil = new Redactor({ enabled: true, patterns: ['(a+)+$'] });
    const input = `${'a'.repeat(50_000)}b`;
    expect(evil.redactText(input)).toBe(input);
    expect(redactionSchema.safeParse({ enabled: true, patterns: ['(?<!x)y'] }).success).toBe(false);
    expect(redactionSchema.safeParse({ enabled: true, patterns: ['a(b'] }).error?.issues[0]?.message).toMatch(/not an RE2 pattern/);
  });

  it('happens once at fan-out: no sink ever sees the raw secret', async () => {
    const seen: Alert[][] = [[], []];
    const sink = (i: number): AlertSink => ({
      name: `s${i}`,
      healthy: true,
      offer: (a) => (seen[i]!.push(a), true),
      stats: (): SinkStats => ({ sent: 0, failed: 0, dropped: 0, queueDepth: 0, queueCapacity: 1 }),
      close: async () => undefined,
    });
    const policy = { rateLimit: { enabled: false, rate: 1, burst: 1, maxRules: 1 }, dedup: { enabled: false, windowMs: 1, maxEntries: 1 }, summaryIntervalMs: 60_000, summaryPriority: 7 as const };
    const outputs = new Outputs([sink(0), sink(1)], policy, { logger: silentLogger, hostname: 'h' }, { redaction: { enabled: true, patterns: [] }, staticFields: {} });
    outputs.publish(makeAlert({ message: 'run app --password=hunter2', outputFields: { 'proc.cmdline': 'app --password=hunter2' } }));
    outputs.publishInternal(makeAlert({ message: 'internal Bearer tok-123' }));
    for (const alerts of seen) {
      expect(alerts).toHaveLength(2);
      expect(JSON.stringify(alerts, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).not.toMatch(/hunter2|tok-123/);
    }
    expect(seen[0]![0]).toBe(seen[1]![0]);
    await outputs.close(10);
  });
});
