/**
 * The state contract: what the process, fd, container and Kubernetes tables answer. Field
 * extractors in `src/rules/fields` read state only through `StateReader`, so the engine does not
 * change when the tables grow.
 */
import type { EventView } from '../probe/event';

export interface ProcessInfo {
  readonly tgid: number;
  /** Parent's tgid; 0 when unknown. */
  readonly ptgid: number;
  /** Kernel comm (proc.name). */
  readonly name: string;
  /** argv[0] as passed to exec (proc.exe). */
  readonly exe: string;
  /** Kernel-resolved executable path (proc.exepath). */
  readonly exePath: string;
  /** argv[1..]. */
  readonly args: readonly string[];
  /** proc.args: argv[1..] joined by spaces; undefined when there are none (proc.cmdline is then the name alone). */
  readonly argsLine: string | undefined;
  readonly cwd: string;
  readonly tty: number;
  /** Session id and its leader's name (proc.sid, proc.sname). */
  readonly sid: number;
  readonly vpgid: number;
  readonly vpid: number;
  readonly uid: number;
  readonly gid: number;
  readonly euid: number;
  readonly loginuid: number;
  /** Boot-relative start time in ns (for proc.duration). */
  readonly startNs: number;
  /** 'host' for host processes, else the 12-char container id. */
  readonly containerId: string;
  readonly capEffective: bigint;
  readonly capPermitted: bigint;
  readonly exeWritable: boolean;
  readonly exeUpperLayer: boolean;
  readonly exeFromMemfd: boolean;
  readonly pidNs: number;
  readonly mntNs: number;
  /** Environment entries `K=V`, when known. */
  readonly env: readonly string[];
  /** Executable inode ctime/mtime in ns since the epoch, when known (0 otherwise). */
  readonly exeCtimeNs: bigint;
  readonly exeMtimeNs: bigint;
}

export type FdType =
  | 'file'
  | 'directory'
  | 'ipv4'
  | 'ipv6'
  | 'unix'
  | 'pipe'
  | 'event'
  | 'signalfd'
  | 'eventpoll'
  | 'inotify'
  | 'timerfd'
  | 'netlink'
  | 'memfd'
  | 'bpf'
  | 'userfaultfd'
  | 'io_uring'
  | 'pidfd'
  | 'unknown';

export interface FdInfo {
  readonly num: number;
  readonly type: FdType;
  /** File: absolute path. Socket: `cip:cport->sip:sport`. */
  readonly name: string;
  /** Path exactly as passed to open (fd.nameraw). */
  readonly nameRaw: string;
  /** 'tcp' | 'udp' | 'icmp' | 'raw' for sockets, '' otherwise. */
  readonly l4proto: string;
  readonly clientIp: string;
  readonly clientPort: number;
  readonly serverIp: string;
  readonly serverPort: number;
  /** This process's side of the connection is the server (accepted) side. */
  readonly isServer: boolean;
  readonly connected: boolean;
  /** Open flags for files, 0 otherwise. */
  readonly openFlags: number;
}

export interface ContainerMount {
  readonly source: string;
  readonly dest: string;
  readonly mode: string;
  readonly rw: boolean;
  readonly propagation: string;
}

export interface ContainerInfo {
  /** 12-char id. */
  readonly id: string;
  readonly fullId: string;
  readonly runtime: 'docker' | 'containerd' | 'cri-o' | 'podman' | 'unknown';
  readonly name: string;
  readonly image: string;
  readonly imageRepository: string;
  readonly imageTag: string;
  readonly imageDigest: string;
  readonly privileged: boolean;
  readonly mounts: readonly ContainerMount[];
  /** Start time in ns since the epoch; 0n when unknown. */
  readonly startTsNs: bigint;
  readonly podName: string;
  readonly podNamespace: string;
  readonly podUid: string;
  readonly podLabels: Readonly<Record<string, string>>;
}

export interface StateReader {
  process(tgid: number): ProcessInfo | undefined;
  fd(tgid: number, fd: number): FdInfo | undefined;
  /** Container metadata; undefined while the lookup is in flight or for unknown ids. */
  container(id: string): ContainerInfo | undefined;
  /** Container id for a cgroup id ('host' when not in a container). */
  containerIdOfCgroup(cgroupId: number, tgid: number): string;
  userName(uid: number, containerId: string): string | undefined;
  groupName(gid: number, containerId: string): string | undefined;
  /** The DNS names, among those the rules watch, that resolve to an address (fd.sip.name…). */
  ipNames(ip: string): readonly string[] | undefined;
}

/** Sizes and counters the metrics part reads at scrape time. */
export interface StateStats {
  readonly processes: number;
  readonly processCapacity: number;
  readonly processEvictions: number;
  readonly processMisses: number;
  readonly fds: number;
  readonly containers: number;
  readonly containerLookups: number;
  readonly containerLookupFailures: number;
}

/**
 * The state engine: `beforeRules` applies what an event changes that rules must already see (exec
 * image, new fds from open/socket/accept, fork), `afterRules` what they must not see yet (close
 * removes the fd only after rules on that close ran; procexit frees the process).
 */
export interface StateEngine extends StateReader {
  beforeRules(ev: EventView): void;
  afterRules(ev: EventView): void;
  /** Event types the state needs even when no rule names them. */
  readonly requiredEventTypes: ReadonlySet<string>;
  stats(): StateStats;
  close(): Promise<void>;
}
