/**
 * Default rules, host side: each rule's action is performed for real on this machine and the
 * running agent must raise exactly that rule for the acting process; a benign look-alike must not.
 */
import { createServer, type Server } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentHarness, buildActTool, named, pidOf, run, skipReason, type AlertRecord } from './agent-harness';

const skip = skipReason();
const ID = `${process.pid}-${Date.now()}`;

describe.skipIf(skip !== undefined)('default rules on the host', () => {
  let agent: AgentHarness;
  let tmp: string;
  let act: string;
  let listener: Server;
  let listenPort = 0;
  /** Files and directories this test created outside its temp dir, removed at the end. */
  const created: string[] = [];

  const makeDir = (dir: string): void => {
    const missing: string[] = [];
    for (let d = dir; !existsSync(d); d = dirname(d)) missing.push(d);
    mkdirSync(dir, { recursive: true });
    created.push(...missing);
  };
  const makeFile = (path: string, text = 'lanner e2e\n'): string => {
    makeDir(dirname(path));
    writeFileSync(path, text);
    created.push(path);
    return path;
  };

  /** The alert of `rule` raised for process `pid`. */
  const alertFor = (rule: string, pid: number, timeoutMs = 15_000): Promise<AlertRecord> => agent.waitFor((a) => a.rule === rule && pidOf(a) === pid, timeoutMs);
  /** After a barrier: no alert of `rule` for `pid`. */
  const expectNone = async (rule: string, pred: (a: AlertRecord) => boolean): Promise<void> => {
    await agent.barrier();
    expect(agent.find((a) => a.rule === rule && pred(a)).map((a) => a.output)).toEqual([]);
  };

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'lanner-e2e-host-'));
    act = buildActTool(tmp);
    listener = createServer((s) => s.on('error', () => undefined).end());
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
    listenPort = (listener.address() as { port: number }).port;
    agent = await AgentHarness.start();
  });

  afterAll(async () => {
    const exit = agent ? await agent.stop() : undefined;
    listener?.close();
    for (const p of [...created].reverse()) rmSync(p, { recursive: true, force: true });
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    if (exit) expect(exit.signal === null ? exit.code : exit.signal).toBe(0);
  });

  it('Kubernetes control plane configuration modified: write and rename in the manifests dir', async () => {
    makeDir('/etc/kubernetes/manifests');
    const file = `/etc/kubernetes/manifests/lanner-e2e-${ID}.yaml`;
    created.push(file, `${file}.moved`);
    const w = await run('sh', ['-c', `echo 'kind: Pod' > ${file}`]);
    const a = await alertFor('Kubernetes control plane configuration modified', w.pid);
    expect(a.output_fields['fd.name']).toBe(file);
    expect(a.priority).toBe('Error');
    expect(a.tags).toContain('T1543');
    const mv = await run('mv', [file, `${file}.moved`]);
    const b = await alertFor('Kubernetes control plane configuration modified', mv.pid);
    expect(b.output_fields['evt.arg.oldpath']).toBe(file);
    // Benign: reading a manifest.
    const r = await run('cat', [`${file}.moved`]);
    await expectNone('Kubernetes control plane configuration modified', (x) => pidOf(x) === r.pid);
  });

  it('Audit log deleted or truncated', async () => {
    const log = makeFile(`/var/log/kubernetes/audit.log`, '{"kind":"Event"}\n');
    const t = await run('truncate', ['-s', '0', log]);
    const a = await alertFor('Audit log deleted or truncated', t.pid);
    expect(a.priority).toBe('Critical');
    expect([a.output_fields['fd.name'], a.output_fields['evt.arg.path']]).toContain(log);
    const rm = await run('rm', ['-f', log]);
    const b = await alertFor('Audit log deleted or truncated', rm.pid);
    expect(b.output_fields['evt.arg.name']).toBe(log);
    // Benign: appending to it.
    const app = await run('sh', ['-c', `echo '{}' >> ${log}`]);
    await expectNone('Audit log deleted or truncated', (x) => pidOf(x) === app.pid);
  });

  it('System log deleted or truncated', async () => {
    const log = makeFile(`/var/log/lanner-e2e-${ID}.log`, 'line\n');
    const t = await run('sh', ['-c', `: > ${log}`]);
    const a = await alertFor('System log deleted or truncated', t.pid);
    expect(a.output_fields['fd.name']).toBe(log);
    expect(String(a.output_fields['evt.arg.flags'])).toContain('O_TRUNC');
    const app = await run('sh', ['-c', `echo more >> ${log}`]);
    await expectNone('System log deleted or truncated', (x) => pidOf(x) === app.pid);
  });

  it('SSH daemon configuration modified', async () => {
    makeDir('/etc/ssh/sshd_config.d');
    const conf = `/etc/ssh/sshd_config.d/lanner-e2e-${ID}.conf`;
    created.push(conf);
    const w = await run('sh', ['-c', `echo '# lanner e2e' > ${conf}`]);
    const a = await alertFor('SSH daemon configuration modified', w.pid);
    expect(a.output_fields['fd.name']).toBe(conf);
    const r = await run('cat', [conf]);
    await expectNone('SSH daemon configuration modified', (x) => pidOf(x) === r.pid);
  });

  it('Password hashes read by untrusted program', async () => {
    const c = await run('cat', ['/etc/shadow']);
    const a = await alertFor('Password hashes read by untrusted program', c.pid);
    expect(a.output_fields).toMatchObject({ 'fd.name': '/etc/shadow', 'proc.name': 'cat' });
    const ok = await run('cat', ['/etc/passwd']);
    await expectNone('Password hashes read by untrusted program', (x) => pidOf(x) === ok.pid);
  });

  it('Kubernetes PKI private key read', async () => {
    const key = makeFile(`/etc/kubernetes/pki/lanner-e2e-${ID}.key`, 'not a key\n');
    const c = await run('cat', [key]);
    const a = await alertFor('Kubernetes PKI private key read', c.pid);
    expect(a.output_fields['fd.name']).toBe(key);
    expect(a.priority).toBe('Critical');
    // Benign: the API server reading its own key.
    const apiserver = named('/bin/cat', join(tmp, 'cp'), 'kube-apiserver');
    const ok = await run(apiserver, [key]);
    await expectNone('Kubernetes PKI private key read', (x) => pidOf(x) === ok.pid);
  });

  it('etcd data accessed by non-etcd process', async () => {
    const db = makeFile(`/var/lib/etcd/lanner-e2e-${ID}/member/snap/db`, 'bbolt\n');
    const c = await run('cat', [db]);
    const a = await alertFor('etcd data accessed by non-etcd process', c.pid);
    expect(a.output_fields['fd.name']).toBe(db);
    const etcd = named('/bin/cat', join(tmp, 'etcd-bin'), 'etcd');
    const ok = await run(etcd, [db]);
    await expectNone('etcd data accessed by non-etcd process', (x) => pidOf(x) === ok.pid);
  });

  it('Kubelet credentials read', async () => {
    const pem = makeFile(`/var/lib/kubelet/pki/lanner-e2e-${ID}.pem`, 'pem\n');
    const c = await run('cat', [pem]);
    const a = await alertFor('Kubelet credentials read', c.pid);
    expect(a.output_fields['fd.name']).toBe(pem);
    const kubelet = named('/bin/cat', join(tmp, 'kubelet-bin'), 'kubelet');
    const ok = await run(kubelet, [pem]);
    await expectNone('Kubelet credentials read', (x) => pidOf(x) === ok.pid);
  });

  it('SSH host private key read', async () => {
    const key = makeFile(`/etc/ssh/ssh_host_lanner${process.pid}_key`, 'not a key\n');
    const pub = makeFile(`${key}.pub`, 'ssh-ed25519 AAAA lanner\n');
    const c = await run('cat', [key]);
    const a = await alertFor('SSH host private key read', c.pid);
    expect(a.output_fields['fd.name']).toBe(key);
    const ok = await run('cat', [pub]);
    await expectNone('SSH host private key read', (x) => pidOf(x) === ok.pid);
  });

  it('Write below binary directory (package managers excepted)', async () => {
    const bin = `/usr/local/bin/lanner-e2e-${ID}`;
    const benign = `${bin}-dpkg`;
    created.push(bin, benign);
    const w = await run('sh', ['-c', `echo '#!/bin/sh' > ${bin}`]);
    const a = await alertFor('Write below binary directory', w.pid);
    expect(a.output_fields['fd.name']).toBe(bin);
    const dpkg = named(act, join(tmp, 'pm'), 'dpkg');
    const ok = await run(dpkg, ['write', benign]);
    expect(ok.code).toBe(0);
    await expectNone('Write below binary directory', (x) => pidOf(x) === ok.pid);
  });

  it('Write below /etc (package managers excepted)', async () => {
    const conf = `/etc/lanner-e2e-${ID}.conf`;
    const benign = `/etc/lanner-e2e-${ID}-dpkg.conf`;
    created.push(conf, benign);
    const w = await run('sh', ['-c', `echo x > ${conf}`]);
    const a = await alertFor('Write below /etc', w.pid);
    expect(a.output_fields['fd.name']).toBe(conf);
    const dpkg = named(act, join(tmp, 'pm'), 'dpkg');
    const ok = await run(dpkg, ['write', benign]);
    expect(ok.code).toBe(0);
    await expectNone('Write below /etc', (x) => pidOf(x) === ok.pid);
  });

  it('Setuid or setgid bit set on a file', async () => {
    const f = join(tmp, 'suid-me');
    writeFileSync(f, '');
    const c = await run('chmod', ['u+s,g+s', f]);
    const a = await alertFor('Setuid or setgid bit set on a file', c.pid);
    expect(String(a.output_fields['evt.arg.mode'])).toContain('S_ISUID');
    expect(a.output_fields['evt.arg.filename']).toBe(f);
    const ok = await run('chmod', ['755', f]);
    await expectNone('Setuid or setgid bit set on a file', (x) => pidOf(x) === ok.pid);
  });

  it('Kernel module load (kube-proxy modprobe excepted)', async () => {
    const r = await run(act, ['init-module']);
    const a = await alertFor('Kernel module load', r.pid);
    expect(a.output_fields['evt.type']).toBe('init_module');
    expect(a.priority).toBe('Critical');
    const dir = join(tmp, 'kp');
    const modprobe = named(act, dir, 'modprobe');
    const kubeProxy = named(act, dir, 'kube-proxy');
    const mark = agent.mark();
    await run(kubeProxy, ['spawn', modprobe, 'init-module']);
    await expectNone('Kernel module load', (x) => x.seq >= mark && x.output_fields['proc.name'] === 'modprobe');
  });

  it('BPF program loaded by unexpected process', async () => {
    const r = await run(act, ['bpf-prog-load']);
    expect(r.stdout).toContain('ok');
    const a = await alertFor('BPF program loaded by unexpected process', r.pid);
    expect(a.output_fields['evt.arg.cmd']).toBe('BPF_PROG_LOAD');
    const ok = await run(act, ['bpf-map-create']);
    await expectNone('BPF program loaded by unexpected process', (x) => pidOf(x) === ok.pid);
  });

  it('Process attached with ptrace', async () => {
    const r = await run(act, ['ptrace-attach']);
    const a = await alertFor('Process attached with ptrace', r.pid);
    expect(a.output_fields['evt.arg.request']).toBe('PTRACE_ATTACH');
    const ok = await run(act, ['ptrace-traceme']);
    await expectNone('Process attached with ptrace', (x) => pidOf(x) === ok.pid);
  });

  it('Memory of another process written', async () => {
    const r = await run(act, ['vm-write-other']);
    const a = await alertFor('Memory of another process written', r.pid);
    expect(Number(a.output_fields['evt.arg.pid'])).not.toBe(r.pid);
    const ok = await run(act, ['vm-write-self']);
    await expectNone('Memory of another process written', (x) => pidOf(x) === ok.pid);
  });

  it('Memory of another process read', async () => {
    const r = await run(act, ['vm-read-other']);
    const a = await alertFor('Memory of another process read', r.pid);
    expect(Number(a.output_fields['evt.arg.pid'])).not.toBe(r.pid);
    const ok = await run(act, ['vm-read-self']);
    await expectNone('Memory of another process read', (x) => pidOf(x) === ok.pid);
  });

  it('File descriptor taken from another process', async () => {
    const r = await run(act, ['pidfd-getfd']);
    const a = await alertFor('File descriptor taken from another process', r.pid);
    expect(Number(a.output_fields['evt.arg.target_fd'])).toBe(1);
    // Benign: a pidfd alone (how service managers wait for a process) takes nothing.
    const ok = await run(act, ['pidfd-open']);
    await expectNone('File descriptor taken from another process', (x) => pidOf(x) === ok.pid);
  });

  it('Kernel replacement attempted with kexec', async () => {
    const r = await run(act, ['kexec']);
    const a = await alertFor('Kernel replacement attempted with kexec', r.pid);
    expect(a.priority).toBe('Critical');
    // Refused (EINVAL for the flags, or ENOSYS on a kernel built without kexec, as here): the attempt is reported.
    expect(a.output_fields['evt.res']).not.toBe('SUCCESS');
    // Benign: asking which kernel runs.
    const ok = await run('uname', ['-r']);
    await expectNone('Kernel replacement attempted with kexec', (x) => pidOf(x) === ok.pid);
  });

  it('io_uring set up by an unexpected program', async () => {
    const r = await run(act, ['io-uring']);
    expect(r.stdout).not.toMatch(/io_uring_setup: -/);
    const a = await alertFor('io_uring set up by an unexpected program', r.pid);
    expect(Number(a.output_fields['evt.arg.entries'])).toBe(4);
    // Benign: a program known to use io_uring for its I/O.
    const fio = named(act, join(tmp, 'io'), 'fio');
    const ok = await run(fio, ['io-uring']);
    await expectNone('io_uring set up by an unexpected program', (x) => pidOf(x) === ok.pid);
  });

  it('Executable memory made by a program run from a temporary directory', async () => {
    const r = await run(act, ['mem-exec']);
    const a = await alertFor('Executable memory made by a program run from a temporary directory', r.pid);
    expect(a.output_fields['evt.type']).toBe('mprotect');
    expect(String(a.output_fields['evt.arg.prot'])).toContain('PROT_EXEC');
    // Benign: the same program installed outside the temporary directories.
    const installed = named(act, `/opt/lanner-e2e-${ID}`, 'lanner-act');
    created.push(`/opt/lanner-e2e-${ID}`);
    const ok = await run(installed, ['mem-exec']);
    await expectNone('Executable memory made by a program run from a temporary directory', (x) => pidOf(x) === ok.pid);
  });

  it('Fileless execution from memfd', async () => {
    const r = await run(act, ['memfd-exec', '/bin/true', 'true']);
    expect(r.code).toBe(0);
    const a = await alertFor('Fileless execution from memfd', r.pid);
    expect(String(a.output_fields['evt.arg.flags'])).toContain('EXE_FROM_MEMFD');
    const ok = await run('/bin/true', []);
    await expectNone('Fileless execution from memfd', (x) => pidOf(x) === ok.pid);
  });

  it('container-only rules stay quiet on the host (userfaultfd, capset)', async () => {
    const u = await run(act, ['userfaultfd']);
    const c = await run(act, ['capset-drop']);
    await expectNone('userfaultfd in container', (x) => pidOf(x) === u.pid);
    await expectNone('Capabilities changed in container', (x) => pidOf(x) === c.pid);
  });

  it('chroot by unexpected process (sshd excepted)', async () => {
    const r = await run('chroot', ['/', '/bin/true']);
    const a = await alertFor('chroot by unexpected process', r.pid);
    expect(a.output_fields['evt.arg.path']).toBe('/');
    const sshd = named(act, join(tmp, 'sshd-bin'), 'sshd');
    const ok = await run(sshd, ['chroot', '/']);
    await expectNone('chroot by unexpected process', (x) => pidOf(x) === ok.pid);
  });

  it('Network socket redirected to standard input or output (reverse shell)', async () => {
    const r = await run('bash', ['-c', `exec 1<>/dev/tcp/127.0.0.1/${listenPort}; echo hi`]);
    const a = await alertFor('Network socket redirected to standard input or output', r.pid);
    expect(String(a.output_fields['fd.name'])).toContain(`127.0.0.1:${listenPort}`);
    expect(a.output_fields['proc.name']).toBe('bash');
    const ok = await run('bash', ['-c', `exec 1<>${join(tmp, 'out.txt')}; echo hi`]);
    await expectNone('Network socket redirected to standard input or output', (x) => pidOf(x) === ok.pid);
  });

  it('Control plane component connected outside the cluster', async () => {
    const etcd = named(act, join(tmp, 'cp-egress'), 'etcd');
    const r = await run(etcd, ['connect', '203.0.113.7', '2380']);
    const a = await alertFor('Control plane component connected outside the cluster', r.pid);
    expect(a.output_fields['fd.sip']).toBe('203.0.113.7');
    const ok = await run(etcd, ['connect', '127.0.0.1', String(listenPort)]);
    await expectNone('Control plane component connected outside the cluster', (x) => pidOf(x) === ok.pid);
  });

  it('Network tool executed', async () => {
    const nc = named('/bin/true', join(tmp, 'tools'), 'socat');
    const r = await run(nc, ['-V']);
    const a = await alertFor('Network tool executed', r.pid);
    expect(a.output_fields['proc.name']).toBe('socat');
    expect(a.priority).toBe('Notice');
    const ok = await run('/bin/ls', [tmp]);
    await expectNone('Network tool executed', (x) => pidOf(x) === ok.pid);
  });

  it('every alert carries the process context the outputs promise, and stdout holds only alerts', () => {
    expect(agent.strayStdout()).toEqual([]);
    const ruleAlerts = agent.alerts.filter((a) => a.source === 'syscall');
    expect(ruleAlerts.length).toBeGreaterThan(20);
    for (const a of ruleAlerts) {
      expect(a.output_fields).toHaveProperty('proc.cmdline');
      expect(a.output_fields).toHaveProperty('container.id');
    }
  });
});
