/**
 * Redaction through the real agent on the real kernel: a process whose argv holds secrets runs as
 * a network tool (a default rule alerts on it, with its command line in the output); the raw
 * secrets reach no sink (stdout, the file, an HTTP receiver) while the rest of the command line
 * arrives intact, and every sink got the same alert (same uuid).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentHarness, named, run, skipReason } from '../e2e/agent-harness';
import { waitFor } from '../outputs/helpers';

const reason = skipReason();
const tmp = mkdtempSync(join(tmpdir(), 'lanner-redact-'));
const alertsFile = join(tmp, 'alerts.json');
const secret = `hunter2-${process.pid}-${Date.now()}`;
const token = `tok${process.pid}x${Date.now()}`;

describe.skipIf(reason !== undefined)('redaction through the agent', () => {
  let agent: AgentHarness;
  let server: Server;
  const posted: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        posted.push(body);
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    agent = await AgentHarness.start({
      overrides: ['outputs.file.enabled=true', `outputs.file.path=${alertsFile}`, 'outputs.http.enabled=true', `outputs.http.url=http://127.0.0.1:${port}/`, 'redaction.enabled=true'],
    });
  }, 120_000);
  afterAll(async () => {
    await agent?.stop();
    server?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('no sink sees the raw secrets; the rest of the command line is intact', async () => {
    const nc = named('/bin/true', tmp, 'nc');
    const from = agent.mark();
    const r = await run(nc, [`--password=${secret}`, '-h', 'db.example.com', '--token', token, 'https://admin:' + secret + '@example.com/x', '-z', '8080']);
    const a = await agent.waitFor((x) => x.rule === 'Network tool executed' && Number(x.output_fields['proc.pid']) === r.pid, 15_000, from);
    expect(a.output_fields['proc.cmdline']).toBe(`nc --password=*** -h db.example.com --token *** https://admin:***@example.com/x -z 8080`);
    expect(a.output).toContain('command=nc --password=*** -h db.example.com --token *** https://admin:***@example.com/x -z 8080');
    const uuid = (a as unknown as { uuid: string }).uuid;
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);

    await waitFor(() => posted.some((b) => b.includes(uuid)), 15_000, 'the alert at the HTTP receiver');
    await waitFor(() => readFileSync(alertsFile, 'utf8').includes(uuid), 15_000, 'the alert in the file');
    const sinks: Record<string, string> = { stdout: JSON.stringify(agent.alerts), file: readFileSync(alertsFile, 'utf8'), http: posted.join('\n') };
    for (const [sink, text] of Object.entries(sinks)) {
      expect(text.includes(secret), `${sink} holds the password`).toBe(false);
      expect(text.includes(token), `${sink} holds the token`).toBe(false);
      expect(text, sink).toContain('nc --password=*** -h db.example.com --token ***');
    }
    const httpAlert = JSON.parse(posted.find((b) => b.includes(uuid))!) as { output_fields: Record<string, unknown> };
    expect(httpAlert.output_fields['proc.cmdline']).toBe(a.output_fields['proc.cmdline']);
  });
});
