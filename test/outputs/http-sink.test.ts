import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FALCO_DEFAULT_FORMAT, LineFormatter } from '../../src/outputs/format';
import { HttpSink, type HttpSinkOptions } from '../../src/outputs/http-sink';
import {makeAlert, makeCerts, NO_TLS, seqOf, silentLogger, waitFor } from './helpers';
import { expectSidekickAccepts } from './sidekick-validator';
import { freeLoopbackPort } from '../support/net';

const formatter = new LineFormatter(FALCO_DEFAULT_FORMAT);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function sinkOptions(url: string, over: Partial<HttpSinkOptions> = {}): HttpSinkOptions {
  return {
    url,
    queueCapacity: 100,
    batchSize: 1,
    timeoutMs: 300,
    userAgent: 'lanner-test',
    headers: {},
    maxAttempts: 0,
    initialBackoffMs: 20,
    maxBackoffMs: 200,
    tls: NO_TLS,
    ...over,
  };
}

function newSink(opts: HttpSinkOptions): HttpSink {
  const sink = new HttpSink(opts, formatter, { logger: silentLogger });
  cleanups.push(() => sink.close(200));
  return sink;
}

interface Receiver {
  readonly bodies: string[];
  readonly sockets: Set<unknown>;
  requests: number;
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void;
  readonly server: Server;
}

async function startReceiver(port: number, make: (h: (req: IncomingMessage, res: ServerResponse) => void) => Server = createServer): Promise<Receiver> {
  const r: Receiver = {
    bodies: [],
    sockets: new Set(),
    requests: 0,
    handler: (_req, res) => res.end(),
    server: undefined as unknown as Server,
  };
  const server = make((req, res) => {
    r.requests++;
    r.sockets.add(req.socket);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      r.bodies.push(body);
      r.handler(req, res, body);
    });
  });
  (r as { server: Server }).server = server;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return r;
}

