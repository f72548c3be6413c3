/** In-memory StateReader for rule/engine tests (the real state engine lives in src/state). */
import type { EventView } from '../../src/probe/event';
import type { ContainerInfo, FdInfo, ProcessInfo, StateReader } from '../../src/state/types';

export function proc(p: Partial<ProcessInfo> & { tgid: number }): ProcessInfo {
  const args = p.args ?? [];
  return {
    argsLine: args.length > 0 ? args.join(' ') : undefined,
    ptgid: 0, name: 'proc', exe: 'proc', exePath: '/usr/bin/proc', args: [], cwd: '/', tty: 0, sid: p.tgid, vpgid: p.tgid, vpid: p.tgid,
    uid: 0, gid: 0, euid: 0, loginuid: -1, startNs: 1, containerId: 'host', capEffective: 0n, capPermitted: 0n, exeWritable: false,
    exeUpperLayer: false, exeFromMemfd: false, pidNs: 1, mntNs: 1, env: [], exeCtimeNs: 0n, exeMtimeNs: 0n, ...p,
  };
}

export function fdInfo(f: Partial<FdInfo> & { num: number }): FdInfo {
  return { type: 'file', name: '', nameRaw: '', l4proto: '', clientIp: '', clientPort: 0, serverIp: '', serverPort: 0, isServer: false, connected: false, openFlags: 0, ...f };
}

export function container(c: Partial<ContainerInfo> & { id: string }): ContainerInfo {
  return {
    fullId: c.id.padEnd(64, '0'), runtime: 'containerd', name: 'web', image: 'nginx:1.27', imageRepository: 'nginx', imageTag: '1.27', imageDigest: '',
    privileged: false, mounts: [], startTsNs: 0n, podName: '', podNamespace: '', podUid: '', podLabels: {}, ...c,
  };
}

export class FakeState implements StateReader {
  readonly processes = new Map<number, ProcessInfo>();
  readonly fds = new Map<string, FdInfo>();
  readonly containers = new Map<string, ContainerInfo>();
  readonly users = new Map<number, string>([[0, 'root']]);
  /** address → the watched DNS names that resolve to it. */
  readonly hostNames = new Map<string, string[]>();
  readonly requiredEventTypes = new Set<string>(['clone', 'procexit']);
  before = 0;
  after = 0;

  addProcess(...ps: ProcessInfo[]): this {
    for (const p of ps) this.processes.set(p.tgid, p);
    return this;
  }
  addFd(tgid: number, f: FdInfo): this {
    this.fds.set(`${tgid}:${f.num}`, f);
    return this;
  }
  addContainer(c: ContainerInfo): this {
    this.containers.set(c.id, c);
    return this;
  }
  process(tgid: number): ProcessInfo | undefined {
    return this.processes.get(tgid);
  }
  fd(tgid: number, fd: number): FdInfo | undefined {
    return this.fds.get(`${tgid}:${fd}`);
  }
  container(id: string): ContainerInfo | undefined {
    return this.containers.get(id);
  }
  containerIdOfCgroup(): string {
    return 'host';
  }
  userName(uid: number): string | undefined {
    return this.users.get(uid);
  }
  groupName(gid: number): string | undefined {
    return gid === 0 ? 'root' : undefined;
  }
  ipNames(ip: string): readonly string[] | undefined {
    return this.hostNames.get(ip);
  }
  beforeRules(_ev: EventView): void {
    this.before++;
  }
  afterRules(_ev: EventView): void {
    this.after++;
  }
}
