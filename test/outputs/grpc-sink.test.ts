import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { GrpcSink, loadFalcoProtos, type GrpcSinkOptions } from '../../src/outputs/grpc-sink';
import { makeAlert, makeCerts, silentLogger, waitFor } from './helpers';

interface Response {
  time: { seconds: string; nanos: number };
  priority: string;
  source_deprecated: string;
  rule: string;
  output: string;
  output_fields: Record<string, string>;
  hostname: string;
  tags: string[];
  source: string;
}

type ClientCtor = new (addr: string, creds: grpc.ChannelCredentials) => grpc.Client & Record<string, (...a: unknown[]) => unknown>;
const protos = loadFalcoProtos() as unknown as { falco: { outputs: { service: ClientCtor }; version: { service: ClientCtor } } };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startSink(over: Partial<GrpcSinkOptions> = {}): Promise<{ sink: GrpcSink; addr: string }> {
  const sink = new GrpcSink(
    {
      bindAddress: '127.0.0.1:0',
      subscriberQueueCapacity: 1000,
      backlogCapacity: 1000,
      maxSubscribers: 4,
      timeIso8601: false,
      tls: { cert_file: '', key_file: '', ca_file: '', require_client_cert: false },
      ...over,
    },
    { logger: silentLogger, version: '1.2.3' },
  );
  cleanups.push(() => sink.close(500));
  const port = await sink.start();
  const addr = (over.bindAddress ?? '127.0.0.1:0').startsWith('unix:') ? over.bindAddress! : `127.0.0.1:${port}`;
  return { sink, addr };
}

function client(addr: string, creds = grpc.credentials.createInsecure()): InstanceType<ClientCtor> {
  const c = new protos.falco.outputs.service(addr, creds);
  cleanups.push(() => c.close());
  return c;
}

function subscribe(c: InstanceType<ClientCtor>): { call: grpc.ClientDuplexStream<object, Response>; got: Response[] } {
  const call = (c.sub as () => grpc.ClientDuplexStream<object, Response>)();
  const got: Response[] = [];
  call.on('data', (r: Response) => got.push(r));
  call.on('error', () => undefined);
  call.write({});
  cleanups.push(() => call.cancel());
  return { call, got };
}