describe('HTTP sink', () => {
  it('survives a peer that is down, then slow, then up: offer never waits, nothing accepted is lost, overflow counted exactly', async () => {
    const port = await freeLoopbackPort();
    const sink = newSink(sinkOptions(`http://127.0.0.1:${port}/`));
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    cleanups.push(() => clearInterval(ticker));

    // Down: connection refused. 10k offers return at once; exactly the queue bound is kept.
    const accepted: number[] = [];
    let offered = 0;
    for (let i = 0; i < 10_000; i++) {
      const a = makeAlert();
      offered++;
      if (sink.offer(a)) accepted.push(a.outputFields['seq.id'] as number);
    }
    expect(accepted.length).toBe(100);
    expect(sink.stats()).toMatchObject({ dropped: 9_900, sent: 0, queueDepth: 100, queueCapacity: 100 });
    const ticksBefore = ticks;
    await new Promise((r) => setTimeout(r, 300));
    expect(ticks - ticksBefore).toBeGreaterThan(10); // the event loop kept running while the sink retried
    expect(sink.healthy).toBe(false);
    expect(sink.stats().sent).toBe(0);

    // Slow: the first answers come after the client timeout (so they are retried), later ones after a delay.
    const rx = await startReceiver(port);
    rx.handler = (_req, res) => setTimeout(() => res.end(), rx.requests <= 3 ? 600 : 30);
    for (let i = 0; i < 20; i++) {
      const a = makeAlert();
      offered++;
      if (sink.offer(a)) accepted.push(a.outputFields['seq.id'] as number);
      await new Promise((r) => setTimeout(r, 10));
    }
    // Up.
    await waitFor(() => rx.requests > 6, 10_000, 'slow phase requests');
    rx.handler = (_req, res) => res.end();
    await waitFor(() => sink.stats().sent === accepted.length, 20_000, 'every accepted alert delivered');

    const stats = sink.stats();
    expect(stats.dropped).toBe(offered - accepted.length);
    expect(stats.failed).toBe(0);
    expect(stats.queueDepth).toBe(0);
    expect(sink.healthy).toBe(true);
    const firstSeen: number[] = [];
    const seen = new Set<number>();
    for (const body of rx.bodies) {
      expectSidekickAccepts(body);
      const id = seqOf(body);
      if (!seen.has(id)) {
        seen.add(id);
        firstSeen.push(id);
      }
    }
    // At-least-once: a timed-out request may arrive twice, but every accepted alert arrives, in order.
    expect(firstSeen).toEqual(accepted);
  });

  it('reuses one keep-alive connection and sends falcosidekick headers', async () => {
    const port = await freeLoopbackPort();
    const rx = await startReceiver(port);
    const types: (string | undefined)[] = [];
    rx.handler = (req, res) => {
      types.push(req.headers['content-type']);
      res.end();
    };
    const sink = newSink(sinkOptions(`http://127.0.0.1:${port}/`));
    for (let i = 0; i < 20; i++) sink.offer(makeAlert());
    await waitFor(() => sink.stats().sent === 20, 5_000, '20 deliveries');
    expect(rx.sockets.size).toBe(1);
    expect(new Set(types)).toEqual(new Set(['application/json']));
  });

  it('does not retry a 400 and gives up after max_attempts on 5xx, counting failures', async () => {
    const port = await freeLoopbackPort();
    const rx = await startReceiver(port);
    rx.handler = (_req, res) => {
      res.statusCode = 400;
      res.end('bad');
    };
    const sink = newSink(sinkOptions(`http://127.0.0.1:${port}/`, { maxAttempts: 3 }));
    sink.offer(makeAlert());
    await waitFor(() => sink.stats().failed === 1, 5_000, 'failure on 400');
    expect(rx.requests).toBe(1);

    rx.handler = (_req, res) => {
      res.statusCode = 503;
      res.end();
    };
    sink.offer(makeAlert());
    await waitFor(() => sink.stats().failed === 2, 5_000, 'failure after retries');
    expect(rx.requests).toBe(1 + 3);
    expect(sink.stats().sent).toBe(0);
  });

  it('batches as a JSON array of alerts', async () => {
    const port = await freeLoopbackPort();
    const rx = await startReceiver(port);
    const sink = newSink(sinkOptions(`http://127.0.0.1:${port}/`, { batchSize: 10 }));
    for (let i = 0; i < 25; i++) sink.offer(makeAlert());
    await waitFor(() => sink.stats().sent === 25, 5_000, '25 deliveries');
    const all = rx.bodies.flatMap((b) => JSON.parse(b) as unknown[]);
    expect(all).toHaveLength(25);
    expect(rx.bodies.length).toBeLessThan(25);
    for (const a of all) expectSidekickAccepts(JSON.stringify(a));
  });

  it('speaks HTTPS with a private CA and a client certificate (mTLS)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lanner-http-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const certs = makeCerts(dir);
    const port = await freeLoopbackPort();
    const rx = await startReceiver(port, (h) =>
      createHttpsServer(
        { cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey), ca: readFileSync(certs.ca), requestCert: true, rejectUnauthorized: true },
        h,
      ),
    );
    const tls = { ca_file: certs.ca, cert_file: certs.clientCert, key_file: certs.clientKey, insecure: false };
    const sink = newSink(sinkOptions(`https://127.0.0.1:${port}/`, { tls }));
    sink.offer(makeAlert());
    await waitFor(() => sink.stats().sent === 1, 5_000, 'TLS delivery');
    expectSidekickAccepts(rx.bodies[0]!);

    // Without the CA the server certificate is not trusted: retried, never delivered.
    const untrusting = newSink(sinkOptions(`https://127.0.0.1:${port}/`, { tls: { ...tls, ca_file: '' }, maxAttempts: 2 }));
    untrusting.offer(makeAlert());
    await waitFor(() => untrusting.stats().failed === 1, 5_000, 'TLS rejection');
    expect(rx.bodies).toHaveLength(1);
  });

  it('close() gives up on a hanging peer within the deadline and counts what was lost', async () => {
    const port = await freeLoopbackPort();
    const rx = await startReceiver(port);
    rx.handler = () => undefined; // never answers
    const sink = newSink(sinkOptions(`http://127.0.0.1:${port}/`, { timeoutMs: 60_000 }));
    for (let i = 0; i < 5; i++) sink.offer(makeAlert());
    await waitFor(() => rx.requests === 1, 5_000, 'first request');
    const t0 = Date.now();
    await sink.close(300);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(2_000);
    expect(sink.stats()).toMatchObject({ sent: 0, failed: 5, queueDepth: 0 });
    expect(sink.offer(makeAlert())).toBe(false);
  });
});
