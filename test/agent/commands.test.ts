/**
 * The CLI commands end to end, as a user runs them: validate (stock Falco files and a broken
 * file), list-fields, posture, and record → replay on the real kernel.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { STOCK_SYSCALL_FILES } from '../support/stock-rules';
import { skipReason } from '../e2e/agent-harness';

const stockFiles = STOCK_SYSCALL_FILES;
const tmp = mkdtempSync(join(tmpdir(), 'lanner-cmd-'));

interface ValidateJson {
  errors: { file: string; line: number; column: number; code: string; message: string }[];
  warnings: unknown[];
  rules: { name: string; evttypes: string[] }[];
}

describe('lanner validate', () => {
  it('loads the three stock Falco files together with zero errors', () => {
    const args = ['validate', '--json'];
    for (const f of stockFiles) args.push('-r', f);
    const r = runCli(args, { timeoutMs: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as ValidateJson;
    expect(out.errors).toEqual([]);
    // 25 stable + 31 incubating + 37 sandbox rules.
    expect(out.rules.length).toBe(93);
    const shell = out.rules.find((x) => x.name === 'Terminal shell in container');
    expect(shell?.evttypes.sort()).toEqual(['execve', 'execveat']);
  });

  it("validates Lanner's default rules with zero errors", () => {
    const r = runCli(['validate']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/\d+ rules, 0 errors/);
  });

  it('names file, line and column of an error and exits 1', () => {
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, ['- rule: Broken', '  desc: a rule with a bad condition', '  condition: evt.type = open and proc.nme = cat', '  output: x', '  priority: WARNING', ''].join('\n'));
    const text = runCli(['validate', '-r', bad]);
    expect(text.code).toBe(1);
    // The unknown field starts at column 34 of line 3: the condition text starts at column 14.
    expect(text.stdout).toContain(`${bad}:3:34`);
    expect(text.stdout).toContain('proc.nme');
    const json = JSON.parse(runCli(['validate', '--json', '-r', bad]).stdout) as ValidateJson;
    expect(json.errors[0]).toMatchObject({ file: bad, line: 3, column: 34 });
  });
});

describe('lanner list-rules', () => {
  interface ListRulesJson {
    rules: { name: string; priority: string; enabled: boolean; evttypes: string[]; tags: string[]; kernelFilter: string }[];
    kernel: { eventTypes: string[]; openFilter: { active: boolean; prefixes?: { prefix: string }[]; comms?: string[]; offBecause?: string } };
  }

  it("says for each stock rule what the kernel filters, and that Falco's files leave the open filter on", () => {
    const args = ['list-rules', '--json'];
    for (const f of stockFiles) args.push('-r', f);
    const r = runCli(args, { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as ListRulesJson;
    expect(out.rules).toHaveLength(93);
    const traversal = out.rules.find((x) => x.name === 'Directory traversal monitored file read')!;
    expect(traversal).toMatchObject({ priority: 'Warning', enabled: true, kernelFilter: 'types+open filter' });
    expect(traversal.tags).toContain('maturity_stable');
    expect(out.rules.find((x) => x.name === 'Terminal shell in container')!.kernelFilter).toBe('types');
    expect(out.kernel.openFilter.active).toBe(true);
    expect(out.kernel.openFilter.comms).toContain('sshd');
    expect(out.kernel.eventTypes).toContain('openat');
  });

  it('names the rule that keeps the open filter off', () => {
    const any = join(tmp, 'any-open.yaml');
    writeFileSync(any, ['- rule: Any open of a key', '  desc: d', '  condition: evt.type = openat and fd.name contains .key', '  output: x', '  priority: WARNING', ''].join('\n'));
    const r = runCli(['list-rules', '-r', any]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("kernel open filter: off (rule 'Any open of a key' can match any open)");
    expect(r.stdout).toContain('kernel: types, open filter off');
    // A suffix is an atom the kernel tests: the same rule on `endswith` keeps the filter on.
    writeFileSync(any, ['- rule: Any open of a key', '  desc: d', '  condition: evt.type = openat and fd.name endswith .key', '  output: x', '  priority: WARNING', ''].join('\n'));
    const bounded = runCli(['list-rules', '-r', any]);
    expect(bounded.stdout).toContain('kernel open filter: on, 0 path prefixes, 1 suffixes, 0 process names');
  });

  it('says per path-changing type whether the kernel filters it, and which rule keeps it open', () => {
    const rules = join(tmp, 'changes.yaml');
    writeFileSync(
      rules,
      [
        '- rule: History removed',
        '  desc: d',
        '  condition: evt.type in (unlink, unlinkat) and evt.arg.name endswith _history',
        '  output: x',
        '  priority: WARNING',
        '- rule: Any rename',
        '  desc: d',
        '  condition: evt.type = rename and not proc.name = mv',
        '  output: x',
        '  priority: WARNING',
        '',
      ].join('\n'),
    );
    const r = runCli(['list-rules', '-r', rules]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('kernel change filter: on, 0 path prefixes, 1 suffixes, 0 process names');
    expect(r.stdout).toContain('  unlinkat: filtered');
    expect(r.stdout).toContain("  rename: every call ships (rule 'Any rename' can match any path)");
    expect(r.stdout).toContain('kernel: types+change filter');
    const json = JSON.parse(runCli(['list-rules', '--json', '-r', rules]).stdout) as { kernel: { changeFilterByType: Record<string, unknown> } };
    expect(json.kernel.changeFilterByType).toMatchObject({ unlinkat: { filtered: true }, rename: { filtered: false, unboundedBy: 'Any rename' } });
  });
});

describe('lanner list-fields', () => {
  it('covers every field family the stock rules use, with types', () => {
    const r = runCli(['list-fields', '--json']);
    expect(r.code).toBe(0);
    const fields = JSON.parse(r.stdout) as { name: string; type: string; description: string }[];
    const names = new Set(fields.map((f) => f.name));
    for (const f of ['evt.type', 'evt.arg', 'proc.name', 'proc.aname', 'proc.cmdline', 'fd.name', 'fd.typechar', 'user.name', 'container.id', 'container.image.repository', 'k8s.ns.name', 'k8s.pod.name']) {
      expect(names, f).toContain(f);
    }
    for (const f of fields) expect(f.description.length, f.name).toBeGreaterThan(0);
    const text = runCli(['list-fields']);
    expect(text.stdout).toContain('proc.name');
  });
});

describe('lanner posture', () => {
  it('prints a JSON report whose totals add up, and a text report', () => {
    // This machine runs no Kubernetes components, so only file checks of files present here
    // (e.g. podman's CNI config) produce results; test/posture covers real component flags.
    const r = runCli(['posture', '--json']);
    expect(r.code, r.stderr).toBe(0);
    // kube-bench's --json shape, plus totals per benchmark.
    type Totals = { total_pass: number; total_fail: number; total_warn: number; total_info: number };
    type Counts = { PASS: number; FAIL: number; WARN: number; INFO: number };
    // One benchmark per document: Totals are the top-level benchmark's.
    const report = JSON.parse(r.stdout) as { benchmark: string; Controls: unknown[]; Totals: Totals; totals_by_benchmark: Record<string, Counts> };
    const perBenchmark = [report.totals_by_benchmark[report.benchmark]!].reduce((acc, s) => acc + s.PASS + s.FAIL + s.WARN + s.INFO, 0);
    expect(Array.isArray(report.Controls)).toBe(true);
    expect(report.Totals.total_pass + report.Totals.total_fail + report.Totals.total_warn + report.Totals.total_info).toBe(perBenchmark);
    const text = runCli(['posture']);
    expect(text.code).toBe(0);
    expect(text.stdout.length).toBeGreaterThan(0);
  });
});

describe('lanner record and replay', () => {
  const reason = skipReason();
  it.skipIf(reason !== undefined)('a capture of a real /etc/shadow read replays into the same alert', async () => {
    const cap = join(tmp, 'shadow.cap');
    const rec = spawn(process.execPath, [join(__dirname, '../../dist/cli.js'), 'record', '-w', cap, '--duration', '6'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let recErr = '';
    const attached = new Promise<void>((resolve) => {
      rec.stderr.on('data', (c: Buffer) => {
        recErr += c.toString();
        if (recErr.includes('"msg":"recording"')) resolve();
      });
    });
    // Once the probe is attached, act: a distinctively named copy of cat reads /etc/shadow.
    await attached;
    const reader = spawn('/bin/sh', ['-c', 'cp /bin/cat /tmp/lanner-replay-cat && /tmp/lanner-replay-cat /etc/shadow > /dev/null']);
    await new Promise((r) => reader.on('exit', r));
    const code = await new Promise((r) => rec.on('exit', r));
    expect(code, recErr).toBe(0);
    expect(statSync(cap).size).toBeGreaterThan(64);

    const r = runCli(['replay', cap], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const alerts = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { rule: string; output_fields: Record<string, unknown> });
    const hit = alerts.find((a) => a.output_fields['proc.name'] === 'lanner-replay-c' || String(a.output_fields['proc.exepath']).endsWith('/lanner-replay-cat'));
    expect(hit, JSON.stringify(alerts.map((a) => a.rule))).toBeDefined();
    expect(hit!.output_fields['fd.name']).toBe('/etc/shadow');
  });

  it('a corrupt capture is a clear error, not a crash', () => {
    const junk = join(tmp, 'junk.cap');
    writeFileSync(junk, Buffer.from('LNRCAP\0\x01 this is not a capture'));
    const r = runCli(['replay', junk]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/capture/i);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    void readFileSync;
  });
});
