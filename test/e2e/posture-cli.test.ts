/**
 * `lanner posture` end to end: the built CLI scans a temp root (real files, real modes) and prints
 * a kube-bench-compatible JSON document, or the text report.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO } from './agent-harness';

const reason = existsSync(CLI) ? undefined : `${CLI} is missing (run npm run build)`;
if (reason && process.env.CI === 'true') throw new Error(`posture CLI test cannot run: ${reason}`);
if (reason) console.warn(`skipping posture CLI test: ${reason}`);

describe.skipIf(reason !== undefined)('lanner posture', () => {
  let root: string;
  let emptyProc: string;

  const put = (logical: string, text: string, mode: number): void => {
    const real = join(root, logical);
    mkdirSync(dirname(real), { recursive: true });
    writeFileSync(real, text);
    chmodSync(real, mode);
  };
  const posture = (...extra: string[]): ReturnType<typeof spawnSync> =>
    spawnSync(process.execPath, [CLI, 'posture', ...extra, '-o', `posture.root=${root}`, '-o', `posture.proc_root=${emptyProc}`], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'lanner-e2e-posture-'));
    emptyProc = join(root, 'proc');
    mkdirSync(emptyProc);
    put('/etc/kubernetes/manifests/kube-apiserver.yaml', 'kind: Pod\n', 0o644);
    put('/etc/kubernetes/manifests/etcd.yaml', 'kind: Pod\n', 0o600);
    put('/etc/kubernetes/pki/ca.key', 'KEY\n', 0o600);
    put('/etc/kubernetes/pki/ca.crt', 'CRT\n', 0o666);
    put('/etc/passwd', 'root:x:0:0::/root:/bin/sh\n', 0o644);
    put('/etc/group', 'root:x:0:\n', 0o644);
    put('/etc/ssh/sshd_config', 'PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin yes\n', 0o644);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('--json prints Controls and Totals with the file verdicts', () => {
    const r = posture('--json');
    expect(r.status, String(r.stderr)).toBe(0);
    const doc = JSON.parse(String(r.stdout)) as {
      Controls: { id: string; version: string; node_type: string; tests: { section: string; results: { test_number: string; status: string; actual_value: string }[] }[] }[];
      Totals: Record<string, number>;
    };
    const master = doc.Controls.find((c) => c.version === 'cis-1.12' && c.id === '1')!;
    expect(master.node_type).toBe('master');
    const results = master.tests.flatMap((t) => t.results);
    const byId = new Map(results.map((x) => [x.test_number, x]));
    expect(byId.get('1.1.1')).toMatchObject({ status: 'FAIL', actual_value: '/etc/kubernetes/manifests/kube-apiserver.yaml mode 644' });
    expect(byId.get('1.1.7')?.status).toBe('PASS');
    expect(byId.get('1.1.20')?.status).toBe('WARN');
    expect(byId.get('1.1.21')?.status).toBe('PASS');
    expect(doc.Totals.total_fail).toBe(results.filter((x) => x.status === 'FAIL').length);
    // One benchmark per document: the default list is cis-1.12 alone, Lanner's node section is its own document.
    expect(doc.Controls.every((c) => c.version === 'cis-1.12')).toBe(true);
    const extra = JSON.parse(String(r.stdout)) as { benchmark: string; other_reports: { benchmark: string; Controls: typeof doc.Controls; Totals: Record<string, number> }[] };
    expect(extra.benchmark).toBe('cis-1.12');
    expect(extra.other_reports.map((o) => o.benchmark)).toEqual(['lanner-node']);
    const lanner = extra.other_reports[0]!.Controls[0]!.tests.flatMap((t) => t.results);
    expect(lanner.find((x) => x.test_number === 'L.1.1')?.status).toBe('PASS');
    expect(lanner.find((x) => x.test_number === 'L.1.2')).toMatchObject({ status: 'FAIL', actual_value: expect.stringContaining('permitrootlogin yes') });
    expect(extra.other_reports[0]!.Totals.total_fail).toBe(1);
  });

  it('text mode shows failures with their remediation', () => {
    const r = posture();
    expect(r.status, String(r.stderr)).toBe(0);
    expect(String(r.stdout)).toContain('[FAIL] 1.1.1 API server manifest permissions are 600 or more restrictive');
    expect(String(r.stdout)).toMatch(/fix: Run chmod 600/);
    expect(String(r.stdout)).toContain('[lanner-node] L Lanner node hardening (not part of the CIS benchmark)');
    expect(String(r.stdout)).toMatch(/== Summary cis-1\.12: .*==\n== Summary lanner-node: 1 pass, 1 fail/);
  });

  it('--exit-code N fails a pipeline on a FAIL; --benchmark picks the top-level report; bad values are usage errors', () => {
    expect(posture('--json', '--exit-code', '3').status).toBe(3);
    const top = posture('--json', '--benchmark', 'lanner-node');
    expect(top.status, String(top.stderr)).toBe(0);
    expect((JSON.parse(String(top.stdout)) as { benchmark: string }).benchmark).toBe('lanner-node');
    const bad = posture('--exit-code', '300');
    expect(bad.status).toBe(2);
    expect(String(bad.stderr)).toContain("'300' is not an exit code");
    expect(posture('--benchmark', 'cis-9').status).toBe(2);
  });
});
