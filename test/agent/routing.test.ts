/**
 * Per-sink routing and alert identity through the real agent on the real kernel: everything to
 * the file; to HTTP only Warning or worse with a `credentials` tag. A shadow read (Warning,
 * credentials) reaches both, a network tool (Notice) only the file (and stdout). Every alert
 * carries the agent's id, a UUID and a sequence number; the file, which takes everything, sees
 * them without a gap, and the same alert has the same uuid and seq in every sink. append_output
 * and static_fields given on the command line shape the alerts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentHarness, named, run, skipReason } from '../e2e/agent-harness';
import { waitFor } from '../outputs/helpers';

const reason = skipReason();
const tmp = mkdtempSync(join(tmpdir(), 'lanner-routing-'));
const alertsFile = join(tmp, 'alerts.json');

interface Delivered {
  readonly rule: string;
  readonly priority: string;
  readonly tags: string[];
  readonly uuid: string;
  readonly seq: number;
  readonly agent_id: string;
  readonly output_fields: Record<string, unknown>;
}
const parseLines = (text: string): Delivered[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Delivered);

describe.skipIf(reason !== undefined)('routing and identity through the agent', () => {
  let agent: AgentHarness;
  let server: Server;
  const posted: Delivered[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        posted.push(JSON.parse(body) as Delivered);
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    agent = await AgentHarness.start({
      overrides: [
        'outputs.file.enabled=true',
        `outputs.file.path=${alertsFile}`,
        'outputs.http.enabled=true',
        `outputs.http.url=http://127.0.0.1:${port}/`,
        'outputs.http.min_priority=warning',
        'outputs.http.include.tags=[credentials]',
        'static_fields={cluster: e2e-cluster}',
        'append_output=[{match: {tags: [network]}, extra_output: "on CPU %evt.cpu", extra_fields: [proc.pid, {team: "team %user.name"}]}]',
      ],
    });
  }, 120_000);
  afterAll(async () => {
    await agent?.stop();
    server?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('routes each alert to the sinks whose filters take it', async () => {
    const from = agent.mark();
    const shadow = await run('cat', ['/etc/shadow']);
    const tool = await run(named('/bin/true', tmp, 'nmap'), ['-sn', '10.0.0.0/30']);
    const read = await agent.waitFor((x) => x.rule === 'Password hashes read by untrusted program' && Number(x.output_fields['proc.pid']) === shadow.pid, 15_000, from);
    const net = await agent.waitFor((x) => x.rule === 'Network tool executed' && Number(x.output_fields['proc.pid']) === tool.pid, 15_000, from);
    const readId = (read as unknown as Delivered).uuid;
    const netId = (net as unknown as Delivered).uuid;
    await waitFor(() => posted.some((p) => p.uuid === readId), 15_000, 'the shadow read at the HTTP receiver');
    await agent.barrier();
    await waitFor(() => readFileSync(alertsFile, 'utf8').includes(netId), 15_000, 'the network tool in the file');

    expect(posted.some((p) => p.uuid === netId)).toBe(false);
    for (const p of posted) {
      expect(['Emergency', 'Alert', 'Critical', 'Error', 'Warning']).toContain(p.priority);
      expect(p.tags).toContain('credentials');
    }
    const file = parseLines(readFileSync(alertsFile, 'utf8'));
    expect(file.some((f) => f.uuid === readId)).toBe(true);
    expect(file.some((f) => f.uuid === netId)).toBe(true);

    // Identity: one agent id; the file takes everything, so its sequence has no gap.
    const agentIds = new Set([...file, ...posted].map((f) => f.agent_id));
    expect(agentIds.size).toBe(1);
    expect([...agentIds][0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(file.map((f) => f.seq)).toEqual(file.map((_f, i) => file[0]!.seq + i));
    expect(new Set(file.map((f) => f.uuid)).size).toBe(file.length);
    const inFile = file.find((f) => f.uuid === readId)!;
    const atHttp = posted.find((p) => p.uuid === readId)!;
    expect(atHttp.seq).toBe(inFile.seq);
    expect((read as unknown as Delivered).agent_id).toBe(inFile.agent_id);
  });

  it('append_output on the rules it matches, static fields on every alert', async () => {
    const from = agent.mark();
    const tool = await run(named('/bin/true', tmp, 'nmap'), ['-sn', '10.0.0.4/30']);
    const shadow = await run('cat', ['/etc/shadow']);
    const net = await agent.waitFor((x) => x.rule === 'Network tool executed' && Number(x.output_fields['proc.pid']) === tool.pid, 15_000, from);
    const read = await agent.waitFor((x) => x.rule === 'Password hashes read by untrusted program' && Number(x.output_fields['proc.pid']) === shadow.pid, 15_000, from);
    expect(net.output).toMatch(/ on CPU \d+$/);
    expect(net.output_fields).toMatchObject({ 'static.cluster': 'e2e-cluster', team: 'team root', 'proc.pid': tool.pid });
    expect(typeof net.output_fields['evt.cpu']).toBe('number');
    // The shadow rule has no network tag: static fields only.
    expect(read.output).not.toContain('on CPU');
    expect(read.output_fields['static.cluster']).toBe('e2e-cluster');
    expect(read.output_fields).not.toHaveProperty('team');
  });
});
