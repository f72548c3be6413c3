/**
 * Evasion by aliasing (issue #23 point 8): reading /etc/shadow through a symlink, a symlinked
 * directory, a hard link or /proc/self/root must raise the same alert as reading it by name, with
 * the default rules and with Falco's stock rules; creating a link to it is caught too. The kernel
 * resolves the opened file's inode against the files the rules name (probe.resolve_aliases), so
 * fd.name is the named file and fd.nameraw the name used.
 */
import { linkSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet, metricValue } from '../support/net';
import { STOCK_STABLE } from '../support/stock-rules';
import { AgentHarness, BARRIER_RULES, pidOf, run, skipReason, type AlertRecord } from './agent-harness';

const skip = skipReason();
const SHADOW_RULE = 'Password hashes read by untrusted program';
const LINK_RULE = 'Link to a credential file created';
const STOCK_RULE = 'Read sensitive file untrusted';

/** A directory on /etc's filesystem, so a hard link to /etc/shadow can be made in it. */
function sameFsDir(): string {
  return mkdtempSync('/var/tmp/lanner-e2e-alias-');
}

describe.skipIf(skip !== undefined)('reads of /etc/shadow by another name', () => {
  let agent: AgentHarness;
  let stock: AgentHarness;
  let dir: string;
  let hardlink: string;

  const alertFor = (a: AgentHarness, rule: string, pid: number): Promise<AlertRecord> => a.waitFor((x) => x.rule === rule && pidOf(x) === pid, 15_000);
  const expectNone = async (a: AgentHarness, rule: string, pid: number): Promise<void> => {
    await a.barrier();
    expect(a.find((x) => x.rule === rule && pidOf(x) === pid).map((x) => x.output)).toEqual([]);
  };

  beforeAll(async () => {
    dir = sameFsDir();
    symlinkSync('/etc/shadow', join(dir, 'file-link'));
    symlinkSync('/etc', join(dir, 'etc-link'));
    symlinkSync('/etc/passwd', join(dir, 'passwd-link'));
    symlinkSync('/etc/pam.d', join(dir, 'pam-link'));
    // Made before the agents start: a hard link that already exists is what evades path rules.
    hardlink = join(dir, 'hard');
    linkSync('/etc/shadow', hardlink);
    [agent, stock] = await Promise.all([AgentHarness.start(), AgentHarness.start({ rules: [STOCK_STABLE, BARRIER_RULES] })]);
  });

  afterAll(async () => {
    const exits = await Promise.all([agent?.stop(), stock?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
    for (const exit of exits) if (exit) expect(exit.signal === null ? exit.code : exit.signal).toBe(0);
  });

  it('says how many targets the kernel holds (log and metrics)', async () => {
    const body = (await httpGet(agent.metricsPort, '/metrics')).body;
    expect(metricValue(body, 'lanner_kernel_filter_active', 'filter="alias"')).toBe(1);
    // /etc/shadow, /etc/shadow-, /etc/gshadow… from the default rules: at least /etc/shadow.
    expect(metricValue(body, 'lanner_kernel_filter_entries', 'filter="alias"', 'kind="inode"')).toBeGreaterThan(0);
    expect(stock.stderrTail(200)).toMatch(/"aliasTargets":\{"targets":[1-9]\d*,"overflow":0\}.*"msg":"kernel capture"/);
  });

  const cases: [string, () => string][] = [
    ['a symlink to the file', () => join(dir, 'file-link')],
    ['a symlinked directory', () => join(dir, 'etc-link/shadow')],
    ['a hard link made before the agent started', () => hardlink],
    ['/proc/self/root', () => '/proc/self/root/etc/shadow'],
    ['a relative path through a symlinked directory', () => 'etc-link/shadow'],
  ];

  /**
   * Runs `cat NAME MARKER` (an empty file with a unique name): Falco's stock outputs carry no pid,
   * so their alert is told apart by the marker in its command line.
   */
  let markers = 0;
  const catWithMarker = async (name: string): Promise<{ pid: number; marker: string }> => {
    const marker = join(dir, `marker-${++markers}`);
    writeFileSync(marker, '');
    const c = await run('cat', [name, marker], { cwd: dir });
    expect(c.code).toBe(0);
    return { pid: c.pid, marker };
  };
  const stockAlertFor = (marker: string): Promise<AlertRecord> => stock.waitFor((x) => x.rule === STOCK_RULE && x.output.includes(marker), 15_000);

  for (const [how, name] of cases) {
    it(`default rules: ${how}`, async () => {
      const used = name();
      const c = await catWithMarker(used);
      const a = await alertFor(agent, SHADOW_RULE, c.pid);
      expect(a.output_fields['fd.name']).toBe('/etc/shadow');
      // The name used (the kernel makes a relative one absolute against the cwd).
      expect(a.output_fields['fd.nameraw']).toBe(used.startsWith('/') ? used : join(dir, used));
    });

    it(`Falco's stock rules: ${how}`, async () => {
      const c = await catWithMarker(name());
      const a = await stockAlertFor(c.marker);
      expect(a.output_fields['fd.name']).toBe('/etc/shadow');
    });
  }

  it("Falco's stock rules: a file in a watched directory through a symlinked directory", async () => {
    const c = await catWithMarker(join(dir, 'pam-link/common-auth'));
    const a = await stockAlertFor(c.marker);
    expect(a.output_fields['fd.name']).toBe('/etc/pam.d/common-auth');
  });

  it('benign twin: a symlink to /etc/passwd raises nothing', async () => {
    const c = await catWithMarker(join(dir, 'passwd-link'));
    await expectNone(agent, SHADOW_RULE, c.pid);
    await stock.barrier();
    expect(stock.find((x) => x.output.includes(c.marker)).map((x) => x.output)).toEqual([]);
  });

  it('creating a hard link or a symlink to /etc/shadow alerts; a link to another file does not', async () => {
    const ln = await run('ln', ['/etc/shadow', join(dir, 'hard-2')]);
    expect(ln.code).toBe(0);
    const a = await alertFor(agent, LINK_RULE, ln.pid);
    expect(a.output_fields['fs.path.source']).toBe('/etc/shadow');
    expect(a.output_fields['fs.path.target']).toBe(join(dir, 'hard-2'));
    const rel = await run('ln', ['-s', '../../etc/shadow', join(dir, 'rel-link')]);
    const b = await alertFor(agent, LINK_RULE, rel.pid);
    expect(b.output_fields['evt.type']).toBe('symlinkat');
    const ok = await run('ln', ['/etc/passwd', join(dir, 'passwd-hard')]);
    expect(ok.code).toBe(0);
    await expectNone(agent, LINK_RULE, ok.pid);
  });
});
