/**
 * The audit webhook: an HTTPS endpoint taking what the API server's webhook backend
 * (`--audit-webhook-config-file`) POSTs, an `audit.k8s.io/v1` EventList per request. TLS only
 * (optionally requiring a client certificate signed by `ca_file`); bodies above
 * `max_request_bytes` are refused with 413 without being buffered whole.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log';
import type { BadInputKind } from './event';

export interface WebhookTls {
  readonly cert_file: string;
  readonly key_file: string;
  readonly ca_file: string;
  readonly require_client_cert: boolean;
}

export interface WebhookOptions {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly maxRequestBytes: number;
  readonly tls: WebhookTls;
  /** Handles one body; false when nothing in it was an audit event (answered with 400). */
  readonly onBody: (text: string) => boolean;
  readonly onBad: (kind: BadInputKind, detail: string) => void;
  readonly log: Logger;
}

export interface WebhookStats {
  readonly requests: number;
  /** Refused requests (wrong method or path, too large, not audit events). */
  readonly rejected: number;
}

/** Slow or stalled clients are cut off after this long. */
const REQUEST_TIMEOUT_MS = 30_000;

export class AuditWebhook {
  private server: Server | undefined;
  private requests = 0;
  private rejected = 0;

  constructor(private readonly opts: WebhookOptions) {}

  /** Reads the TLS files and listens; rejects with the reason (unreadable key, port in use, …). */
  async start(): Promise<void> {
    const t = this.opts.tls;
    const server = createServer({
      cert: readFileSync(t.cert_file),
      key: readFileSync(t.key_file),
      ...(t.ca_file ? { ca: readFileSync(t.ca_file) } : {}),
      requestCert: t.require_client_cert,
      rejectUnauthorized: t.require_client_cert,
      minVersion: 'TLSv1.2',
      requestTimeout: REQUEST_TIMEOUT_MS,
      headersTimeout: REQUEST_TIMEOUT_MS,
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.handle(req, res));
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.opts.log.warn({ err }, 'k8s audit webhook: server error'));
    this.server = server;
    this.opts.log.info({ address: this.address, path: this.opts.path }, 'k8s audit webhook listening');
  }

  get address(): { host: string; port: number } | undefined {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a ? { host: a.address, port: a.port } : undefined;
  }

  stats(): WebhookStats {
    return { requests: this.requests, rejected: this.rejected };
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  private refuse(res: ServerResponse, status: number, message: string, req?: IncomingMessage): void {
    this.rejected++;
    res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' });
    res.end(message + '\n');
    // The rest of an oversized body is not read: the connection goes once the answer is out.
    if (req) res.once('finish', () => req.destroy());
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests++;
    const q = (req.url ?? '').indexOf('?');
    const path = q < 0 ? req.url : req.url!.slice(0, q);
    if (path !== this.opts.path) return this.refuse(res, 404, 'not found', req);
    if (req.method !== 'POST') return this.refuse(res, 405, 'POST only', req);
    const max = this.opts.maxRequestBytes;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      this.opts.onBad('request_too_large', `Content-Length ${declared} > max_request_bytes ${max}`);
      return this.refuse(res, 413, 'request too large', req);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > max) {
        refused = true;
        chunks.length = 0;
        this.opts.onBad('request_too_large', `body over max_request_bytes ${max}`);
        this.refuse(res, 413, 'request too large', req);
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (refused) return;
      let ok: boolean;
      try {
        ok = this.opts.onBody(Buffer.concat(chunks, size).toString('utf8'));
      } catch (err) {
        this.opts.log.warn({ err }, 'k8s audit webhook: handling a request failed');
        ok = false;
      }
      if (!ok) return this.refuse(res, 400, 'no audit.k8s.io/v1 events in the body');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  }
}
