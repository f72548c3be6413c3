/**
 * The kubelet's side of CRI, as far as the containerd test needs it: create a pod sandbox and
 * containers in it, start them, exec in them, and tear everything down. The agent's own client
 * (src/state/containers/cri.ts) only reads; this one writes, so it has its own declarations.
 * Field numbers follow the public k8s.io/cri-api runtime/v1 definitions.
 */
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { parse, type Type } from 'protobufjs';

const PROTO = `
syntax = "proto3";
package runtime.v1;
message VersionRequest { string version = 1; }
message VersionResponse { string version = 1; string runtime_name = 2; string runtime_version = 3; string runtime_api_version = 4; }
message KeyValue { string key = 1; string value = 2; }
message Int64Value { int64 value = 1; }
enum NamespaceMode { POD = 0; CONTAINER = 1; NODE = 2; TARGET = 3; }
message NamespaceOption { NamespaceMode network = 1; NamespaceMode pid = 2; NamespaceMode ipc = 3; string target_id = 4; }
message LinuxSandboxSecurityContext { NamespaceOption namespace_options = 1; bool privileged = 6; }
message LinuxPodSandboxConfig { string cgroup_parent = 1; LinuxSandboxSecurityContext security_context = 2; }
message PodSandboxMetadata { string name = 1; string uid = 2; string namespace = 3; uint32 attempt = 4; }
message PodSandboxConfig {
  PodSandboxMetadata metadata = 1;
  string hostname = 2;
  string log_directory = 3;
  map<string, string> labels = 6;
  map<string, string> annotations = 7;
  LinuxPodSandboxConfig linux = 8;
}
message RunPodSandboxRequest { PodSandboxConfig config = 1; string runtime_handler = 2; }
message RunPodSandboxResponse { string pod_sandbox_id = 1; }
message PodSandboxIdRequest { string pod_sandbox_id = 1; }
message Empty {}
message ContainerMetadata { string name = 1; uint32 attempt = 2; }
message ImageSpec { string image = 1; }
message Capability { repeated string add_capabilities = 1; repeated string drop_capabilities = 2; }
message SecurityProfile { enum ProfileType { RuntimeDefault = 0; Unconfined = 1; Localhost = 2; } ProfileType profile_type = 1; string localhost_ref = 2; }
message LinuxContainerSecurityContext { Capability capabilities = 1; NamespaceOption namespace_options = 3; Int64Value run_as_user = 5; bool no_new_privs = 11; SecurityProfile seccomp = 15; }
message LinuxContainerConfig { LinuxContainerSecurityContext security_context = 2; }
message ContainerConfig {
  ContainerMetadata metadata = 1;
  ImageSpec image = 2;
  repeated string command = 3;
  repeated string args = 4;
  repeated KeyValue envs = 6;
  map<string, string> labels = 9;
  map<string, string> annotations = 10;
  string log_path = 11;
  LinuxContainerConfig linux = 15;
}
message CreateContainerRequest { string pod_sandbox_id = 1; ContainerConfig config = 2; PodSandboxConfig sandbox_config = 3; }
message CreateContainerResponse { string container_id = 1; }
message ContainerIdRequest { string container_id = 1; }
message StopContainerRequest { string container_id = 1; int64 timeout = 2; }
message ExecSyncRequest { string container_id = 1; repeated string cmd = 2; int64 timeout = 3; }
message ExecSyncResponse { bytes stdout = 1; bytes stderr = 2; int32 exit_code = 3; }
enum ContainerState { CONTAINER_CREATED = 0; CONTAINER_RUNNING = 1; CONTAINER_EXITED = 2; CONTAINER_UNKNOWN = 3; }
message ContainerStatus { string id = 1; ContainerMetadata metadata = 2; ContainerState state = 3; int32 exit_code = 7; ImageSpec image = 8; string image_ref = 9; }
message ContainerStatusResponse { ContainerStatus status = 1; }
`;

const root = parse(PROTO, { keepCase: true }).root;
const type = (name: string): Type => root.lookupType(`runtime.v1.${name}`);

/** Method name → [request type, response type]. */
const METHODS = {
  Version: ['VersionRequest', 'VersionResponse'],
  RunPodSandbox: ['RunPodSandboxRequest', 'RunPodSandboxResponse'],
  StopPodSandbox: ['PodSandboxIdRequest', 'Empty'],
  RemovePodSandbox: ['PodSandboxIdRequest', 'Empty'],
  CreateContainer: ['CreateContainerRequest', 'CreateContainerResponse'],
  StartContainer: ['ContainerIdRequest', 'Empty'],
  StopContainer: ['StopContainerRequest', 'Empty'],
  RemoveContainer: ['ContainerIdRequest', 'Empty'],
  ContainerStatus: ['ContainerIdRequest', 'ContainerStatusResponse'],
  ExecSync: ['ExecSyncRequest', 'ExecSyncResponse'],
} as const;
type MethodName = keyof typeof METHODS;

