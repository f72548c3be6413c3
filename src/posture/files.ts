/**
 * File permission and ownership checks. Modes use kube-bench's bitmask rule (no bit beyond the
 * allowed mode); ownership compares `user:group` names resolved from the host's passwd/group.
 */
import { lstatSync, readdirSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';
import { compareValue } from './compare';
import type { PosturePaths } from './config';
import type { Benchmark, CheckStatus, ControlsKind } from './types';

export type PathKey = keyof PosturePaths;

/**
 * How the check picks files from its target path. `systemd-unit`: the target is a unit file or
 * drop-in, and the same unit's file and drop-ins are looked for in every systemd unit directory.
 */
export type FileSelect = 'self' | 'dir-files' | 'tree' | 'tree-crt' | 'tree-key' | 'systemd-unit';

/** Where systemd reads unit files and `<unit>.d/*.conf` drop-ins (distribution packages use the /usr/lib and /lib ones). */
export const SYSTEMD_UNIT_DIRS: readonly string[] = ['/etc/systemd/system', '/run/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system'];

/**
 * The logical files and drop-in directories of the unit a configured path belongs to
 * (`/etc/systemd/system/kubelet.service.d/10-kubeadm.conf` → kubelet.service), in every unit directory.
 */
export function systemdUnitTargets(configured: string): { files: string[]; dropInDirs: string[] } {
  const parent = posix.basename(posix.dirname(configured));
  const base = posix.basename(configured);
  const unit = parent.endsWith('.service.d') ? parent.slice(0, -2) : base.endsWith('.service') ? base : 'kubelet.service';
  const files = new Set<string>([configured]);
  const dropInDirs: string[] = [];
  for (const d of SYSTEMD_UNIT_DIRS) {
    files.add(`${d}/${unit}`);
    dropInDirs.push(`${d}/${unit}.d`);
  }
  return { files: [...files], dropInDirs };
}

/** The unit's files that exist (deduplicated through symlinks such as /lib → /usr/lib); undefined when none. */
export function selectSystemdUnit(configured: string, real: (logical: string) => string, names: NameTables): FileFacts[] | undefined {
  const { files, dropInDirs } = systemdUnitTargets(configured);
  const candidates = [...files];
  for (const d of dropInDirs) {
    try {
      for (const n of readdirSync(real(d)).sort()) if (n.endsWith('.conf')) candidates.push(`${d}/${n}`);
    } catch {
      // No such drop-in directory.
    }
  }
  const seen = new Set<string>();
  const out: FileFacts[] = [];
  for (const logical of candidates) {
    const r = real(logical);
    const st = statOrUndefined(r);
    if (!st || !st.isFile()) continue;
    let canonical = r;
    try {
      canonical = realpathSync(r);
    } catch {
      // keep r
    }
    if (seen.has(canonical)) continue;
    seen.add(canonical);
    out.push(facts(logical, st, names));
  }
  return out.length > 0 ? out : undefined;
}

export interface FileCheck {
  readonly ids: Partial<Record<Benchmark, string>>;
  readonly kind: ControlsKind;
  readonly group: string;
  readonly text: string;
  readonly scored: boolean;
  readonly targets: readonly PathKey[];
  readonly select: FileSelect;
  readonly mode?: string;
  readonly owner?: string;
  /** A missing file passes instead of producing no result. */
  readonly absentPasses?: boolean;
  readonly remediation: string;
}

const chmodFix = (what: string, mode: string): string => `Run chmod ${mode} ${what} (or stricter) on the node.`;
const chownFix = (what: string, owner: string): string => `Run chown ${owner} ${what} on the node.`;

function pair(
  ids: [string, string],
  kind: ControlsKind,
  group: string,
  what: string,
  targets: PathKey[],
  mode: string,
  owner: string,
  scored: boolean,
  shown: string,
  select: FileSelect = 'self',
): FileCheck[] {
  return [
    { ids: { 'cis-1.12': ids[0] }, kind, group, text: `${what} permissions are ${mode} or more restrictive`, scored, targets, select, mode, remediation: chmodFix(shown, mode) },
    { ids: { 'cis-1.12': ids[1] }, kind, group, text: `${what} ownership is ${owner}`, scored, targets, select, owner, remediation: chownFix(shown, owner) },
  ];
}

export const FILE_CHECKS: readonly FileCheck[] = [
  ...pair(['1.1.1', '1.1.2'], 'master', '1.1', 'API server manifest', ['apiserver_manifest'], '600', 'root:root', true, '/etc/kubernetes/manifests/kube-apiserver.yaml'),
  ...pair(['1.1.3', '1.1.4'], 'master', '1.1', 'Controller manager manifest', ['controller_manager_manifest'], '600', 'root:root', true, '/etc/kubernetes/manifests/kube-controller-manager.yaml'),
  ...pair(['1.1.5', '1.1.6'], 'master', '1.1', 'Scheduler manifest', ['scheduler_manifest'], '600', 'root:root', true, '/etc/kubernetes/manifests/kube-scheduler.yaml'),
  ...pair(['1.1.7', '1.1.8'], 'master', '1.1', 'etcd manifest', ['etcd_manifest'], '600', 'root:root', true, '/etc/kubernetes/manifests/etcd.yaml'),
  ...pair(['1.1.9', '1.1.10'], 'master', '1.1', 'CNI configuration files', ['cni_conf_dir'], '600', 'root:root', false, '/etc/cni/net.d/*', 'dir-files'),
  ...pair(['1.1.11', '1.1.12'], 'master', '1.1', 'etcd data directory', ['etcd_data_dir'], '700', 'etcd:etcd', true, 'the etcd data directory (etcd --data-dir)'),
  ...pair(['1.1.13', '1.1.14'], 'master', '1.1', 'admin.conf / super-admin.conf', ['admin_kubeconfig', 'super_admin_kubeconfig'], '600', 'root:root', true, '/etc/kubernetes/admin.conf /etc/kubernetes/super-admin.conf'),
  ...pair(['1.1.15', '1.1.16'], 'master', '1.1', 'scheduler.conf', ['scheduler_kubeconfig'], '600', 'root:root', true, '/etc/kubernetes/scheduler.conf'),
  ...pair(['1.1.17', '1.1.18'], 'master', '1.1', 'controller-manager.conf', ['controller_manager_kubeconfig'], '600', 'root:root', true, '/etc/kubernetes/controller-manager.conf'),
  {
    ids: { 'cis-1.12': '1.1.19' },
    kind: 'master',
    group: '1.1',
    text: 'Kubernetes PKI directory and files are owned by root:root',
    scored: true,
    targets: ['pki_dir'],
    select: 'tree',
    owner: 'root:root',
    remediation: chownFix('-R /etc/kubernetes/pki/', 'root:root'),
  },
  {
    ids: { 'cis-1.12': '1.1.20' },
    kind: 'master',
    group: '1.1',
    text: 'Kubernetes PKI certificate files are 644 or more restrictive',
    scored: false,
    targets: ['pki_dir'],
    select: 'tree-crt',
    mode: '644',
    remediation: chmodFix('/etc/kubernetes/pki/*.crt', '644'),
  },
  {
    ids: { 'cis-1.12': '1.1.21' },
    kind: 'master',
    group: '1.1',
    text: 'Kubernetes PKI key files are 600',
    scored: false,
    targets: ['pki_dir'],
    select: 'tree-key',
    mode: '600',
    remediation: chmodFix('/etc/kubernetes/pki/*.key', '600'),
  },
  ...pair(['4.1.1', '4.1.2'], 'node', '4.1', 'Kubelet service file', ['kubelet_service'], '600', 'root:root', true, 'the kubelet unit and its drop-ins (kubelet.service, kubelet.service.d/*.conf)', 'systemd-unit').map((c) =>
    c.owner ? { ...c, absentPasses: true } : c,
  ),
  ...pair(['4.1.3', '4.1.4'], 'node', '4.1', 'kube-proxy kubeconfig', ['proxy_kubeconfig'], '600', 'root:root', false, 'the kube-proxy kubeconfig'),
  ...pair(['4.1.5', '4.1.6'], 'node', '4.1', 'Kubelet kubeconfig (kubelet.conf)', ['kubelet_kubeconfig'], '600', 'root:root', true, '/etc/kubernetes/kubelet.conf'),
  ...pair(['4.1.7', '4.1.8'], 'node', '4.1', 'Kubelet client CA file', ['kubelet_ca'], '644', 'root:root', false, 'the file named by the kubelet --client-ca-file'),
  ...pair(['4.1.9', '4.1.10'], 'node', '4.1', 'Kubelet config file', ['kubelet_config'], '600', 'root:root', true, '/var/lib/kubelet/config.yaml'),
];

/** uid/gid → name tables of the audited host (read once per evaluation batch). */
export interface NameTables {
  readonly users: ReadonlyMap<number, string>;
  readonly groups: ReadonlyMap<number, string>;
}

function readIdTable(file: string): Map<number, string> {
  const out = new Map<number, string>();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3) continue;
    const id = Number(f[2]);
    if (Number.isInteger(id) && !out.has(id)) out.set(id, f[0]!);
  }
  return out;
}

