/**
 * The agent's HTTP endpoint: `/metrics` (Prometheus text format), `/healthz` (the process
 * answers) and `/readyz` (probe attached, rules loaded, outputs running). Plain node:http: three
 * routes do not need a framework, and nothing here is on the event path.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { parseListenAddress, type MetricsConfig } from './config';
import { createLannerRegistry, failingReadinessChecks } from './registry';
import type { MetricsIdentity, MetricsSources, ReadinessChecks } from './sources';

export interface MetricsServer {
  /** Bound address (the real port when `listen` asked for port 0). */
  readonly address: { readonly host: string; readonly port: number };
  readonly registry: Registry;
  /** Stops accepting, ends keep-alive connections; idempotent. */
  close(): Promise<void>;
}

/** The endpoint cannot listen: one line naming the address and why, for the operator. */
export class MetricsListenError extends Error {
  constructor(
    readonly listen: string,
    readonly reason: NodeJS.ErrnoException,
  ) {
    super(`cannot listen on ${listen} (metrics.listen): ${listenFailure(reason)}`);
    this.name = 'MetricsListenError';
  }
}

function listenFailure(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return 'the address is already in use (EADDRINUSE: another lanner, or another exporter, on this port?)';
    case 'EACCES':
      return 'permission denied (EACCES)';
    case 'EADDRNOTAVAIL':
      return 'no such local address (EADDRNOTAVAIL)';
    default:
      return err.message;
  }
}

/** Slow or stalled scrapers must not hold sockets forever. */
const REQUEST_TIMEOUT_MS = 10_000;

function send(res: ServerResponse, status: number, contentType: string, body: string, head: boolean): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(head ? undefined : body);
}

function json(res: ServerResponse, status: number, body: unknown, head: boolean): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`, head);
}

/**
 * Starts the endpoint described by `config.listen`. The caller checks `config.enabled`; this
 * function always listens so tests and the CLI share one path.
 */
export async function startMetricsServer(
  config: Pick<MetricsConfig, 'listen' | 'process_metrics'> & Partial<Pick<MetricsConfig, 'event_loop_resolution_ms'>>,
  sources: MetricsSources,
  readiness: ReadinessChecks,
  identity: MetricsIdentity,
): Promise<MetricsServer> {
  const registry = createLannerRegistry(sources, identity, readiness, {
    processMetrics: config.process_metrics,
    eventLoopResolutionMs: config.event_loop_resolution_ms,
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('allow', 'GET, HEAD');
      json(res, 405, { error: 'method not allowed' }, false);
      return;
    }
    const path = (req.url ?? '/').split('?', 1)[0];
    switch (path) {
      case '/metrics':
        try {
          send(res, 200, registry.contentType, await registry.metrics(), head);
        } catch (err) {
          send(res, 500, 'text/plain; charset=utf-8', `metrics collection failed: ${(err as Error).message}\n`, head);
        }
        return;
      case '/healthz':
        json(res, 200, { status: 'ok' }, head);
        return;
      case '/readyz': {
        const failing = failingReadinessChecks(readiness);
        let detail: Readonly<Record<string, unknown>> = {};
        try {
          detail = readiness.detail?.() ?? {};
        } catch {
          // Detail is informative only: a failing getter must not change the answer.
        }
        if (failing.length === 0) json(res, 200, { status: 'ready', ...detail }, head);
        else json(res, 503, { status: 'not ready', failing, ...detail }, head);
        return;
      }
      default:
        json(res, 404, { error: 'not found', endpoints: ['/metrics', '/healthz', '/readyz'] }, head);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = 5_000;

  const { host, port } = parseListenAddress(config.listen);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(new MetricsListenError(config.listen, err));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    address: { host: bound.address, port: bound.port },
    registry,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
