/**
 * Alerts POSTed to a URL. With `batchSize` 1 the body is exactly one Falco JSON alert, which is
 * what falcosidekick's `POST /` accepts; larger batches send a JSON array of alerts (sidekick does
 * not take those; for SIEM webhooks). One request in flight keeps alerts in order; network errors,
 * timeouts, 408/429 and 5xx are retried with exponential backoff and jitter, other statuses fail
 * the batch at once. While the peer is down, alerts wait in this sink's queue only.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LineFormatter } from './format';
import { backoffMs, QueuedSink, sleep, type SinkDeps } from './sink-base';
import { loadTlsMaterial, type TlsFiles } from './tls-files';

export interface HttpSinkOptions {
  readonly url: string;
  readonly queueCapacity: number;
  readonly batchSize: number;
  readonly timeoutMs: number;
  readonly userAgent: string;
  readonly headers: Readonly<Record<string, string>>;
  /** 0 = retry until the alert is delivered or shutdown (the queue bound is the limit). */
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly tls: TlsFiles;
  readonly name?: string;
}

type Outcome = { kind: 'ok' } | { kind: 'retry'; reason: string } | { kind: 'fail'; reason: string };

export class HttpSink extends QueuedSink {
  private readonly url: URL;
  private readonly agent: HttpAgent;
  private lastOk = true;
  private failures = 0;

  constructor(
    private readonly opts: HttpSinkOptions,
    private readonly formatter: LineFormatter,
    deps: SinkDeps,
  ) {
    super(opts.name ?? 'http', opts.queueCapacity, deps);
    this.url = new URL(opts.url);
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') throw new Error(`http output: unsupported URL scheme ${this.url.protocol}`);
    this.agent =
      this.url.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, maxSockets: 1, ...loadTlsMaterial(opts.tls) })
        : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  }

  get healthy(): boolean {
    return this.lastOk;
  }

  private body(n: number): string {
    if (this.opts.batchSize === 1) return this.formatter.line(this.queue.at(0)!);
    let out = '[';
    for (let i = 0; i < n; i++) out += (i > 0 ? ',' : '') + this.formatter.line(this.queue.at(i)!);
    return out + ']';
  }

  private post(body: string): Promise<Outcome> {
    return new Promise((resolve) => {
      const send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
      let settled = false;
      const settle = (o: Outcome): void => {
        if (!settled) {
          settled = true;
          this.abort.signal.removeEventListener('abort', onAbort);
          resolve(o);
        }
      };
      const req = send(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': this.formatter.contentType,
            'content-length': Buffer.byteLength(body),
            'user-agent': this.opts.userAgent,
            ...this.opts.headers,
          },
        },
        (res: IncomingMessage) => {
          // Drain the body so the keep-alive socket goes back to the pool.
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) settle({ kind: 'ok' });
            else if (status === 408 || status === 429 || status >= 500) settle({ kind: 'retry', reason: `HTTP ${status}` });
            else settle({ kind: 'fail', reason: `HTTP ${status}` });
          });
          res.on('error', (err) => settle({ kind: 'retry', reason: err.message }));
        },
      );
      const onAbort = (): void => {
        req.destroy(new Error('shutdown'));
      };
      this.abort.signal.addEventListener('abort', onAbort, { once: true });
      req.setTimeout(this.opts.timeoutMs, () => req.destroy(new Error(`timed out after ${this.opts.timeoutMs} ms`)));
      req.on('error', (err) => settle({ kind: 'retry', reason: err.message }));
      req.end(body);
    });
  }

  protected async pumpOnce(): Promise<void> {
    const n = Math.min(this.opts.batchSize, this.queue.length);
    const body = this.body(n);
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.post(body);
      if (this.abort.signal.aborted) return;
      if (outcome.kind === 'ok') {
        for (let i = 0; i < n; i++) this.queue.shift();
        this.sent += n;
        if (!this.lastOk) this.logger.info({ failures: this.failures }, 'http output delivering again');
        this.lastOk = true;
        this.failures = 0;
        return;
      }
      this.failures++;
      if (this.lastOk) this.logger.warn({ reason: outcome.reason, url: this.url.origin }, 'http output failed; retrying');
      this.lastOk = false;
      const giveUp = outcome.kind === 'fail' || (this.opts.maxAttempts > 0 && attempt + 1 >= this.opts.maxAttempts);
      if (giveUp) {
        for (let i = 0; i < n; i++) this.queue.shift();
        this.failed += n;
        this.logger.error({ reason: outcome.reason, alerts: n }, 'http output gave up on alerts');
        return;
      }
      await sleep(backoffMs(attempt, this.opts.initialBackoffMs, this.opts.maxBackoffMs), this.abort.signal);
      if (this.abort.signal.aborted) return;
    }
  }

  protected async release(): Promise<void> {
    this.agent.destroy();
  }
}
