import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { PostureConfig } from '../../src/posture/config';

/** kubeadm layout, as lanner.yaml ships it; tests read it under a temp root prefix. */
export const KUBEADM_PATHS: PostureConfig['paths'] = {
  apiserver_manifest: '/etc/kubernetes/manifests/kube-apiserver.yaml',
  controller_manager_manifest: '/etc/kubernetes/manifests/kube-controller-manager.yaml',
  scheduler_manifest: '/etc/kubernetes/manifests/kube-scheduler.yaml',
  etcd_manifest: '/etc/kubernetes/manifests/etcd.yaml',
  etcd_data_dir: '/var/lib/etcd/default.etcd',
  cni_conf_dir: '/etc/cni/net.d',
  admin_kubeconfig: '/etc/kubernetes/admin.conf',
  super_admin_kubeconfig: '/etc/kubernetes/super-admin.conf',
  scheduler_kubeconfig: '/etc/kubernetes/scheduler.conf',
  controller_manager_kubeconfig: '/etc/kubernetes/controller-manager.conf',
  pki_dir: '/etc/kubernetes/pki',
  kubelet_service: '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf',
  kubelet_kubeconfig: '/etc/kubernetes/kubelet.conf',
  kubelet_config: '/var/lib/kubelet/config.yaml',
  kubelet_ca: '/etc/kubernetes/pki/ca.crt',
  proxy_kubeconfig: '/etc/kubernetes/proxy.conf',
  sshd_config: '/etc/ssh/sshd_config',
  sshd: '/usr/sbin/sshd',
};

export function postureConfig(root: string, over: Partial<PostureConfig> = {}): PostureConfig {
  return {
    enabled: true,
    benchmarks: ['cis-1.12', 'cis-1.24'],
    // Off unless a test is about Lanner's node section: those checks read this machine's sshd and /sys.
    node_checks: false,
    root,
    proc_root: '/proc',
    debounce_ms: 50,
    max_pending: 64,
    rescan_interval_s: 0,
    paths: KUBEADM_PATHS,
    ...over,
  };
}

export function tempRoot(prefix = 'lanner-posture-'): { root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Writes `text` at `root + logical` with `mode`, creating parent directories. */
export function put(root: string, logical: string, text: string, mode = 0o600): string {
  const real = join(root, logical);
  mkdirSync(dirname(real), { recursive: true });
  writeFileSync(real, text);
  chmodSync(real, mode);
  return real;
}

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** CI must not silently skip what it cannot run: returns a reason to skip, or throws in CI. */
export function requireOrSkip(ok: boolean, reason: string): string | undefined {
  if (ok) return undefined;
  if (process.env.CI === 'true') throw new Error(`cannot run in CI: ${reason}`);
  console.warn(`skipping: ${reason}`);
  return reason;
}

/**
 * Builds a stand-in binary (`int main(){pause();}`) and copies it under each component name, so
 * /proc shows the real comm, exe and argv of a `kube-apiserver --flags…` without Kubernetes.
 */
export function buildStandIns(dir: string, names: readonly string[]): Record<string, string> {
  const src = join(dir, 'pause.c');
  // On SIGUSR1 the stand-in re-executes itself (same pid, same name) with the argv listed one per
  // line in $LANNER_REEXEC_ARGS, like a component restarted in place with new flags.
  writeFileSync(
    src,
    [
      '#include <signal.h>',
      '#include <stdio.h>',
      '#include <stdlib.h>',
      '#include <string.h>',
      '#include <unistd.h>',
      'static volatile sig_atomic_t reexec;',
      'static void on_usr1(int s) { (void)s; reexec = 1; }',
      'int main(void) {',
      '  signal(SIGUSR1, on_usr1);',
      '  for (;;) {',
      '    pause();',
      '    if (!reexec) continue;',
      '    const char *file = getenv("LANNER_REEXEC_ARGS");',
      '    char self[4096]; ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);',
      '    if (!file || n <= 0) continue;',
      '    self[n] = 0;',
      '    FILE *f = fopen(file, "r"); if (!f) continue;',
      '    static char buf[65536]; size_t len = fread(buf, 1, sizeof buf - 1, f); fclose(f); buf[len] = 0;',
      '    char *argv[256]; int argc = 0; argv[argc++] = self;',
      '    for (char *t = strtok(buf, "\\n"); t && argc < 255; t = strtok(NULL, "\\n")) argv[argc++] = t;',
      '    argv[argc] = NULL;',
      '    execv(self, argv);',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const bin = join(dir, 'pause');
  const r = spawnSync('cc', ['-O0', '-o', bin, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc failed: ${r.stderr || r.error?.message}`);
  const out: Record<string, string> = {};
  for (const n of names) {
    const p = join(dir, n);
    copyFileSync(bin, p);
    chmodSync(p, 0o755);
    out[n] = p;
  }
  return out;
}

export interface StandIn {
  readonly child: ChildProcess;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function runStandIn(bin: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<StandIn> {
  const child = spawn(bin, args, { stdio: 'ignore', env: { PATH: process.env.PATH, ...env } });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  const pid = child.pid!;
  // exec has completed once /proc shows the new comm.
  const deadline = Date.now() + 5000;
  const { readFileSync } = await import('node:fs');
  for (;;) {
    let comm = '';
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      /* not yet */
    }
    if (comm && comm !== 'node') break;
    if (Date.now() > deadline) throw new Error(`stand-in ${bin} did not start`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    child,
    pid,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
