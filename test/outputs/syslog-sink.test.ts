import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer as createNetServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, PriorityNum } from '../../src/outputs/alert';
import { FALCO_DEFAULT_FORMAT, LineFormatter } from '../../src/outputs/format';
import { SyslogSink, type SyslogSinkOptions } from '../../src/outputs/syslog-sink';
import {makeAlert, makeCerts, NO_TLS, seqOf, silentLogger, unavailableReason, waitFor } from './helpers';
import { expectSidekickAccepts } from './sidekick-validator';
import { freeLoopbackPort } from '../support/net';

const formatter = new LineFormatter(FALCO_DEFAULT_FORMAT);
const LOCAL3 = 19;
const sinks: SyslogSink[] = [];
const servers: Server[] = [];
const peerSockets = new Set<{ destroy(): void }>();
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close(500)));
  for (const s of peerSockets) s.destroy();
  peerSockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function newSink(over: Partial<SyslogSinkOptions>): SyslogSink {
  const sink = new SyslogSink(
    { transport: 'udp', path: '/dev/log', host: '127.0.0.1', port: 514, facility: 'local3', appName: 'lanner', maxMessageBytes: 8192, queueCapacity: 1000, tls: NO_TLS, ...over },
    formatter,
    { logger: silentLogger },
  );
  sinks.push(sink);
  return sink;
}

/** RFC 5424 TIMESTAMP for an alert, built from Date rather than the code under test. */
function expectedTimestamp(a: Alert): string {
  const iso = new Date(Number(a.timeNs / 1_000_000n)).toISOString();
  return `${iso.slice(0, 19)}.${(a.timeNs % 1_000_000_000n).toString().padStart(9, '0').slice(0, 6)}Z`;
}

const HEADER = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (.*)$/;

const rsyslogMissing = spawnSync('rsyslogd', ['-v']).error ? 'rsyslogd is not installed' : undefined;
const loggerMissing = spawnSync('logger', ['--help']).error ? 'logger (util-linux) is not installed' : undefined;
const skipRsyslog = unavailableReason(rsyslogMissing ?? loggerMissing, 'rsyslog syslog tests');

