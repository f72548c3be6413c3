/**
 * Outputs.reconfigure, what a SIGHUP applies: an unchanged sink is kept (same object, same queue)
 * with its new route; a changed sink is replaced and the old one flushes what it had queued; a
 * removed sink is closed; a new sink that cannot start refuses the whole change and the running
 * sinks stay; rate limits and redaction change at once.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { OutputsConfig } from '../../src/outputs/config';
import { createOutputs, OutputStartError, type AlertShaping } from '../../src/outputs/index';
import { makeAlert, silentLogger } from './helpers';
import { sampleOutputsConfig } from './sample-config';

const dir = mkdtempSync(join(tmpdir(), 'lanner-reconf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const plain: AlertShaping = { redaction: { enabled: false, patterns: [] }, staticFields: {} };
const lines = (f: string): { rule: string; output: string }[] =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { rule: string; output: string });

function fileConfig(path: string, over: Partial<OutputsConfig['file']> = {}): OutputsConfig {
  const c = sampleOutputsConfig();
  c.stdout.enabled = false;
  c.rate_limit.enabled = false;
  c.file = { ...c.file, enabled: true, path, ...over };
  return c;
}

describe('Outputs.reconfigure', () => {
  it('keeps an unchanged sink with its new route, replaces a changed one after it flushed, closes a removed one', async () => {
    const first = join(dir, 'first.json');
    const second = join(dir, 'second.json');
    const outputs = createOutputs(fileConfig(first), { logger: silentLogger, hostname: 'h' }, plain);
    await outputs.start();
    const sink = outputs.sinks[0]!;

    // Routing only: the same sink object takes the new route.
    expect(await outputs.reconfigure(fileConfig(first, { min_priority: 'error' }), plain)).toEqual({ kept: ['file'], added: [], replaced: [], removed: [] });
    expect(outputs.sinks[0]).toBe(sink);
    outputs.publish(makeAlert({ rule: 'Dropped by route', priority: 5 }));

    // 2000 queued alerts, then a new path: the old file gets every one of them before it closes.
    for (let i = 0; i < 2000; i++) outputs.publish(makeAlert({ rule: 'Before', priority: 3 }));
    const report = await outputs.reconfigure(fileConfig(second), plain);
    expect(report).toEqual({ kept: [], added: [], replaced: ['file'], removed: [] });
    expect(outputs.sinks[0]).not.toBe(sink);
    outputs.publish(makeAlert({ rule: 'After' }));
    expect(lines(first).map((l) => l.rule)).toEqual(Array(2000).fill('Before'));
    expect(sink.stats()).toMatchObject({ sent: 2000, dropped: 0, failed: 0 });

    const off = fileConfig(second, { enabled: false });
    expect(await outputs.reconfigure(off, plain)).toEqual({ kept: [], added: [], replaced: [], removed: ['file'] });
    expect(outputs.sinks).toEqual([]);
    expect(lines(second).map((l) => l.rule)).toEqual(['After']);
    await outputs.close(100);
  });

  it('a new sink that cannot start refuses the change; the running sinks stay and keep delivering', async () => {
    const good = join(dir, 'good.json');
    const target = join(dir, 'target.json');
    writeFileSync(target, '');
    const link = join(dir, 'link.json');
    symlinkSync(target, link);
    const outputs = createOutputs(fileConfig(good), { logger: silentLogger, hostname: 'h' }, plain);
    await outputs.start();
    const running = outputs.sinks[0];
    await expect(outputs.reconfigure(fileConfig(link), plain)).rejects.toBeInstanceOf(OutputStartError);
    expect(outputs.sinks).toEqual([running]);
    outputs.publish(makeAlert({ rule: 'Still here' }));
    await outputs.close(1000);
    expect(lines(good).map((l) => l.rule)).toEqual(['Still here']);
  });

  it('gRPC replaced on the same address: the old server closes first, the new one binds it', async () => {
    const socket = join(dir, 'lanner.sock');
    const grpcConfig = (backlog: number): OutputsConfig => {
      const c = sampleOutputsConfig();
      c.stdout.enabled = false;
      c.grpc = { ...c.grpc, enabled: true, bind_address: `unix://${socket}`, backlog_capacity: backlog };
      return c;
    };
    const outputs = createOutputs(grpcConfig(10), { logger: silentLogger, hostname: 'h', version: '1.2.3' }, plain);
    await outputs.start();
    const old = outputs.sinks[0]!;
    expect(await outputs.reconfigure(grpcConfig(20), plain)).toEqual({ kept: [], added: [], replaced: ['grpc'], removed: [] });
    expect(old.healthy).toBe(false);
    expect(outputs.sinks[0]).not.toBe(old);
    expect(outputs.sinks[0]!.healthy).toBe(true);
    await outputs.close(100);
  });

  it('applies rate limits and redaction at once', async () => {
    const path = join(dir, 'limits.json');
    const limited = fileConfig(path);
    limited.rate_limit = { enabled: true, rate: 0.001, burst: 1, max_rules: 10 };
    const outputs = createOutputs(fileConfig(path), { logger: silentLogger, hostname: 'h' }, plain);
    await outputs.start();
    const secret = (): ReturnType<typeof makeAlert> => makeAlert({ rule: 'R', message: 'run app --password=hunter2' });
    expect([outputs.publish(secret()), outputs.publish(secret())]).toEqual([true, true]);
    await outputs.reconfigure(limited, { redaction: { enabled: true, patterns: [] }, staticFields: {} });
    expect([outputs.publish(secret()), outputs.publish(secret())]).toEqual([true, false]);
    await outputs.close(1000);
    expect(lines(path).filter((l) => l.rule === 'R').map((l) => l.output.includes('hunter2'))).toEqual([true, true, false]);
  });
});
