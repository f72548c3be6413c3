/**
 * Runs a command with exactly the privileges the DaemonSet grants the agent container, read from
 * the rendered manifest (the single source of truth): the capability list, the uid/gid and
 * no_new_privs. `setpriv` reproduces what the container runtime does for `drop: [ALL]` plus
 * `add: [...]`: the bounding set is the listed capabilities; uid 0 then holds them permitted and
 * effective; inheritable and ambient are empty (containerd/CRI-O since the 2022 inheritable fix).
 * Seccomp, AppArmor and the mount/pid namespaces are not reproduced; this proves capabilities.
 *
 * The lead points it at the agent once the probe is integrated:
 *   runWithDeployCaps(process.execPath, ['dist/cli.js', 'run', ...])
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findObject, podSpecOf, renderOverlay, type Overlay } from './render';

export const SETPRIV = process.env.SETPRIV ?? '/usr/bin/setpriv';

export interface DeployPrivileges {
  /** Capability names as in the manifest, without the CAP_ prefix (e.g. `BPF`). */
  readonly capabilities: readonly string[];
  readonly uid: number;
  readonly gid: number;
  /** allowPrivilegeEscalation: false sets no_new_privs. */
  readonly noNewPrivs: boolean;
}

/** The agent container's privileges in the rendered DaemonSet. */
export function deployPrivileges(overlay: Overlay = 'plain'): DeployPrivileges {
  const ds = findObject(renderOverlay(overlay), 'DaemonSet', 'lanner');
  const c = podSpecOf(ds).containers.find((x) => x.name === 'lanner');
  if (!c) throw new Error('DaemonSet lanner has no container named lanner');
  const sc = c.securityContext ?? {};
  const drop = sc.capabilities?.drop ?? [];
  // The harness only models drop-ALL-then-add; anything else would need the runtime's default set.
  if (!drop.includes('ALL')) throw new Error('the DaemonSet must drop ALL capabilities for this harness to model it');
  return {
    capabilities: (sc.capabilities?.add ?? []).map((cap) => cap.toUpperCase().replace(/^CAP_/, '')),
    uid: sc.runAsUser ?? 0,
    gid: sc.runAsGroup ?? 0,
    noNewPrivs: sc.allowPrivilegeEscalation === false,
  };
}

export interface RunOptions {
  /** Run as this non-root uid instead, holding the same set as ambient capabilities (what a non-root deployment would need). */
  readonly asUid?: number;
  /** Remove capabilities from the set (for negative controls). */
  readonly without?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

/** Why the harness cannot run here (it needs root and setpriv), or undefined. */
export function deployCapsUnavailable(): string | undefined {
  if (!existsSync(SETPRIV)) return `${SETPRIV} not found (util-linux)`;
  if (process.getuid?.() !== 0) return 'setting capability sets and uids needs root';
  return undefined;
}

/** The setpriv arguments (before the command) that apply `priv`. */
export function setprivArgs(priv: DeployPrivileges, opts: RunOptions = {}): string[] {
  const removed = new Set((opts.without ?? []).map((c) => c.toUpperCase().replace(/^CAP_/, '')));
  const caps = priv.capabilities.filter((c) => !removed.has(c)).map((c) => `+${c.toLowerCase()}`);
  const set = ['-all', ...caps].join(',');
  const args = ['--bounding-set', set];
  if (opts.asUid !== undefined) {
    args.push('--inh-caps', set, '--ambient-caps', set, '--reuid', String(opts.asUid), '--regid', String(opts.asUid));
  } else {
    args.push('--inh-caps', '-all', '--reuid', String(priv.uid), '--regid', String(priv.gid));
  }
  args.push('--clear-groups');
  if (priv.noNewPrivs) args.push('--no-new-privs');
  return args;
}

/** Runs `cmd args` to completion under the deploy privileges. */
export function runWithDeployCaps(cmd: string, args: readonly string[], opts: RunOptions = {}, priv: DeployPrivileges = deployPrivileges()): SpawnSyncReturns<string> {
  const missing = deployCapsUnavailable();
  if (missing) throw new Error(`runWithDeployCaps: ${missing}`);
  return spawnSync(SETPRIV, [...setprivArgs(priv, opts), '--', cmd, ...args], {
    encoding: 'utf8',
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    timeout: opts.timeoutMs ?? 30_000,
  });
}

/** Starts a long-running command (e.g. the agent) under the deploy privileges. */
export function spawnWithDeployCaps(cmd: string, args: readonly string[], opts: RunOptions = {}, priv: DeployPrivileges = deployPrivileges()): ReturnType<typeof spawn> {
  const missing = deployCapsUnavailable();
  if (missing) throw new Error(`spawnWithDeployCaps: ${missing}`);
  return spawn(SETPRIV, [...setprivArgs(priv, opts), '--', cmd, ...args], { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Capability bit numbers (linux/capability.h) for decoding /proc/<pid>/status masks. */
export const CAPABILITY_BITS: Readonly<Record<string, number>> = {
  CHOWN: 0, DAC_OVERRIDE: 1, DAC_READ_SEARCH: 2, FOWNER: 3, FSETID: 4, KILL: 5, SETGID: 6, SETUID: 7, SETPCAP: 8,
  LINUX_IMMUTABLE: 9, NET_BIND_SERVICE: 10, NET_BROADCAST: 11, NET_ADMIN: 12, NET_RAW: 13, IPC_LOCK: 14, IPC_OWNER: 15,
  SYS_MODULE: 16, SYS_RAWIO: 17, SYS_CHROOT: 18, SYS_PTRACE: 19, SYS_PACCT: 20, SYS_ADMIN: 21, SYS_BOOT: 22, SYS_NICE: 23,
  SYS_RESOURCE: 24, SYS_TIME: 25, SYS_TTY_CONFIG: 26, MKNOD: 27, LEASE: 28, AUDIT_WRITE: 29, AUDIT_CONTROL: 30, SETFCAP: 31,
  MAC_OVERRIDE: 32, MAC_ADMIN: 33, SYSLOG: 34, WAKE_ALARM: 35, BLOCK_SUSPEND: 36, AUDIT_READ: 37, PERFMON: 38, BPF: 39,
  CHECKPOINT_RESTORE: 40,
};

/** Names of the capabilities in a hex mask as printed in /proc/<pid>/status. */
export function decodeCapMask(hex: string): string[] {
  const mask = BigInt(`0x${hex}`);
  return Object.entries(CAPABILITY_BITS)
    .filter(([, bit]) => (mask >> BigInt(bit)) & 1n)
    .map(([name]) => name)
    .sort();
}