describe.skipIf(skipRsyslog)('syslog sink against a real rsyslogd', () => {
  let dir: string;
  let rsyslog: ChildProcess;
  let udpPort: number;
  let tcpPort: number;
  let sock: string;
  const out = (): string[] => (existsSync(join(dir, 'out.log')) ? readFileSync(join(dir, 'out.log'), 'utf8').split('\n').filter(Boolean) : []);
  const linesFrom = (input: string): string[] => out().filter((l) => l.startsWith(`${input} `)).map((l) => l.slice(input.length + 1));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lanner-rsyslog-'));
    udpPort = await freeLoopbackPort();
    tcpPort = await freeLoopbackPort();
    sock = join(dir, 'log.sock');
    writeFileSync(
      join(dir, 'rsyslog.conf'),
      [
        `global(workDirectory="${dir}" maxMessageSize="64k")`,
        'module(load="imudp")',
        'module(load="imtcp")',
        'module(load="imuxsock" SysSock.Use="off")',
        `input(type="imudp" port="${udpPort}" address="127.0.0.1")`,
        `input(type="imtcp" port="${tcpPort}" address="127.0.0.1")`,
        `input(type="imuxsock" Socket="${sock}")`,
        'template(name="raw" type="string" string="%inputname% %rawmsg%\\n")',
        `*.* action(type="omfile" file="${dir}/out.log" template="raw")`,
      ].join('\n'),
    );
    rsyslog = spawn('rsyslogd', ['-n', '-f', join(dir, 'rsyslog.conf'), '-i', join(dir, 'rsyslog.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    rsyslog.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const tcpUp = async (): Promise<boolean> =>
      new Promise((resolve) => {
        const c = connect(tcpPort, '127.0.0.1', () => {
          c.destroy();
          resolve(true);
        });
        c.on('error', () => resolve(false));
      });
    const until = Date.now() + 10_000;
    while (!(existsSync(sock) && (await tcpUp()))) {
      if (Date.now() > until || rsyslog.exitCode !== null) throw new Error(`rsyslogd did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  afterAll(async () => {
    if (rsyslog && rsyslog.exitCode === null) {
      const gone = new Promise((r) => rsyslog.once('exit', r));
      rsyslog.kill('SIGTERM');
      await gone;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const transport of ['udp', 'tcp'] as const) {
    it(`${transport}: RFC 5424 header with PRI = facility*8 + Falco priority, and the JSON alert as MSG`, async () => {
      const sink = newSink({ transport, port: transport === 'udp' ? udpPort : tcpPort });
      const sent = new Map<number, Alert>();
      for (let p = 0; p < 8; p++) {
        const a = makeAlert({ priority: p as PriorityNum });
        sent.set(a.outputFields['seq.id'] as number, a);
        expect(sink.offer(a)).toBe(true);
      }
      const input = transport === 'udp' ? 'imudp' : 'imtcp';
      await waitFor(() => linesFrom(input).filter((l) => sent.has(seqOf(HEADER.exec(l)![8]!))).length === 8, 10_000, `8 ${transport} messages in rsyslog`);
      for (const line of linesFrom(input)) {
        const m = HEADER.exec(line)!;
        const a = sent.get(seqOf(m[8]!));
        if (!a) continue;
        expect(Number(m[1])).toBe(LOCAL3 * 8 + a.priority);
        expect(m[2]).toBe(expectedTimestamp(a));
        expect(m.slice(3, 8)).toEqual(['node-1', 'lanner', String(process.pid), '-', '-']);
        expectSidekickAccepts(m[8]!);
      }
      expect(sink.stats()).toMatchObject({ sent: 8, failed: 0, dropped: 0 });
    });
  }

  it('tcp: octet-counted frames stay separate under load, including long and non-ASCII messages', async () => {
    const sink = newSink({ transport: 'tcp', port: tcpPort });
    const ids = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const a = makeAlert({ message: `burst ${i} ${'é'.repeat(i % 7 === 0 ? 3000 : 5)}\nsecond line` });
      ids.add(a.outputFields['seq.id'] as number);
      sink.offer(a);
    }
    const mine = (): string[] => linesFrom('imtcp').filter((l) => /^<\d+>1 /.test(l) && l.includes('burst '));
    await waitFor(() => mine().length >= 300, 15_000, '300 tcp messages');
    const got = mine().map((l) => seqOf(HEADER.exec(l)![8]!));
    expect(new Set(got)).toEqual(ids);
    expect(got).toHaveLength(300);
  });

  it('unix: goes through the local datagram socket with the right PRI', async () => {
    const sink = newSink({ transport: 'unix', path: sock });
    const a = makeAlert({ priority: 1 });
    sink.offer(a);
    const id = a.outputFields['seq.id'] as number;
    await waitFor(() => linesFrom('imuxsock').some((l) => l.includes(`"seq.id":${id}`)), 10_000, 'unix message in rsyslog');
    const line = linesFrom('imuxsock').find((l) => l.includes(`"seq.id":${id}`))!;
    expect(line.startsWith(`<${LOCAL3 * 8 + 1}>1 `)).toBe(true);
    const json = line.slice(line.indexOf('{"hostname"'));
    expectSidekickAccepts(json);
    expect(seqOf(json)).toBe(id);
  });
});

describe('syslog sink framing and reconnection (node peers)', () => {

  /** Parses RFC 6587 octet-counted frames and checks each count against the bytes that follow. */
  function collectFrames(socketData: Buffer[], frames: string[]): void {
    let buf = Buffer.concat(socketData.splice(0));
    for (;;) {
      const sp = buf.indexOf(0x20);
      if (sp < 0) break;
      const len = Number(buf.subarray(0, sp).toString());
      expect(Number.isInteger(len) && len > 0).toBe(true);
      if (buf.length < sp + 1 + len) break;
      frames.push(buf.subarray(sp + 1, sp + 1 + len).toString());
      buf = buf.subarray(sp + 1 + len);
    }
    if (buf.length) socketData.push(buf);
  }

  it('tcp: queues while the receiver is down and delivers once it is up', async () => {
    const port = await freeLoopbackPort();
    const sink = newSink({ transport: 'tcp', port });
    for (let i = 0; i < 5; i++) sink.offer(makeAlert());
    await new Promise((r) => setTimeout(r, 300));
    expect(sink.healthy).toBe(false);
    expect(sink.stats().queueDepth).toBeGreaterThanOrEqual(4);
    const frames: string[] = [];
    const pending: Buffer[] = [];
    const server = createNetServer((s) => peerSockets.add(s) && s.on('data', (d: Buffer) => (pending.push(d), collectFrames(pending, frames))));
    servers.push(server);
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    await waitFor(() => frames.length === 5, 15_000, 'five frames after reconnect');
    expect(sink.healthy).toBe(true);
    for (const f of frames) expect(f).toMatch(/^<157>1 /); // local3.notice
  });

  it('tls: verifies the receiver with the configured CA and presents a client certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lanner-syslog-tls-'));
    try {
      const certs = makeCerts(dir);
      const port = await freeLoopbackPort();
      const frames: string[] = [];
      const pending: Buffer[] = [];
      let clientCN = '';
      const server = createTlsServer(
        { cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey), ca: readFileSync(certs.ca), requestCert: true, rejectUnauthorized: true },
        (s) => {
          peerSockets.add(s);
          clientCN = String(s.getPeerCertificate().subject?.CN ?? '');
          s.on('data', (d: Buffer) => (pending.push(d), collectFrames(pending, frames)));
        },
      );
      servers.push(server);
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
      const sink = newSink({ transport: 'tls', port, tls: { ca_file: certs.ca, cert_file: certs.clientCert, key_file: certs.clientKey, insecure: false } });
      sink.offer(makeAlert({ priority: 3 }));
      await waitFor(() => frames.length === 1, 10_000, 'one TLS frame');
      expect(frames[0]).toMatch(/^<155>1 /);
      expect(clientCN).toBe('lanner-test-client');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cuts messages at max_message_bytes without splitting a UTF-8 character', () => {
    const sink = newSink({ maxMessageBytes: 600 });
    const msg = sink.message(makeAlert({ message: 'é'.repeat(2000) }));
    expect(msg.length).toBeLessThanOrEqual(600);
    expect(msg.length).toBeGreaterThan(590);
    expect(Buffer.from(msg.toString('utf8')).equals(msg)).toBe(true); // no replacement characters
  });
});