export function readNameTables(root: string): NameTables {
  return { users: readIdTable(join(root, 'etc/passwd')), groups: readIdTable(join(root, 'etc/group')) };
}

export interface FileFacts {
  readonly path: string;
  readonly mode: string;
  readonly owner: string;
}

const MAX_TREE_ENTRIES = 4096;

function facts(path: string, st: Stats, names: NameTables): FileFacts {
  const user = names.users.get(st.uid) ?? String(st.uid);
  const group = names.groups.get(st.gid) ?? String(st.gid);
  return { path, mode: (st.mode & 0o7777).toString(8), owner: `${user}:${group}` };
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** The files a check audits under one real path; undefined when the target does not exist. */
export function selectFiles(realPath: string, select: FileSelect, names: NameTables): FileFacts[] | undefined {
  const st = statOrUndefined(realPath);
  if (!st) return undefined;
  if (select === 'self' || select === 'systemd-unit') return [facts(realPath, st, names)];
  if (!st.isDirectory()) return [facts(realPath, st, names)];
  const out: FileFacts[] = [];
  if (select === 'tree') out.push(facts(realPath, st, names));
  const stack = [realPath];
  while (stack.length > 0 && out.length < MAX_TREE_ENTRIES) {
    const dir = stack.pop()!;
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const name of entries) {
      const p = join(dir, name);
      let ls: Stats;
      try {
        ls = lstatSync(p);
      } catch {
        continue;
      }
      // Symlinks are judged by their target, but never followed into another tree.
      const target = ls.isSymbolicLink() ? statOrUndefined(p) : ls;
      if (!target) continue;
      if (ls.isDirectory()) {
        if (select === 'tree') out.push(facts(p, target, names));
        if (select !== 'dir-files') stack.push(p);
        continue;
      }
      if (select === 'tree-crt' && !name.endsWith('.crt')) continue;
      if (select === 'tree-key' && !name.endsWith('.key')) continue;
      out.push(facts(p, target, names));
      if (out.length >= MAX_TREE_ENTRIES) break;
    }
  }
  return out;
}

