/**
 * Per-sink routing: min_priority, include lists (every non-empty one must match; within a list any
 * entry) and exclude lists (any entry excludes, and wins over include), over rule names, tags and
 * sources; wired from the outputs section by createOutputs; static fields on every alert.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { PriorityNum } from '../../src/outputs/alert';
import { createOutputs } from '../../src/outputs/index';
import { SinkRoute, type RoutingConfig } from '../../src/outputs/routing';
import { makeAlert, silentLogger, waitFor } from './helpers';
import { sampleOutputsConfig } from './sample-config';

const none = { rules: [], tags: [], sources: [] };
const route = (over: Partial<RoutingConfig>): SinkRoute => new SinkRoute({ min_priority: 'debug', include: none, exclude: none, ...over });
const P = { critical: 2, error: 3, warning: 4, notice: 5 } as const;

describe('SinkRoute', () => {
  it('min_priority lets through that priority and anything more severe', () => {
    const r = route({ min_priority: 'Error' });
    expect([P.critical, P.error, P.warning, P.notice].map((p) => r.accepts(makeAlert({ priority: p as PriorityNum })))).toEqual([true, true, false, false]);
    expect(route({ min_priority: 'info' }).minPriority).toBe(6);
  });

  it('include: each non-empty list must match, any entry of a list does', () => {
    const r = route({ include: { rules: ['A', 'B'], tags: ['shell', 'net'], sources: [] } });
    expect(r.accepts(makeAlert({ rule: 'A', tags: ['net'] }))).toBe(true);
    expect(r.accepts(makeAlert({ rule: 'B', tags: ['x', 'shell'] }))).toBe(true);
    expect(r.accepts(makeAlert({ rule: 'C', tags: ['shell'] }))).toBe(false);
    expect(r.accepts(makeAlert({ rule: 'A', tags: ['x'] }))).toBe(false);
    const bySource = route({ include: { rules: [], tags: [], sources: ['k8s_audit'] } });
    expect(bySource.accepts(makeAlert({ source: 'k8s_audit' }))).toBe(true);
    expect(bySource.accepts(makeAlert({ source: 'syscall' }))).toBe(false);
  });

  it('exclude: any entry excludes, and wins over include', () => {
    const r = route({ include: { rules: [], tags: ['shell'], sources: [] }, exclude: { rules: ['Noisy'], tags: ['test'], sources: ['internal'] } });
    expect(r.accepts(makeAlert({ rule: 'Quiet', tags: ['shell'] }))).toBe(true);
    expect(r.accepts(makeAlert({ rule: 'Noisy', tags: ['shell'] }))).toBe(false);
    expect(r.accepts(makeAlert({ rule: 'Quiet', tags: ['shell', 'test'] }))).toBe(false);
    expect(r.accepts(makeAlert({ rule: 'Quiet', tags: ['shell'], source: 'internal' }))).toBe(false);
  });
});

describe('createOutputs routing', () => {
  it('Critical to HTTP, everything to the file; static fields on every alert', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lanner-routing-'));
    const posted: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        posted.push(body);
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const config = sampleOutputsConfig();
      config.stdout.enabled = false;
      config.rate_limit.enabled = false;
      config.file = { ...config.file, enabled: true, path: join(dir, 'alerts.json') };
      config.http = { ...config.http, enabled: true, url: `http://127.0.0.1:${port}/`, min_priority: 'critical' };
      const outputs = createOutputs(config, { logger: silentLogger, hostname: 'node-1' }, { redaction: { enabled: false, patterns: [] }, staticFields: { cluster: 'prod-eu', zone: 3 } });
      await outputs.start();
      outputs.publish(makeAlert({ rule: 'Crit', priority: 2 }));
      outputs.publish(makeAlert({ rule: 'Warn', priority: 4 }));
      outputs.publish(makeAlert({ rule: 'Emerg', priority: 0 }));
      await waitFor(() => posted.length >= 2, 5000, 'two posts');
      await outputs.close(2000);
      const file = readFileSync(join(dir, 'alerts.json'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { rule: string; output_fields: Record<string, unknown> });
      expect(file.map((a) => a.rule)).toEqual(['Crit', 'Warn', 'Emerg']);
      expect(posted.map((b) => (JSON.parse(b) as { rule: string }).rule)).toEqual(['Crit', 'Emerg']);
      expect(file[1]!.output_fields).toMatchObject({ 'static.cluster': 'prod-eu', 'static.zone': 3, 'proc.name': 'bash' });
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
