import pino from 'pino';
import type { Alert, OutputFieldValue, PriorityNum } from '../../src/outputs/alert';

export const silentLogger = pino({ level: 'silent' });

let seq = 0;
/** A rule alert with a unique `seq` output field so deliveries can be matched one by one. */
export function makeAlert(over: Partial<Alert> & { id?: number } = {}): Alert {
  const id = over.id ?? ++seq;
  const fields: Record<string, OutputFieldValue> = { 'proc.name': 'bash', 'seq.id': id, ...(over.outputFields ?? {}) };
  return {
    timeNs: over.timeNs ?? 1785492000123456789n + BigInt(id),
    rule: over.rule ?? 'Terminal shell in container',
    priority: over.priority ?? (5 as PriorityNum),
    source: over.source ?? 'syscall',
    message: over.message ?? `Shell spawned in container | seq=${id}`,
    outputFields: fields,
    tags: over.tags ?? ['container', 'shell'],
    hostname: over.hostname ?? 'node-1',
  };
}

/** The `seq.id` of an alert as a sink emitted it (JSON body). */
export function seqOf(json: string): number {
  return (JSON.parse(json) as { output_fields: { 'seq.id': number } }).output_fields['seq.id'];
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Tests that need a real daemon: in CI a missing prerequisite is a failure with the reason,
 * elsewhere the test is skipped with the reason printed.
 */
export function unavailableReason(reason: string | undefined, what: string): boolean {
  if (reason === undefined) return false;
  if (process.env.CI === 'true') throw new Error(`${what} cannot run in CI: ${reason}`);
  console.warn(`skipping ${what}: ${reason}`);
  return true;
}

export interface TestCerts {
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

/** A throwaway CA with a server cert for 127.0.0.1/localhost and a client cert, made with openssl. */
export function makeCerts(dir: string): TestCerts {
  const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
  const { writeFileSync } = require('node:fs') as typeof import('node:fs');
  const p = (n: string): string => `${dir}/${n}`;
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'pipe' });
  };
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=lanner-test-ca']);
  writeFileSync(p('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  writeFileSync(p('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p(`${who}.key`), '-out', p(`${who}.csr`), '-subj', `/CN=lanner-test-${who}`]);
    run(['x509', '-req', '-in', p(`${who}.csr`), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p(`${who}.pem`), '-days', '2', '-extfile', p(`${who}.ext`)]);
  }
  return { ca: p('ca.pem'), serverCert: p('server.pem'), serverKey: p('server.key'), clientCert: p('client.pem'), clientKey: p('client.key') };
}

export const NO_TLS = { ca_file: '', cert_file: '', key_file: '', insecure: false } as const;