export interface FileVerdict {
  readonly status: CheckStatus;
  readonly actual: string;
}

/** Judges the collected files; `files` empty means the target existed but held nothing to audit. */
export function judgeFiles(check: FileCheck, files: readonly FileFacts[]): FileVerdict {
  const bad: string[] = [];
  for (const f of files) {
    const modeOk = check.mode === undefined || compareValue(f.mode, { op: 'bitmask', value: check.mode });
    const ownerOk = check.owner === undefined || f.owner === check.owner;
    if (!modeOk || !ownerOk) bad.push(check.mode !== undefined ? `${f.path} mode ${f.mode}` : `${f.path} owner ${f.owner}`);
  }
  const describe = (f: FileFacts): string => (check.mode !== undefined ? `${f.path} mode ${f.mode}` : `${f.path} owner ${f.owner}`);
  if (bad.length === 0) {
    const actual = files.length === 1 ? describe(files[0]!) : files.length === 0 ? 'no matching files' : `${files.length} files, all compliant`;
    return { status: 'PASS', actual };
  }
  const shown = bad.slice(0, 10).join(', ') + (bad.length > 10 ? `, and ${bad.length - 10} more` : '');
  return { status: check.scored ? 'FAIL' : 'WARN', actual: shown };
}

export function expectedOf(check: FileCheck): string {
  return check.mode !== undefined ? `permissions ${check.mode} or more restrictive` : `owner ${check.owner}`;
}
