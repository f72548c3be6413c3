/**
 * Lanner's node section (benchmark `lanner-node`, not CIS): facts about the host itself that the
 * hardening guides ask for and no CIS node control covers. Each check is described here; the
 * engine decides when to run it and records the result.
 */
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { ControlsKind } from './types';

export interface NodeCheck {
  readonly id: string;
  readonly kind: ControlsKind;
  readonly text: string;
  readonly scored: boolean;
  readonly expected: string;
  readonly remediation: string;
}

const check = (id: string, text: string, expected: string, remediation: string): NodeCheck => ({ id, kind: 'lanner', text, scored: true, expected, remediation });

export const NODE_CHECKS = {
  sshKeyOnly: check(
    'L.1.1',
    'SSH accepts only key authentication',
    'pubkeyauthentication yes; passwordauthentication no and kbdinteractiveauthentication no (or every AuthenticationMethods list needs publickey)',
    'In /etc/ssh/sshd_config (or a file in sshd_config.d read before any other setting of it) set PasswordAuthentication no and KbdInteractiveAuthentication no, keep PubkeyAuthentication yes, then reload sshd.',
  ),
  sshNoRoot: check('L.1.2', 'SSH does not accept root logins', 'permitrootlogin no', 'Set PermitRootLogin no in /etc/ssh/sshd_config (first occurrence wins, including included files) and reload sshd; use a named account and sudo.'),
  mac: check(
    'L.2.1',
    'A mandatory access control LSM (AppArmor or SELinux) is enforcing',
    'AppArmor enabled, or SELinux enforcing',
    'Boot with AppArmor (Debian/Ubuntu: apparmor=1 security=apparmor, package apparmor) or SELinux in enforcing mode, so container runtimes can confine containers.',
  ),
  encryptionFile: check(
    'L.3.1',
    'Encryption provider config file is 600 and owned by root:root',
    'mode 600 or more restrictive, owner root:root',
    'chmod 600 and chown root:root the file named by the API server --encryption-provider-config: it holds the keys to every secret.',
  ),
  encryptionKeys: check(
    'L.3.2',
    'Encryption provider config writes secrets with a real key',
    'first provider for secrets is not identity; every aescbc/aesgcm/secretbox key is base64 of the right size and not a placeholder',
    'Generate keys with head -c 32 /dev/urandom | base64, put the encrypting provider first for secrets, restart the API server and rewrite existing secrets.',
  ),
  etcdClientUrls: check('L.4.1', 'etcd serves clients over https only', '--listen-client-urls and --advertise-client-urls only https://', 'Give etcd https:// --listen-client-urls and --advertise-client-urls with --cert-file/--key-file.'),
  etcdPeerUrls: check('L.4.2', 'etcd talks to peers over https only', '--listen-peer-urls and --initial-advertise-peer-urls only https://', 'Give etcd https:// --listen-peer-urls and --initial-advertise-peer-urls with --peer-cert-file/--peer-key-file.'),
  etcdPeerCa: check('L.4.3', 'etcd verifies peers against a CA', '--peer-trusted-ca-file set', 'Set etcd --peer-trusted-ca-file to the CA that signs peer certificates (with --peer-client-cert-auth=true).'),
  protectKernelDefaults: check(
    'L.5.1',
    'Kubelet protects kernel defaults',
    '--protect-kernel-defaults / protectKernelDefaults = true',
    'Set protectKernelDefaults: true in the kubelet config (or --protect-kernel-defaults=true) after setting the sysctls of L.5.2, then restart the kubelet.',
  ),
  kernelSysctls: check(
    'L.5.2',
    'Kernel sysctls are what the kubelet expects',
    'vm.overcommit_memory=1 vm.panic_on_oom=0 kernel.panic=10 kernel.panic_on_oops=1 kernel.keys.root_maxkeys=1000000 kernel.keys.root_maxbytes=25000000',
    'Put these values in /etc/sysctl.d/90-kubelet.conf and run sysctl --system; with protectKernelDefaults the kubelet refuses to start otherwise.',
  ),
} as const satisfies Record<string, NodeCheck>;

export const NODE_GROUP_TEXT: Readonly<Record<string, string>> = {
  'L.1': 'SSH daemon',
  'L.2': 'Mandatory access control',
  'L.3': 'Encryption at rest key file',
  'L.4': 'etcd transport',
  'L.5': 'Kernel defaults',
};

/** The sysctls the kubelet checks (or sets) at start, with the values it wants. */
export const KUBELET_SYSCTLS: Readonly<Record<string, string>> = {
  'vm.overcommit_memory': '1',
  'vm.panic_on_oom': '0',
  'kernel.panic': '10',
  'kernel.panic_on_oops': '1',
  'kernel.keys.root_maxkeys': '1000000',
  'kernel.keys.root_maxbytes': '25000000',
};

/** `/proc/sys/...` path of a sysctl name (logical, as writers open it). */
export const sysctlPath = (name: string): string => `/proc/sys/${name.replace(/\./g, '/')}`;

function readTrim(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Reads sysctls through `procRoot` (/proc, or /host/proc in a pod). */
export function judgeSysctls(procRoot: string): { passed: boolean; actual: string } {
  const wrong: string[] = [];
  for (const [name, want] of Object.entries(KUBELET_SYSCTLS)) {
    const have = readTrim(posix.join(procRoot, 'sys', name.replace(/\./g, '/')));
    if (have !== want) wrong.push(`${name}=${have ?? '(unreadable)'} (kubelet expects ${want})`);
  }
  return wrong.length === 0 ? { passed: true, actual: 'all six match' } : { passed: false, actual: wrong.join(', ') };
}

/** sysfs files that say whether AppArmor / SELinux are on (logical paths under the host root). */
export const MAC_PATHS = { apparmor: '/sys/module/apparmor/parameters/enabled', selinux: '/sys/fs/selinux/enforce', lsm: '/sys/kernel/security/lsm', sysModule: '/sys/module' } as const;

/** Undefined when the host's /sys is not visible (nothing can be said). */
export function judgeMac(real: (logical: string) => string, sysVisible: boolean): { passed: boolean; actual: string } | undefined {
  if (!sysVisible) return undefined;
  const apparmor = readTrim(real(MAC_PATHS.apparmor));
  const selinux = readTrim(real(MAC_PATHS.selinux));
  const lsm = readTrim(real(MAC_PATHS.lsm));
  const apparmorOn = apparmor === 'Y';
  const selinuxOn = selinux === '1';
  const parts = [
    `AppArmor ${apparmor === undefined ? 'not in the kernel' : apparmorOn ? 'enabled' : 'disabled'}`,
    `SELinux ${selinux === undefined ? 'not enabled' : selinuxOn ? 'enforcing' : 'permissive'}`,
    ...(lsm !== undefined ? [`active LSMs ${lsm}`] : []),
  ];
  return { passed: apparmorOn || selinuxOn, actual: parts.join(', ') };
}
