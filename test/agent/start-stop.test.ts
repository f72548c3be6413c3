/**
 * Start and stop under hostile conditions, on the real kernel (issue 23, points 4 and 5):
 * SIGTERM with thousands of matching events still in the ring and the engine queue (every one
 * becomes an alert before exit, and nothing is logged after "stopped"); a taken metrics port with
 * the gRPC and file sinks on (one line, exit 1, nothing left behind); a second agent (stopped by
 * the instance lock naming the first one's pid, and by the gRPC socket check when it uses another
 * run directory) that must not take the first one's socket; `/readyz` turning 503 when an output
 * fails.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentHarness, CLI, DEFAULT_RULES, REPO, run, skipReason } from '../e2e/agent-harness';
import { AGENT_NODE_FLAGS } from '../support/agent-node-flags';
import { freeLoopbackPort, httpGet } from '../support/net';

const reason = skipReason();
const tmp = mkdtempSync(join(tmpdir(), 'lanner-startstop-'));
const PYTHON = '/usr/bin/python3';

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs `lanner run` with these arguments until it exits on its own (killed after `timeoutMs`). */
function runAgentToExit(args: readonly string[], timeoutMs = 60_000): Promise<Exit> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, CLI, 'run', ...args], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, ms: Date.now() - t0 });
    });
  });
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(path);
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
}

const noStack = (stderr: string): void => {
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toContain('"stack"');
};

describe.skipIf(reason !== undefined)('shutdown with a backlog', () => {
  const marker = join(tmp, 'backlog-marker');
  const rules = join(tmp, 'backlog.yaml');
  const opens = 50_000;
  writeFileSync(marker, 'x\n');
  writeFileSync(
    rules,
    ['- rule: Backlog marker opened', '  desc: d', `  condition: evt.type in (open, openat, openat2) and fd.name = "${marker}"`, '  output: backlog marker opened (file=%fd.name)', '  priority: NOTICE', ''].join('\n'),
  );

  /**
   * Freezes the agent, lets the kernel queue `opens` matching opens, then wakes it with SIGTERM
   * already pending. Waking, it takes the ring into its engine queue (a 1 ms evaluation slice
   * leaves nearly all of it queued) before it sees the signal: the stop starts with a backlog.
   */
  async function stopWithBacklog(deadlineMs: number): Promise<{ agent: AgentHarness; got: number; lines: string[] }> {
    // Listed first: with rule_matching=first no default rule can take the marker's opens.
    const agent = await AgentHarness.start({
      rules: [rules, ...DEFAULT_RULES],
      overrides: ['outputs.stdout.queue_capacity=200000', 'probe.ring_buffer_bytes=67108864', 'engine.slice_ms=1', `outputs.shutdown_deadline_ms=${deadlineMs}`],
    });
    try {
      const from = agent.mark();
      agent.signal('SIGSTOP');
      const r = await run(PYTHON, ['-c', 'import os,sys\nfor _ in range(int(sys.argv[2])): os.close(os.open(sys.argv[1], os.O_RDONLY))', marker, String(opens)]);
      expect(r.code, r.stderr).toBe(0);
      agent.signal('SIGTERM');
      agent.signal('SIGCONT');
      const exit = await agent.waitForExit(120_000);
      expect(exit, agent.stderrTail()).toEqual({ code: 0, signal: null });
      const got = agent.find((a) => a.seq >= from && a.rule === 'Backlog marker opened' && a.output_fields['fd.name'] === marker).length;
      return { agent, got, lines: agent.stderrTail(400).trim().split('\n') };
    } finally {
      agent.signal('SIGCONT');
      await agent.stop();
    }
  }

  const logLine = (lines: readonly string[], msg: string): Record<string, unknown> | undefined => {
    const l = lines.find((x) => x.includes(`"msg":"${msg}"`));
    return l === undefined ? undefined : (JSON.parse(l) as Record<string, unknown>);
  };

  it('every matching event delivered before SIGTERM becomes an alert before exit, and nothing follows "stopped"', async () => {
    const { got, lines } = await stopWithBacklog(60_000);
    const queued = Number(logLine(lines, 'shutting down')?.queued);
    const stopped = logLine(lines, 'stopped')!;
    console.log(`shutdown backlog: ${queued} events queued at SIGTERM, ${Number(stopped.evaluated)} evaluated during the stop; ${got}/${opens} alerts delivered`);
    expect(queued).toBeGreaterThan(opens / 2);
    expect(Number(stopped.evaluated)).toBeGreaterThanOrEqual(queued);
    expect(got).toBe(opens);
    expect(lines[lines.length - 1]).toContain('"msg":"stopped"');
    expect(logLine(lines, 'not everything was flushed at shutdown')).toBeUndefined();
  }, 240_000);

  it('what the outputs deadline cuts off is reported, per sink, before "stopped"', async () => {
    const { got, lines } = await stopWithBacklog(20);
    const report = logLine(lines, 'not everything was flushed at shutdown');
    expect(report, lines.slice(-5).join('\n')).toBeDefined();
    const lost = Number((report!.alertsLost as Record<string, number>).stdout);
    console.log(`shutdown deadline 20 ms: ${got} alerts delivered, ${lost} reported lost by stdout`);
    expect(lost).toBeGreaterThan(0);
    expect(got + lost).toBeGreaterThanOrEqual(opens);
    expect(lines[lines.length - 1]).toContain('"msg":"stopped"');
  }, 240_000);
});

