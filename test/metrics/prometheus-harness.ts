/**
 * Starts a real Prometheus (/usr/bin/prometheus) on loopback that scrapes the given targets, and
 * queries it through its HTTP API. Used by the metrics tests and, later, against the real agent.
 *
 *   const prom = await startPrometheus({ targets: ['127.0.0.1:8766'] });
 *   await prom.waitForValue('lanner_events_received_total{type="openat"}', (v) => v === 5);
 *   await prom.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from '../support/net';

export { freeLoopbackPort };

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';

/** Why Prometheus cannot run here, or undefined when it can. */
export function prometheusUnavailable(): string | undefined {
  return existsSync(PROMETHEUS_BIN) ? undefined : `${PROMETHEUS_BIN} not found (Debian package 'prometheus')`;
}

export interface PrometheusSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PrometheusHandle {
  readonly url: string;
  /** Instant query; vector results as samples, scalars as one unlabeled sample. */
  query(expr: string): Promise<PrometheusSample[]>;
  /** Polls `expr` until `accept(samples)` holds; rejects with the last result after `timeoutMs`. */
  waitFor(expr: string, accept: (samples: PrometheusSample[]) => boolean, timeoutMs?: number): Promise<PrometheusSample[]>;
  /** Like waitFor for an expression that yields one sample; resolves with its value. */
  waitForValue(expr: string, accept: (value: number) => boolean, timeoutMs?: number): Promise<number>;
  /** Scrape health of every target, as Prometheus sees it. */
  targets(): Promise<{ scrapeUrl: string; health: string; lastError: string }[]>;
  /** Stops Prometheus and removes its config and storage. Idempotent. */
  stop(): Promise<void>;
  /** Prometheus's stderr so far (for failure messages). */
  log(): string;
}

export interface StartPrometheusOptions {
  /** `host:port` scrape targets. */
  readonly targets: readonly string[];
  readonly jobName?: string;
  /** Scrape interval in ms (Prometheus accepts sub-second durations). */
  readonly scrapeIntervalMs?: number;
  readonly ruleFiles?: readonly string[];
  /** Milliseconds to wait for /-/ready. */
  readonly startTimeoutMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startPrometheus(opts: StartPrometheusOptions): Promise<PrometheusHandle> {
  const missing = prometheusUnavailable();
  if (missing) throw new Error(missing);
  const dir = mkdtempSync(join(tmpdir(), 'lanner-prom-'));
  const interval = `${opts.scrapeIntervalMs ?? 500}ms`;
  const config = {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    rule_files: opts.ruleFiles ?? [],
    scrape_configs: [{ job_name: opts.jobName ?? 'lanner', static_configs: [{ targets: opts.targets }] }],
  };
  // JSON is valid YAML, so no serializer is needed.
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));

  let stderr = '';
  let child: ChildProcess | undefined;
  let port = 0;
  // The port is probed then handed over, so another process can take it meanwhile: retry.
  for (let attempt = 0; attempt < 3 && child === undefined; attempt++) {
    port = await freeLoopbackPort();
    const proc = spawn(
      PROMETHEUS_BIN,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
        // The default 5 m lookback would keep serving a stale value after a target vanished.
        '--query.lookback-delta=30s',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-20_000);
    });
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
    let ready = false;
    while (Date.now() < deadline && proc.exitCode === null) {
      try {
        const res = await fetch(`${url}/-/ready`);
        if (res.ok) {
          ready = true;
          break;
        }
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    if (ready) child = proc;
    else {
      proc.kill('SIGKILL');
      if (!/address already in use/.test(stderr)) break;
    }
  }
  if (child === undefined) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`prometheus did not become ready:\n${stderr}`);
  }
  const proc = child;
  const url = `http://127.0.0.1:${port}`;

  const query = async (expr: string): Promise<PrometheusSample[]> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: unknown };
    };
    if (body.status !== 'success' || !body.data) throw new Error(`query ${expr} failed: ${body.error ?? res.status}`);
    if (body.data.resultType === 'vector') {
      return (body.data.result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
    }
    if (body.data.resultType === 'scalar') return [{ labels: {}, value: Number((body.data.result as [number, string])[1]) }];
    throw new Error(`query ${expr}: unsupported result type ${body.data.resultType}`);
  };

  const waitFor = async (expr: string, accept: (s: PrometheusSample[]) => boolean, timeoutMs = 20_000): Promise<PrometheusSample[]> => {
    const deadline = Date.now() + timeoutMs;
    let last: PrometheusSample[] = [];
    for (;;) {
      last = await query(expr);
      if (accept(last)) return last;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${expr}; last result ${JSON.stringify(last)}`);
      await sleep(200);
    }
  };

  let stopped: Promise<void> | undefined;
  return {
    url,
    query,
    waitFor,
    async waitForValue(expr, accept, timeoutMs) {
      const s = await waitFor(expr, (r) => r.length === 1 && accept(r[0]!.value), timeoutMs);
      return s[0]!.value;
    },
    async targets() {
      const res = await fetch(`${url}/api/v1/targets`);
      const body = (await res.json()) as { data: { activeTargets: { scrapeUrl: string; health: string; lastError: string }[] } };
      return body.data.activeTargets.map((t) => ({ scrapeUrl: t.scrapeUrl, health: t.health, lastError: t.lastError }));
    },
    stop() {
      stopped ??= (async () => {
        if (proc.exitCode === null && proc.signalCode === null) {
          const exited = new Promise<void>((r) => proc.once('exit', () => r()));
          proc.kill('SIGTERM');
          const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
    log: () => stderr,
  };
}
