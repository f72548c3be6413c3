/**
 * Serves the old Falco gRPC outputs API: `falco.outputs.service/sub` streams alerts to each
 * subscriber as they happen, `get` drains a bounded backlog of recent alerts, and
 * `falco.version.service/version` answers with Lanner's version. Every subscriber has its own
 * bounded queue and honours HTTP/2 flow control, so a slow client loses (counted) alerts of its
 * own and nobody else's. Local-only by default: a unix socket, or loopback when given host:port.
 */
import { existsSync, readFileSync } from 'node:fs';
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Logger } from 'pino';
import { PACKAGE_DIR, packageVersion } from '../package';
import type { Alert, AlertSink, SinkStats } from './alert';
import { formatOutputText, stringifyFieldValue } from './format';
import { BoundedQueue } from '../lib/bounded-queue';
import { fileKind } from '../lib/private-file';

export interface GrpcSinkOptions {
  /** `unix:///path` or `host:port`. */
  readonly bindAddress: string;
  readonly subscriberQueueCapacity: number;
  /** Recent alerts kept for `get`; the oldest is evicted (and counted) when full. */
  readonly backlogCapacity: number;
  readonly maxSubscribers: number;
  /** Prefix time of the `output` text in ISO 8601 rather than time of day. */
  readonly timeIso8601: boolean;
  readonly tls: { readonly cert_file: string; readonly key_file: string; readonly ca_file: string; readonly require_client_cert: boolean };
  /** Mode of the unix socket file. */
  readonly socketMode?: number;
  readonly name?: string;
}

/** `falco.outputs.response` as handed to the protobuf encoder. */
export interface OutputsResponse {
  time: { seconds: string; nanos: number };
  priority: number;
  source_deprecated: number;
  rule: string;
  output: string;
  output_fields: Record<string, string>;
  hostname: string;
  tags: string[];
  source: string;
  uuid: string;
  /** uint64, as a decimal string (the loader's `longs: String`). */
  seq: string;
  agent_id: string;
}

const SOURCE_ENUM: Readonly<Record<string, number>> = { syscall: 0, k8s_audit: 1, internal: 2 };
const PROTO_FILES = ['falco_outputs.proto', 'falco_version.proto'];

/** Whether something accepts connections on the unix socket at `path` (a stale file refuses them). */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolveProbe) => {
    const conn = connect(path);
    const done = (answers: boolean): void => {
      conn.destroy();
      resolveProbe(answers);
    };
    conn.setTimeout(1000, () => done(true));
    conn.once('connect', () => done(true));
    // ECONNREFUSED: nobody listens. Anything else (EACCES, EAGAIN) may be a live peer: keep it.
    conn.once('error', (err: NodeJS.ErrnoException) => done(err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT'));
  });
}

/** Proto files sit next to this module in src/; a build that does not copy them to dist/ still finds them. */
export function protoDir(): string {
  for (const dir of [__dirname, resolve(PACKAGE_DIR, 'src/outputs')]) {
    if (existsSync(resolve(dir, PROTO_FILES[0]!))) return dir;
  }
  throw new Error(`cannot find ${PROTO_FILES[0]} next to ${__dirname} or in ${PACKAGE_DIR}/src/outputs`);
}

export function loadFalcoProtos(): grpc.GrpcObject {
  const def = protoLoader.loadSync(PROTO_FILES, { includeDirs: [protoDir()], keepCase: true, longs: String, enums: String, defaults: true });
  return grpc.loadPackageDefinition(def);
}

export function toOutputsResponse(alert: Alert, timeIso8601: boolean): OutputsResponse {
  const fields: Record<string, string> = {};
  for (const k of Object.keys(alert.outputFields)) fields[k] = stringifyFieldValue(alert.outputFields[k]);
  fields[timeIso8601 ? 'evt.time.iso8601' : 'evt.time'] = alert.timeNs.toString();
  return {
    time: { seconds: (alert.timeNs / 1_000_000_000n).toString(), nanos: Number(alert.timeNs % 1_000_000_000n) },
    priority: alert.priority,
    source_deprecated: SOURCE_ENUM[alert.source] ?? 3,
    rule: alert.rule,
    output: formatOutputText(alert, timeIso8601),
    output_fields: fields,
    hostname: alert.hostname,
    tags: [...new Set(alert.tags)].sort(),
    source: alert.source,
    uuid: alert.uuid ?? '',
    seq: String(alert.seq ?? 0),
    agent_id: alert.agentId ?? '',
  };
}