describe.skipIf(reason !== undefined)('start-up failures', () => {
  let taken: Server;
  let takenPort = 0;
  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    takenPort = (taken.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

  it('a taken metrics port with the gRPC and file sinks on: one line, exit 1, nothing left behind', async () => {
    const dir = mkdtempSync(join(tmp, 'port-'));
    const sock = join(dir, 'lanner.sock');
    const exit = await runAgentToExit([
      '-o', `run_dir=${join(dir, 'run')}`,
      '-o', `metrics.listen=127.0.0.1:${takenPort}`,
      '-o', 'outputs.grpc.enabled=true',
      '-o', `outputs.grpc.bind_address=unix://${sock}`,
      '-o', 'outputs.file.enabled=true',
      '-o', `outputs.file.path=${join(dir, 'alerts.json')}`,
      '-o', 'log.pretty=false',
    ]);
    expect(exit.code, exit.stderr).toBe(1);
    expect(exit.signal).toBeNull();
    const fatal = exit.stderr.split('\n').filter((l) => l.includes('"level":60'));
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toContain(`cannot start: metrics: cannot listen on 127.0.0.1:${takenPort} (metrics.listen): the address is already in use`);
    noStack(exit.stderr);
    expect(fatal[0]).toContain('"step":"metrics"');
    // The probe was loaded (its capture logged) and went with the process; the socket and the
    // lock are removed.
    expect(exit.stderr).toContain('"msg":"kernel capture"');
    expect(existsSync(sock)).toBe(false);
    expect(existsSync(join(dir, 'run', 'lanner.lock'))).toBe(false);
    console.log(`taken metrics port: exit ${exit.code} after ${exit.ms} ms`);
  }, 90_000);
});

describe.skipIf(reason !== undefined)('a second instance', () => {
  const dir = mkdtempSync(join(tmp, 'second-'));
  const runDir = join(dir, 'run');
  const sock = join(dir, 'lanner.sock');
  let first: AgentHarness;
  let deadPort = 0;
  beforeAll(async () => {
    deadPort = await freeLoopbackPort();
    first = await AgentHarness.start({
      overrides: [
        `run_dir=${runDir}`,
        'outputs.grpc.enabled=true',
        `outputs.grpc.bind_address=unix://${sock}`,
        // An http output nobody answers: it turns unhealthy at its first alert.
        'outputs.http.enabled=true',
        `outputs.http.url=http://127.0.0.1:${deadPort}/`,
        'outputs.shutdown_deadline_ms=1000',
      ],
    });
  }, 90_000);
  afterAll(async () => {
    await first?.stop();
  });

  it('stops at the instance lock, naming the first one by pid, even on another metrics port', async () => {
    const inode = statSync(sock).ino;
    const port = await freeLoopbackPort();
    const exit = await runAgentToExit(['-o', `run_dir=${runDir}`, '-o', `metrics.listen=127.0.0.1:${port}`, '-o', 'outputs.grpc.enabled=true', '-o', `outputs.grpc.bind_address=unix://${sock}`]);
    expect(exit.code, exit.stderr).toBe(1);
    expect(exit.stderr).toContain(`another lanner is running on this host (pid ${first.pid}, holding ${join(runDir, 'lanner.lock')})`);
    noStack(exit.stderr);
    // It stopped before binding or loading anything.
    expect(exit.stderr).not.toContain('gRPC outputs API listening');
    expect(exit.stderr).not.toContain('"msg":"kernel capture"');
    expect(statSync(sock).ino).toBe(inode);
    expect(await socketAnswers(sock)).toBe(true);
    expect((await httpGet(first.metricsPort, '/healthz')).status).toBe(200);
  }, 90_000);

  it("with its own run directory, still leaves the first one's gRPC socket alone", async () => {
    const inode = statSync(sock).ino;
    const port = await freeLoopbackPort();
    const exit = await runAgentToExit(['-o', `run_dir=${join(dir, 'other-run')}`, '-o', `metrics.listen=127.0.0.1:${port}`, '-o', 'outputs.grpc.enabled=true', '-o', `outputs.grpc.bind_address=unix://${sock}`]);
    expect(exit.code, exit.stderr).toBe(1);
    expect(exit.stderr).toContain(`${sock}: in use by another process`);
    noStack(exit.stderr);
    expect(statSync(sock).ino).toBe(inode);
    expect(await socketAnswers(sock)).toBe(true);
  }, 90_000);

  it('/readyz names the outputs once an output fails', async () => {
    // The barrier's alert reaches the dead http endpoint.
    await first.barrier();
    const deadline = Date.now() + 15_000;
    let ready = await httpGet(first.metricsPort, '/readyz');
    while (ready.status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      ready = await httpGet(first.metricsPort, '/readyz');
    }
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ status: 'not ready', failing: ['outputs'] });
  }, 60_000);
});
