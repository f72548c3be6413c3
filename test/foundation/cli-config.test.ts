import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseOverride } from '../../src/config';
import { runCli } from '../support/cli';

const tmp = mkdtempSync(join(tmpdir(), 'lanner-config-'));
function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

describe('configuration', () => {
  it('the packaged lanner.yaml is valid on its own', () => {
    const { config, files } = loadConfig({ file: undefined });
    expect(files[0]).toMatch(/lanner\.yaml$/);
    expect(config.rule_matching).toBe('first');
    expect(config.probe.ring_buffer_bytes).toBeGreaterThan(0);
  });

  it("the DaemonSet's node config is valid on top of the packaged defaults", () => {
    const { config } = loadConfig({ file: join(__dirname, '../../deploy/kubernetes/base/config/lanner.yaml') });
    expect(config.rules_files).toEqual(['rules', '/etc/lanner/rules.d']);
    expect((config.metrics as { listen: string }).listen).toBe('0.0.0.0:8766');
  });

  it('a user file only needs the keys it changes', () => {
    const { config } = loadConfig({ file: file('partial.yaml', 'probe:\n  drain_interval_ms: 25\n') });
    expect(config.probe.drain_interval_ms).toBe(25);
    expect(config.probe.ring_buffer_bytes).toBe(16777216);
  });

  it('-o overrides win over the file and parse YAML scalars', () => {
    const { config } = loadConfig({ file: file('o.yaml', 'rule_matching: first\n'), overrides: ['rule_matching=all', 'probe.drop_failed_syscalls=true'] });
    expect(config.rule_matching).toBe('all');
    expect(config.probe.drop_failed_syscalls).toBe(true);
  });

  it('names the key of a wrong value', () => {
    expect(() => loadConfig({ overrides: ['probe.ring_buffer_bytes=lots'] })).toThrow(/'probe\.ring_buffer_bytes': Expected number, received string/);
    expect(() => loadConfig({ overrides: ['rule_matching=some'] })).toThrow(/'rule_matching'/);
    expect(() => loadConfig({ overrides: ['probe.drain_max_latency_ms=0'] })).toThrow(/'probe\.drain_max_latency_ms'/);
    expect(loadConfig({ overrides: ['probe.drain_max_latency_ms=4'] }).config.probe.drain_max_latency_ms).toBe(4);
    expect(() => loadConfig({ overrides: ['probe.drain_gather_min_rate=-1'] })).toThrow(/'probe\.drain_gather_min_rate'/);
    expect(loadConfig({ overrides: ['probe.drain_gather_min_rate=0'] }).config.probe.drain_gather_min_rate).toBe(0);
    expect(() => loadConfig({ overrides: ['priority=loud'] })).toThrow(/'priority': must be one of/);
  });

  it('names unknown keys, nested ones with their path', () => {
    expect(() => loadConfig({ overrides: ['probe.ring_size=1'] })).toThrow(/unknown key 'probe\.ring_size'/);
    expect(() => loadConfig({ file: file('unk.yaml', 'bogus: 1\n') })).toThrow(/unknown key 'bogus'/);
  });

  it('reports YAML syntax errors with file, line and column', () => {
    const bad = file('bad.yaml', 'log:\n  level: info\n   pretty: [\n');
    expect(() => loadConfig({ file: bad })).toThrow(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: `));
  });

  it('rejects a config that is not a mapping, a missing file, and malformed -o', () => {
    expect(() => loadConfig({ file: file('list.yaml', '- a\n- b\n') })).toThrow(/must be a mapping/);
    expect(() => loadConfig({ file: join(tmp, 'nope.yaml') })).toThrow(/does not exist/);
    expect(() => parseOverride('novalue')).toThrow(ConfigError);
    expect(() => parseOverride('bad key=1')).toThrow(/not a key path/);
  });
});

describe('lanner CLI', () => {
  it('--help lists every command', () => {
    const r = runCli(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['run', 'validate', 'list-fields', 'record', 'replay', 'posture', 'version']) {
      expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
    }
  });

  it('every command has --help', () => {
    for (const cmd of ['run', 'validate', 'list-fields', 'record', 'replay', 'posture', 'version']) {
      const r = runCli([cmd, '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toContain(`Usage: lanner ${cmd}`);
    }
  });

  it('unknown options and commands are usage errors (exit 2) with a clear message', () => {
    const a = runCli(['run', '--bogus']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain("unknown option '--bogus'");
    const b = runCli(['frobnicate']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain("unknown command 'frobnicate'");
  });

  it('configuration errors name the key and exit 2 before anything starts', () => {
    const r = runCli(['run', '-o', 'engine.queue_capacity=0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'engine.queue_capacity'");
    expect(r.stdout).toBe('');
  });

  it('record requires -w and a positive duration', () => {
    expect(runCli(['record']).code).toBe(2);
    const r = runCli(['record', '-w', join(tmp, 'x.cap'), '--duration', '-3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not a positive number');
  });

  it('version prints the package version', () => {
    const r = runCli(['version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^lanner 0\.1\.0 /);
  });
});
