/**
 * Alerts as RFC 5424 syslog messages over UDP (RFC 5426), TCP or TLS (octet-counting framing,
 * RFC 6587 §3.4.1), or the local unix datagram socket. Falco's priority 0–7 is the syslog severity
 * unchanged. Node has no AF_UNIX datagram sockets, so the unix transport keeps one util-linux
 * `logger` process and feeds it `<PRI>message` lines (`--prio-prefix`); it then writes the header.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Alert } from './alert';
import { isoTimeUs } from '../lib/time-format';
import type { LineFormatter } from './format';
import { backoffMs, QueuedSink, sleep, type SinkDeps } from './sink-base';
import { SYSLOG_FACILITIES, type SyslogFacility } from './syslog-facilities';
import { loadTlsMaterial, type TlsFiles } from './tls-files';


export interface SyslogSinkOptions {
  readonly transport: 'unix' | 'udp' | 'tcp' | 'tls';
  /** Unix socket path (transport unix). */
  readonly path: string;
  readonly host: string;
  readonly port: number;
  readonly facility: SyslogFacility;
  readonly appName: string;
  /** Longer messages are cut (on a UTF-8 boundary); UDP peers often cap at 2048. */
  readonly maxMessageBytes: number;
  readonly queueCapacity: number;
  readonly tls: TlsFiles;
  readonly name?: string;
}

/** RFC 5424 header fields: PRINTUSASCII only, no spaces, bounded length; empty → NILVALUE. */
function headerToken(s: string, max: number): string {
  const t = s.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return t === '' ? '-' : t;
}

function truncateUtf8(buf: Buffer, max: number): Buffer {
  if (buf.length <= max) return buf;
  let end = max;
  // Step back over continuation bytes so a multi-byte character is not split.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.subarray(0, end);
}

export class SyslogSink extends QueuedSink {
  private readonly facilityCode: number;
  private readonly procId = String(process.pid);
  private udp: UdpSocket | undefined;
  private stream: Socket | undefined;
  private streamReady = false;
  private logger_: ChildProcessWithoutNullStreams | undefined;
  private connectAttempts = 0;
  private lastError: Error | undefined;

  constructor(
    private readonly opts: SyslogSinkOptions,
    private readonly formatter: LineFormatter,
    deps: SinkDeps,
  ) {
    super(opts.name ?? 'syslog', opts.queueCapacity, deps);
    this.facilityCode = SYSLOG_FACILITIES[opts.facility];
  }

  /** Healthy until a failure is seen: connections are made lazily, on the first alert. */
  get healthy(): boolean {
    switch (this.opts.transport) {
      case 'unix':
        return this.lastError === undefined && (this.logger_ === undefined || this.logger_.exitCode === null);
      case 'udp':
        return this.lastError === undefined;
      default:
        return this.streamReady || this.lastError === undefined;
    }
  }

  pri(alert: Alert): number {
    return this.facilityCode * 8 + alert.priority;
  }

  /** The full RFC 5424 message (no framing): `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`. */
  message(alert: Alert): Buffer {
    const header = `<${this.pri(alert)}>1 ${isoTimeUs(alert.timeNs)} ${headerToken(alert.hostname, 255)} ${headerToken(this.opts.appName, 48)} ${this.procId} - - `;
    return truncateUtf8(Buffer.from(header + this.formatter.line(alert)), this.opts.maxMessageBytes);
  }

  protected async pumpOnce(): Promise<void> {
    switch (this.opts.transport) {
      case 'udp':
        return this.sendUdp();
      case 'unix':
        return this.sendUnix();
      default:
        return this.sendStream();
    }
  }

  private async sendUdp(): Promise<void> {
    if (!this.udp) {
      this.udp = createSocket(isIPv6(this.opts.host) ? 'udp6' : 'udp4');
      this.udp.on('error', (err) => {
        this.lastError = err;
      });
      this.udp.unref();
    }
    const alert = this.queue.shift()!;
    const msg = this.message(alert);
    const err = await new Promise<Error | null>((resolve) => this.udp!.send(msg, this.opts.port, this.opts.host, (e) => resolve(e)));
    if (err) {
      // Datagrams are fire-and-forget: a send error loses this message, retrying would reorder.
      this.failed++;
      if (!this.lastError) this.logger.warn({ err }, 'syslog UDP send failed');
      this.lastError = err;
    } else {
      this.lastError = undefined;
      this.sent++;
    }
  }

