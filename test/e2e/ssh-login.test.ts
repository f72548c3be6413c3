/**
 * Root login over SSH, for real: a private sshd on a loopback port with throwaway keys, and the
 * system's ssh client logging in as root (alert) and as a non-root account (no alert).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentHarness, run, skipReason } from './agent-harness';
import { freeLoopbackPort } from '../support/net';

const SSHD = '/usr/sbin/sshd';
const skip = skipReason(!existsSync(SSHD) ? 'openssh-server (sshd) is not installed' : spawnSync('ssh', ['-V']).status !== 0 ? 'ssh client is not installed' : undefined);

describe.skipIf(skip !== undefined)('Root login over SSH', () => {
  let agent: AgentHarness;
  let tmp: string;
  let sshd: ChildProcess | undefined;
  let port = 0;
  let sshdLog = '';

  const ssh = (user: string, command: string): ReturnType<typeof run> =>
    run('ssh', [
      '-i', join(tmp, 'id'), '-p', String(port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes',
      '-o', 'LogLevel=ERROR', `${user}@127.0.0.1`, command,
    ], { timeoutMs: 30_000 });

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'lanner-e2e-ssh-'));
    for (const [file, type] of [['hostkey', 'ed25519'], ['id', 'ed25519']] as const) {
      const r = spawnSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', join(tmp, file)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
    }
    // sshd reads authorized keys as the target user: nobody must be able to reach the file.
    chmodSync(tmp, 0o755);
    writeFileSync(join(tmp, 'authorized_keys'), readFileSync(join(tmp, 'id.pub')), { mode: 0o644 });
    port = await freeLoopbackPort();
    writeFileSync(
      join(tmp, 'sshd_config'),
      [
        `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(tmp, 'hostkey')}`, `PidFile ${join(tmp, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(tmp, 'authorized_keys')}`, 'PermitRootLogin prohibit-password', 'PasswordAuthentication no',
        'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', 'LogLevel ERROR', '',
      ].join('\n'),
    );
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    agent = await AgentHarness.start();
    sshd = spawn(SSHD, ['-D', '-e', '-f', join(tmp, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    sshd.stderr!.on('data', (d: Buffer) => (sshdLog += d.toString()));
    for (let i = 0; i < 50; i++) {
      const probe = await ssh('root', 'true').catch(() => undefined);
      if (probe?.code === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  afterAll(async () => {
    if (sshd && sshd.exitCode === null) {
      sshd.kill('SIGTERM');
      await new Promise((r) => sshd!.once('exit', r));
    }
    const exit = agent ? await agent.stop() : undefined;
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    if (exit) expect(exit.signal === null ? exit.code : exit.signal).toBe(0);
  });

  it('a root SSH session raises the alert for the shell sshd starts', async () => {
    const marker = `lanner-ssh-root-${Date.now()}`;
    const r = await ssh('root', `echo ${marker}`);
    expect(r.stdout, `ssh failed: ${r.stderr}\nsshd: ${sshdLog}`).toContain(marker);
    const a = await agent.waitFor((x) => x.rule === 'Root login over SSH' && String(x.output_fields['proc.cmdline']).includes(marker));
    expect(a.output_fields).toMatchObject({ 'user.uid': 0, 'proc.pname': 'sshd' });
    expect(a.tags).toContain('T1021.004');
  });

  it('a non-root SSH login does not', async () => {
    const marker = `lanner-ssh-nobody-${Date.now()}`;
    // nobody's shell is nologin: the session is started (and refused by nologin) without a root shell.
    const r = await ssh('nobody', `echo ${marker}`);
    expect(r.stdout + r.stderr).toMatch(/not available|This account/);
    await agent.barrier();
    expect(agent.find((x) => x.rule === 'Root login over SSH' && String(x.output_fields['proc.cmdline']).includes(marker))).toEqual([]);
  });
});