export interface PodSpec {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface ContainerSpec {
  readonly name: string;
  readonly image: string;
  readonly command: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
  /** Capabilities and seccomp as the kubelet passes them; unset: the runtime's defaults, unconfined. */
  readonly security?: { readonly addCapabilities?: readonly string[]; readonly dropCapabilities?: readonly string[]; readonly seccomp?: 'RuntimeDefault' | 'Unconfined'; readonly noNewPrivs?: boolean };
}

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

export type Decoded = Record<string, unknown>;

export class CriTestClient {
  private readonly client: Client;

  constructor(readonly socket: string) {
    this.client = new Client(`unix://${socket}`, credentials.createInsecure());
  }

  call(name: MethodName, req: object, timeoutMs = 60_000): Promise<Decoded> {
    const [reqName, resName] = METHODS[name];
    const reqType = type(reqName);
    const resType = type(resName);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        `/runtime.v1.RuntimeService/${name}`,
        (v: object) => Buffer.from(reqType.encode(reqType.fromObject(v)).finish()),
        (b: Buffer) => resType.toObject(resType.decode(b), { longs: String, enums: String, bytes: String, defaults: true }) as Decoded,
        req,
        new Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, value) => (err ? reject(new Error(`CRI ${name}: ${err.message}`)) : resolve(value ?? {})),
      );
    });
  }

  /** The sandbox config the kubelet would send for a pod on the host network (no CNI needed). */
  sandboxConfig(pod: PodSpec, logDir: string): Decoded {
    return {
      metadata: { name: pod.name, uid: pod.uid, namespace: pod.namespace, attempt: 0 },
      hostname: '',
      log_directory: logDir,
      labels: pod.labels,
      annotations: pod.annotations,
      // cgroupfs driver layout the kubelet uses: /kubepods/<qos>/pod<uid>/<container id>.
      linux: { cgroup_parent: `/kubepods/besteffort/pod${pod.uid}`, security_context: { namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } } },
    };
  }

  async runPod(pod: PodSpec, logDir: string): Promise<string> {
    const res = await this.call('RunPodSandbox', { config: this.sandboxConfig(pod, logDir) });
    return String(res['pod_sandbox_id']);
  }

  async createAndStart(podId: string, sandboxConfig: Decoded, c: ContainerSpec): Promise<string> {
    const res = await this.call('CreateContainer', {
      pod_sandbox_id: podId,
      config: {
        metadata: { name: c.name, attempt: 0 },
        image: { image: c.image },
        command: c.command,
        labels: c.labels ?? {},
        log_path: `${c.name}/0.log`,
        linux: {
          security_context: {
            namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' },
            ...(c.security?.addCapabilities || c.security?.dropCapabilities
              ? { capabilities: { add_capabilities: c.security.addCapabilities ?? [], drop_capabilities: c.security.dropCapabilities ?? [] } }
              : {}),
            ...(c.security?.seccomp ? { seccomp: { profile_type: c.security.seccomp } } : {}),
            no_new_privs: c.security?.noNewPrivs ?? false,
          },
        },
      },
      sandbox_config: sandboxConfig,
    });
    const id = String(res['container_id']);
    await this.call('StartContainer', { container_id: id });
    return id;
  }

  async execSync(containerId: string, cmd: readonly string[], timeoutSeconds = 30): Promise<ExecResult> {
    const res = await this.call('ExecSync', { container_id: containerId, cmd, timeout: timeoutSeconds }, (timeoutSeconds + 10) * 1000);
    const text = (v: unknown): string => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : '');
    return { stdout: text(res['stdout']), stderr: text(res['stderr']), exitCode: Number(res['exit_code']) };
  }

  async containerState(containerId: string): Promise<string> {
    return (await this.containerStatus(containerId)).state;
  }

  async containerStatus(containerId: string): Promise<{ state: string; exitCode: number }> {
    const st = ((await this.call('ContainerStatus', { container_id: containerId }))['status'] ?? {}) as Decoded;
    return { state: String(st['state'] ?? ''), exitCode: Number(st['exit_code'] ?? -1) };
  }

  /** Waits for a container to exit and returns its exit code. */
  async waitExit(containerId: string, timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const st = await this.containerStatus(containerId);
      if (st.state === 'CONTAINER_EXITED') return st.exitCode;
      if (Date.now() > deadline) throw new Error(`container ${containerId.slice(0, 12)} still ${st.state} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops and removes the pod and everything in it (idempotent, as the kubelet relies on). */
  async removePod(podId: string): Promise<void> {
    await this.call('StopPodSandbox', { pod_sandbox_id: podId });
    await this.call('RemovePodSandbox', { pod_sandbox_id: podId });
  }

  close(): void {
    this.client.close();
  }
}
