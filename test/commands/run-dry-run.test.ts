/**
 * `lanner run --dry-run` through the built CLI: it loads the configuration, the rules and the
 * outputs as the agent would, reports the kernel capture and the rule captures, and exits 0 or
 * non-zero without loading the probe, taking the instance lock or serving metrics.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from '../support/cli';

const tmp = mkdtempSync(join(tmpdir(), 'lanner-dry-run-'));
const SETPRIV = '/usr/bin/setpriv';

function rulesFile(name: string, lines: string[]): string {
  const f = join(tmp, name);
  writeFileSync(f, `${lines.join('\n')}\n`);
  return f;
}

describe('lanner run --dry-run', () => {
  it('reports the rules, outputs and kernel capture and exits 0, starting nothing', () => {
    const runDir = join(tmp, 'run');
    const r = runCli(['run', '--dry-run', '-o', `run_dir=${runDir}`, '-o', 'metrics.enabled=true']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^rules: \d+ rules \(\d+ enabled\) from 1 files, 0 errors/m);
    expect(r.stdout).toContain('outputs: stdout opened');
    // Lanner's default rules read /etc/shadow through openat, and leave the open filter on.
    expect(r.stdout).toMatch(/^kernel capture: \d+ event types: .*\bopenat\b/m);
    expect(r.stdout).toMatch(/open filter: on, \d+ path prefixes/);
    expect(r.stdout).toContain('rule captures: off (capture.enabled is false)');
    expect(r.stdout.trim().split('\n').at(-1)).toBe('dry run: ok (nothing started)');
    // No instance lock: nothing of the running agent was started.
    expect(existsSync(join(runDir, 'lanner.lock'))).toBe(false);
    // No alert and no log line: stdout is the report only, stderr is empty.
    expect(r.stderr).toBe('');
  });

  it.skipIf(!existsSync(SETPRIV) || process.getuid?.() !== 0)('does not need the privileges loading the probe needs', () => {
    const r = spawnSync(SETPRIV, ['--reuid', '65534', '--regid', '65534', '--clear-groups', '--inh-caps=-all', process.execPath, CLI, 'run', '--dry-run', '-o', `run_dir=${join(tmp, 'run-nobody')}`], {
      cwd: tmp,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain('dry run: ok');
  });

  it('names file, line and column of a rule error and exits 1', () => {
    const bad = rulesFile('bad.yaml', ['- rule: Broken', '  desc: d', '  condition: evt.type = openat and proc.nme = cat', '  output: x', '  priority: WARNING']);
    const r = runCli(['run', '--dry-run', '-r', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${bad}:3:36`);
    expect(r.stdout).toContain('proc.nme');
    expect(r.stdout).toContain('dry run: the agent would not start (rules)');
  });

  it('refuses an empty rule set as the agent does', () => {
    const off = rulesFile('off.yaml', ['- rule: Off', '  desc: d', '  condition: evt.type = openat', '  output: x', '  priority: WARNING', '  enabled: false']);
    const r = runCli(['run', '--dry-run', '-r', off]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('refusing an empty rule set');
  });

  it('exits 1 naming the output that cannot be opened', () => {
    const r = runCli(['run', '--dry-run', '-o', 'outputs.file.enabled=true', '-o', 'outputs.file.path=/proc/lanner-alerts.log']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^outputs: cannot open: .*\/proc\/lanner-alerts\.log/m);
    expect(r.stdout).toContain('dry run: the agent would not start (outputs)');
  });

  it('reports the rules that trigger captures, and a capture directory that cannot be used', () => {
    const rules = rulesFile('capture.yaml', [
      '- rule: Shadow read with capture',
      '  desc: d',
      '  condition: evt.type = openat and fd.name = /etc/shadow',
      '  output: shadow read by %proc.name',
      '  priority: WARNING',
      '  capture: true',
      '  capture_duration: 2000',
      '- rule: Passwd read',
      '  desc: d',
      '  condition: evt.type = openat and fd.name = /etc/passwd',
      '  output: passwd read by %proc.name',
      '  priority: WARNING',
    ]);
    const prefix = join(tmp, 'caps', 'lanner');
    const on = runCli(['run', '--dry-run', '-r', rules, '-o', 'capture.enabled=true', '-o', `capture.path_prefix=${prefix}`]);
    expect(on.code, on.stdout).toBe(0);
    expect(on.stdout).toContain(`rule captures: on, 1 rules trigger them (rules): Shadow read with capture; ${prefix}_*.cap, 0 files kept`);
    expect(readdirSync(join(tmp, 'caps'))).toEqual([]);

    const all = runCli(['run', '--dry-run', '-r', rules, '-o', 'capture.enabled=true', '-o', 'capture.mode=all_rules', '-o', `capture.path_prefix=${prefix}`]);
    expect(all.stdout).toContain('2 rules trigger them (all_rules)');

    const off = runCli(['run', '--dry-run', '-r', rules]);
    expect(off.stdout).toContain('rule captures: off (capture.enabled is false; 1 rules have capture: true)');

    const bad = runCli(['run', '--dry-run', '-r', rules, '-o', 'capture.enabled=true', '-o', 'capture.path_prefix=/proc/lanner/cap']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('captures: cannot open: cannot use capture directory /proc/lanner');
  });

  it('is a usage error (2) for an invalid configuration or capture_duration', () => {
    const r = runCli(['run', '--dry-run', '-o', 'capture.mode=sometimes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'capture.mode'");
    const rules = rulesFile('bad-duration.yaml', ['- rule: R', '  desc: d', '  condition: evt.type = openat', '  output: x', '  priority: WARNING', '  capture_duration: 5s']);
    const d = runCli(['run', '--dry-run', '-r', rules]);
    expect(d.code).toBe(1);
    expect(d.stdout).toMatch(new RegExp(`${rules}:6:21: .*capture_duration`));
  });
});