  private connectStream(): Promise<boolean> {
    return new Promise((resolve) => {
      const { host, port } = this.opts;
      const onReady = (): void => {
        this.streamReady = true;
        this.connectAttempts = 0;
        this.lastError = undefined;
        this.logger.info({ host, port, transport: this.opts.transport }, 'syslog connected');
        resolve(true);
      };
      let sock: Socket;
      try {
        sock =
          this.opts.transport === 'tls'
            ? tlsConnect({ host, port, servername: isIPv6(host) || /^[\d.]+$/.test(host) ? undefined : host, ...loadTlsMaterial(this.opts.tls) }, onReady)
            : netConnect({ host, port }, onReady);
      } catch (err) {
        this.logger.error({ err }, 'syslog connect failed');
        resolve(false);
        return;
      }
      sock.setNoDelay(true);
      sock.on('error', (err) => {
        if (!this.streamReady) resolve(false);
        if (this.lastError?.message !== err.message) this.logger.warn({ err }, 'syslog connection error');
        this.lastError = err;
      });
      sock.on('close', () => {
        this.streamReady = false;
        if (this.stream === sock) this.stream = undefined;
        resolve(false);
      });
      // A receiver that talks back is not speaking syslog; read and ignore so the socket never stalls.
      sock.on('data', () => undefined);
      this.stream = sock;
    });
  }

  private async sendStream(): Promise<void> {
    if (!this.stream || !this.streamReady) {
      this.stream?.destroy();
      this.stream = undefined;
      const ok = await this.connectStream();
      if (!ok) {
        await sleep(backoffMs(this.connectAttempts++, 100, 10_000), this.abort.signal);
        return;
      }
    }
    const alert = this.queue.shift()!;
    const msg = this.message(alert);
    const sock = this.stream!;
    const ok = sock.write(Buffer.concat([Buffer.from(`${msg.length} `), msg]));
    this.sent++;
    if (!ok) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          sock.off('drain', done);
          sock.off('close', done);
          resolve();
        };
        sock.once('drain', done);
        sock.once('close', done);
      });
    }
  }

  private startLogger(): ChildProcessWithoutNullStreams {
    const child = spawn(
      'logger',
      ['--rfc5424', '--prio-prefix', '--socket-errors=on', '-u', this.opts.path, '-t', headerToken(this.opts.appName, 48), '-S', String(this.opts.maxMessageBytes)],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    child.stderr.on('data', (d: Buffer) => this.logger.warn({ stderr: d.toString().trim() }, 'logger (syslog unix transport) reported an error'));
    child.stdout.resume();
    child.stdin.on('error', (err) => {
      this.lastError = err;
    });
    child.on('error', (err) => {
      this.lastError = err;
      this.logger.error({ err }, 'cannot run logger for the syslog unix transport');
    });
    child.on('exit', () => {
      if (this.logger_ === child) this.logger_ = undefined;
    });
    return child;
  }

  private async sendUnix(): Promise<void> {
    if (!this.logger_ || this.logger_.exitCode !== null) {
      if (this.connectAttempts > 0) await sleep(backoffMs(this.connectAttempts, 100, 10_000), this.abort.signal);
      this.connectAttempts++;
      this.logger_ = this.startLogger();
      await new Promise((resolve) => {
        this.logger_!.once('spawn', resolve);
        this.logger_!.once('error', resolve);
      });
      if (this.logger_?.pid === undefined) return;
      this.lastError = undefined;
    }
    const alert = this.queue.shift()!;
    // logger reads one message per line; neither format leaves a raw newline in the line (JSON
    // escapes it, text goes through escapeControlText).
    const line = `<${this.pri(alert)}>${this.formatter.line(alert)}\n`;
    const stdin = this.logger_!.stdin;
    const ok = stdin.write(line);
    this.sent++;
    this.connectAttempts = 0;
    if (!ok) {
      const child = this.logger_!;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          stdin.off('drain', done);
          child.off('exit', done);
          resolve();
        };
        stdin.once('drain', done);
        child.once('exit', done);
      });
    }
  }

  protected async release(): Promise<void> {
    this.udp?.close();
    this.udp = undefined;
    const sock = this.stream;
    if (sock) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          sock.destroy();
          resolve();
        }, 200);
        sock.end(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    const child = this.logger_;
    if (child && child.exitCode === null) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 500);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.stdin.end();
      });
    }
  }
}