type Call = grpc.ServerWritableStream<unknown, OutputsResponse> | grpc.ServerDuplexStream<unknown, OutputsResponse>;

class Subscriber {
  readonly queue: BoundedQueue<Alert>;
  dropped = 0;
  private writing = false;
  closed = false;

  constructor(
    readonly call: Call,
    capacity: number,
    private readonly sink: GrpcSink,
  ) {
    this.queue = new BoundedQueue<Alert>(capacity);
  }

  offer(alert: Alert): boolean {
    if (this.closed) return true;
    if (!this.queue.push(alert)) {
      this.dropped++;
      return false;
    }
    if (!this.writing) {
      this.writing = true;
      setImmediate(() => void this.pump());
    }
    return true;
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0 && !this.closed) {
      const ok = this.call.write(this.sink.response(this.queue.shift()!));
      this.sink.countSent();
      if (!ok) await this.waitDrain();
    }
    this.writing = false;
  }

  private waitDrain(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.call.off('drain', done);
        this.call.off('close', done);
        this.call.off('cancelled', done);
        resolve();
      };
      this.call.on('drain', done);
      this.call.on('close', done);
      this.call.on('cancelled', done);
    });
  }

  /** Resolves when queued alerts were handed to the transport, or at the deadline. */
  async flush(until: number): Promise<void> {
    while ((this.writing || this.queue.length > 0) && !this.closed && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  }
}

export class GrpcSink implements AlertSink {
  readonly name: string;
  private readonly server = new grpc.Server();
  private readonly subscribers = new Set<Subscriber>();
  private readonly backlog: BoundedQueue<Alert>;
  private readonly log: Logger;
  private sent = 0;
  private dropped = 0;
  private listening = false;
  private closing = false;
  /** Set once our bind succeeded: the socket file we own and remove at close. */
  private socketPath: string | undefined;
  private socketIno: number | undefined;

  constructor(
    private readonly opts: GrpcSinkOptions,
    deps: { readonly logger: Logger; readonly version?: string },
  ) {
    this.name = opts.name ?? 'grpc';
    this.log = deps.logger.child({ sink: this.name });
    this.backlog = new BoundedQueue<Alert>(opts.backlogCapacity);
    const protos = loadFalcoProtos() as unknown as {
      falco: { outputs: { service: grpc.ServiceClientConstructor }; version: { service: grpc.ServiceClientConstructor } };
    };
    this.server.addService(protos.falco.outputs.service.service, {
      sub: (call: grpc.ServerDuplexStream<unknown, OutputsResponse>) => this.subscribe(call),
      get: (call: grpc.ServerWritableStream<unknown, OutputsResponse>) => void this.drain(call),
    });
    const version = deps.version ?? packageVersion();
    const [major = 0, minor = 0, patch = 0] = version.split(/[.-]/).map((n) => Number(n) || 0);
    this.server.addService(protos.falco.version.service.service, {
      version: (_call: unknown, cb: grpc.sendUnaryData<Record<string, unknown>>) =>
        cb(null, { version, major, minor, patch, prerelease: '', build: '', engine_version: version, engine_major: major, engine_minor: minor, engine_patch: patch, engine_fields_checksum: '' }),
    });
  }

