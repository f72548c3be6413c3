/**
 * SIGHUP re-reads the configuration file through the real agent on the real kernel: a file sink
 * added with its routing starts taking alerts, a changed `priority` unloads the rules below it, a
 * changed ring size is named in the log as needing a restart (and keeps its value), and a broken
 * file is refused with the running configuration kept.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentHarness, named, run, skipReason, type AlertRecord } from '../e2e/agent-harness';
import { waitFor } from '../outputs/helpers';

const reason = skipReason();
const tmp = mkdtempSync(join(tmpdir(), 'lanner-config-reload-'));
const configFile = join(tmp, 'lanner.yaml');
const alertsFile = join(tmp, 'alerts.json');

const fileRules = (): string[] => (existsSync(alertsFile) ? readFileSync(alertsFile, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { rule: string; output_fields: Record<string, unknown> }).rule) : []);
const fileHasPid = (rule: string, pid: number): boolean =>
  existsSync(alertsFile) &&
  readFileSync(alertsFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .some((l) => {
      const a = JSON.parse(l) as { rule: string; output_fields: Record<string, unknown> };
      return a.rule === rule && Number(a.output_fields['proc.pid']) === pid;
    });

describe.skipIf(reason !== undefined)('configuration reload on SIGHUP', () => {
  let agent: AgentHarness;
  /** Log lines so far; each reload waits only for lines logged after it (the log is a few KB). */
  const logLines = (): string[] => agent.stderrTail(100_000).split('\n');
  let linesBefore = 0;
  const waitForLog = async (re: RegExp): Promise<string> => {
    let found: string | undefined;
    await waitFor(() => (found = logLines().slice(linesBefore).find((l) => re.test(l))) !== undefined, 20_000, `a log line matching ${re}`);
    return found!;
  };
  const reload = (yaml: string): void => {
    linesBefore = logLines().length - 1;
    writeFileSync(configFile, yaml);
    agent.signal('SIGHUP');
  };
  const shadowRead = async (): Promise<{ pid: number; alert: AlertRecord }> => {
    const from = agent.mark();
    const r = await run('cat', ['/etc/shadow']);
    const alert = await agent.waitFor((x) => x.rule === 'Password hashes read by untrusted program' && Number(x.output_fields['proc.pid']) === r.pid, 15_000, from);
    return { pid: r.pid, alert };
  };

  beforeAll(async () => {
    writeFileSync(configFile, 'outputs:\n  file: { enabled: false }\n');
    agent = await AgentHarness.start({ configFile });
  }, 120_000);
  afterAll(async () => {
    await agent?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('adds a file sink with its routing, and names the ring size as needing a restart', async () => {
    reload(
      [
        'outputs:',
        `  file: { enabled: true, path: ${alertsFile}, min_priority: warning }`,
        'probe:',
        '  ring_buffer_bytes: 33554432',
        '',
      ].join('\n'),
    );
    const restart = await waitForLog(/configuration changes that need a restart/);
    expect(restart).toContain('probe.ring_buffer_bytes');
    const applied = await waitForLog(/"msg":"configuration reloaded"/);
    expect(JSON.parse(applied)).toMatchObject({ sinks: { added: ['file'] } });
    expect(JSON.parse(applied).changed).toEqual(expect.arrayContaining(['outputs.file.enabled', 'outputs.file.path', 'outputs.file.min_priority']));
    await waitForLog(/"msg":"rules loaded"/);

    const tool = await run(named('/bin/true', tmp, 'nc'), ['-z', 'localhost', '1']);
    const { pid } = await shadowRead();
    await agent.barrier();
    await waitFor(() => fileHasPid('Password hashes read by untrusted program', pid), 15_000, 'the shadow read in the file');
    expect(agent.find((x) => x.rule === 'Network tool executed' && Number(x.output_fields['proc.pid']) === tool.pid)).toHaveLength(1);
    // Notice is below the file's min_priority: stdout has it, the file does not.
    expect(fileRules()).not.toContain('Network tool executed');
  });

  it('a changed priority unloads the rules below it, and back', async () => {
    reload(['outputs:', `  file: { enabled: true, path: ${alertsFile}, min_priority: warning }`, 'priority: warning', ''].join('\n'));
    await waitForLog(/"msg":"configuration reloaded"/);
    await waitForLog(/"msg":"rules loaded"/);
    const nc = named('/bin/true', tmp, 'nc');
    const tool = await run(nc, ['-z', 'localhost', '2']);
    await shadowRead();
    await new Promise((r) => setTimeout(r, 1000));
    expect(agent.find((x) => x.rule === 'Network tool executed' && Number(x.output_fields['proc.pid']) === tool.pid)).toHaveLength(0);

    reload(['outputs:', `  file: { enabled: true, path: ${alertsFile}, min_priority: warning }`, 'priority: debug', ''].join('\n'));
    await waitForLog(/"msg":"rules loaded"/);
    await agent.barrier();
  });

  it('a broken configuration is refused and the running one stays', async () => {
    reload(['outputs:', '  file: { enabled: false, max_bytes: lots }', ''].join('\n'));
    const refused = await waitForLog(/configuration not reloaded/);
    expect(refused).toContain("'outputs.file.max_bytes'");
    expect(refused).toContain('keeping the running configuration');
    // The file sink is still there.
    const { pid } = await shadowRead();
    await waitFor(() => fileHasPid('Password hashes read by untrusted program', pid), 15_000, 'the shadow read in the file');
  });
});