describe('gRPC outputs API (falco.outputs.service)', () => {
  it('sub streams alerts with Falco fields, output_fields all strings', async () => {
    const { sink, addr } = await startSink();
    const { got } = subscribe(client(addr));
    await waitFor(() => sink.subscriberCount === 1, 5_000, 'subscription');
    const a = makeAlert({
      id: 42,
      timeNs: 1785492000123456789n,
      priority: 5,
      outputFields: { 'k8s.pod.name': null, 'container.privileged': false, 'proc.tty': 34816, 'container.start_ts': 1728133229850062067n },
      tags: ['shell', 'T1059'],
    });
    sink.offer(a);
    await waitFor(() => got.length === 1, 5_000, 'one response');
    const r = got[0]!;
    expect(r.time).toEqual({ seconds: '1785492000', nanos: 123456789 });
    expect(r.priority).toBe('NOTICE');
    expect(r.source_deprecated).toBe('SYSCALL');
    expect(r.source).toBe('syscall');
    expect(r.rule).toBe(a.rule);
    expect(r.hostname).toBe('node-1');
    expect(r.tags).toEqual(['T1059', 'shell']);
    expect(r.output).toBe(`10:00:00.123456789: Notice ${a.message}`);
    expect(r.output_fields).toEqual({
      'proc.name': 'bash',
      'seq.id': '42',
      'k8s.pod.name': '<NA>',
      'container.privileged': 'false',
      'proc.tty': '34816',
      'container.start_ts': '1728133229850062067',
      'evt.time': '1785492000123456789',
    });
    for (const v of Object.values(r.output_fields)) expect(typeof v).toBe('string');

    sink.offer(makeAlert({ source: 'internal', priority: 7 }));
    await waitFor(() => got.length === 2, 5_000, 'second response');
    expect([got[1]!.priority, got[1]!.source_deprecated, got[1]!.source]).toEqual(['DEBUG', 'INTERNAL', 'internal']);
  });

  it('get drains the alerts queued up to the call, then ends; version answers', async () => {
    const { sink, addr } = await startSink();
    for (let i = 0; i < 3; i++) sink.offer(makeAlert({ rule: `r${i}` }));
    const c = client(addr);
    const drain = (): Promise<Response[]> =>
      new Promise((resolve, reject) => {
        const out: Response[] = [];
        const call = (c.get as (req: object) => grpc.ClientReadableStream<Response>)({});
        call.on('data', (r: Response) => out.push(r));
        call.on('end', () => resolve(out));
        call.on('error', reject);
      });
    expect((await drain()).map((r) => r.rule)).toEqual(['r0', 'r1', 'r2']);
    expect(await drain()).toEqual([]);

    const v = new protos.falco.version.service(addr, grpc.credentials.createInsecure());
    cleanups.push(() => v.close());
    const version = await new Promise<Record<string, unknown>>((resolve, reject) =>
      (v.version as (req: object, cb: (e: Error | null, r: Record<string, unknown>) => void) => void)({}, (e, r) => (e ? reject(e) : resolve(r))),
    );
    expect(version).toMatchObject({ version: '1.2.3', major: 1, minor: 2, patch: 3 });
  });

  it('a slow subscriber loses alerts of its own (counted); a fast one gets all', async () => {
    const { sink, addr } = await startSink({ subscriberQueueCapacity: 20 });
    const c = client(addr);
    const fast = subscribe(c);
    const slow = subscribe(client(addr));
    slow.call.pause();
    await waitFor(() => sink.subscriberCount === 2, 5_000, 'two subscriptions');
    const N = 300;
    const big = 'x'.repeat(10_000);
    // Paced so a subscriber that keeps reading always has room; the paused one cannot keep up.
    for (let i = 1; i <= N; i++) {
      sink.offer(makeAlert({ message: big }));
      if (i % 10 === 0) await waitFor(() => fast.got.length === i, 10_000, `fast subscriber at ${i}`);
    }
    expect(sink.stats().dropped).toBeGreaterThan(0);
    slow.call.resume();
    await waitFor(() => slow.got.length + sink.stats().dropped === N, 20_000, 'slow subscriber received + dropped = offered');
    const ids = slow.got.map((r) => Number(r.output_fields['seq.id']));
    expect(ids).toEqual([...ids].sort((x, y) => x - y)); // what it got is in order, just with gaps
  });

  it('binds a unix socket (local-only default) with mode 0660', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lanner-grpc-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'run/lanner.sock');
    const { sink, addr } = await startSink({ bindAddress: `unix://${path}` });
    expect(statSync(path).isSocket()).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o660);
    const { got } = subscribe(client(addr));
    await waitFor(() => sink.subscriberCount === 1, 5_000, 'subscription over unix socket');
    sink.offer(makeAlert());
    await waitFor(() => got.length === 1, 5_000, 'response over unix socket');
  });

  it('mTLS: a client with a certificate from the CA is served, one without is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lanner-grpc-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const certs = makeCerts(dir);
    const { sink, addr } = await startSink({ tls: { cert_file: certs.serverCert, key_file: certs.serverKey, ca_file: certs.ca, require_client_cert: true } });
    const ca = readFileSync(certs.ca);
    const good = subscribe(client(addr, grpc.credentials.createSsl(ca, readFileSync(certs.clientKey), readFileSync(certs.clientCert))));
    await waitFor(() => sink.subscriberCount === 1, 10_000, 'mTLS subscription');
    const bad = subscribe(client(addr, grpc.credentials.createSsl(ca)));
    const badError = new Promise<grpc.ServiceError>((resolve) => bad.call.on('error', resolve));
    sink.offer(makeAlert());
    await waitFor(() => good.got.length === 1, 5_000, 'mTLS response');
    expect((await badError).code).toBe(grpc.status.UNAVAILABLE);
    expect(bad.got).toHaveLength(0);
  });
});