  get healthy(): boolean {
    return this.listening;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Binds the server; rejects when the address cannot be bound. Resolves to the bound port (0 for unix). */
  async start(): Promise<number> {
    const addr = this.opts.bindAddress;
    const socketPath = addr.startsWith('unix://') ? addr.slice('unix://'.length) : undefined;
    if (socketPath !== undefined) {
      await mkdir(dirname(socketPath), { recursive: true, mode: 0o750 });
      // A socket file left by a previous run makes bind fail with EADDRINUSE. Only a socket
      // nobody answers on is removed: a misconfigured path must not delete whatever file it
      // names, and a second agent must not steal the first one's clients.
      const existing = await lstat(socketPath).catch(() => undefined);
      if (existing !== undefined && !existing.isSocket()) {
        throw new Error(`${socketPath}: is ${fileKind(existing)}, not a socket; refusing to remove it`);
      }
      if (existing !== undefined) {
        if (await socketAnswers(socketPath)) throw new Error(`${socketPath}: in use by another process (another lanner?); refusing to take it over`);
        await unlink(socketPath).catch(() => undefined);
      }
    }
    const port = await new Promise<number>((resolveBind, reject) =>
      this.server.bindAsync(addr, this.credentials(), (err, p) => (err ? reject(err) : resolveBind(p))),
    );
    if (socketPath !== undefined) {
      // Ours from here on: close() removes it, and only while it is still this socket.
      this.socketPath = socketPath;
      this.socketIno = (await lstat(socketPath)).ino;
      await chmod(socketPath, this.opts.socketMode ?? 0o660);
    } else if (!/^(127\.|\[::1\]:|localhost:)/.test(addr) && !this.opts.tls.cert_file) {
      // Alerts name processes, files and users: say loudly when anyone on the network can read them.
      this.log.warn({ address: addr }, 'gRPC outputs API bound to a non-loopback address without TLS');
    }
    this.listening = true;
    this.log.info({ address: addr, port }, 'gRPC outputs API listening');
    return port;
  }

  private credentials(): grpc.ServerCredentials {
    const { cert_file, key_file, ca_file, require_client_cert } = this.opts.tls;
    if (!cert_file) return grpc.ServerCredentials.createInsecure();
    return grpc.ServerCredentials.createSsl(
      ca_file ? readFileSync(ca_file) : null,
      [{ cert_chain: readFileSync(cert_file), private_key: readFileSync(key_file) }],
      require_client_cert,
    );
  }

  response(alert: Alert): OutputsResponse {
    return toOutputsResponse(alert, this.opts.timeIso8601);
  }

  countSent(): void {
    this.sent++;
  }

  private subscribe(call: grpc.ServerDuplexStream<unknown, OutputsResponse>): void {
    if (this.closing || this.subscribers.size >= this.opts.maxSubscribers) {
      call.emit('error', { code: grpc.status.RESOURCE_EXHAUSTED, details: `at most ${this.opts.maxSubscribers} subscribers` });
      return;
    }
    const sub = new Subscriber(call, this.opts.subscriberQueueCapacity, this);
    this.subscribers.add(sub);
    const leave = (): void => {
      if (sub.closed) return;
      sub.closed = true;
      this.subscribers.delete(sub);
      if (sub.dropped > 0) this.log.warn({ dropped: sub.dropped }, 'gRPC subscriber left after losing alerts to a full queue');
    };
    call.on('cancelled', leave);
    call.on('close', leave);
    call.on('error', leave);
    // The client's request messages carry nothing; reading them keeps flow control moving, and
    // the client half-closing ends the subscription.
    call.on('data', () => undefined);
    call.on('end', () => {
      leave();
      call.end();
    });
  }

  private async drain(call: grpc.ServerWritableStream<unknown, OutputsResponse>): Promise<void> {
    const n = this.backlog.length;
    let cancelled = false;
    call.on('cancelled', () => {
      cancelled = true;
    });
    for (let i = 0; i < n && !cancelled; i++) {
      const alert = this.backlog.shift();
      if (alert === undefined) break;
      if (!call.write(this.response(alert))) await new Promise((r) => call.once('drain', r));
      this.sent++;
    }
    call.end();
  }

  offer(alert: Alert): boolean {
    if (this.closing) {
      this.dropped++;
      return false;
    }
    let ok = true;
    if (this.backlog.pushEvicting(alert)) {
      this.dropped++;
      ok = false;
    }
    for (const sub of this.subscribers) {
      if (!sub.offer(alert)) {
        this.dropped++;
        ok = false;
      }
    }
    return ok;
  }

  stats(): SinkStats {
    let depth = this.backlog.length;
    let capacity = this.backlog.capacity;
    for (const s of this.subscribers) {
      depth += s.queue.length;
      capacity += s.queue.capacity;
    }
    return { sent: this.sent, failed: 0, dropped: this.dropped, queueDepth: depth, queueCapacity: capacity };
  }

  async close(deadlineMs: number): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const until = Date.now() + deadlineMs;
    await Promise.all([...this.subscribers].map((s) => s.flush(until)));
    for (const s of this.subscribers) s.call.end();
    await new Promise<void>((resolveShutdown) => {
      const t = setTimeout(() => {
        this.server.forceShutdown();
        resolveShutdown();
      }, Math.max(0, until - Date.now()));
      this.server.tryShutdown(() => {
        clearTimeout(t);
        resolveShutdown();
      });
    });
    this.listening = false;
    if (this.socketPath) {
      const st = await lstat(this.socketPath).catch(() => undefined);
      if (st?.ino === this.socketIno) await unlink(this.socketPath).catch(() => undefined);
    }
  }
}

