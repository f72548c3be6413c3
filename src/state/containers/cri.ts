/**
 * CRI client (containerd, cri-o) over gRPC on the runtime's unix socket. Only the two calls and the
 * fields we read are declared; protobuf skips unknown fields, so newer runtimes stay compatible.
 * Field numbers follow the public k8s.io/cri-api runtime/v1 definitions.
 */
import { Client, credentials, Metadata, type ServiceDefinition } from '@grpc/grpc-js';
import { parse, type Type } from 'protobufjs';
import type { ContainerInfo, ContainerMount } from '../types';
import { type ContainerRuntimeClient, makeContainerInfo, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL } from './client';
import { digestOf, parseImageRef } from './image-ref';

export const CRI_PROTO = `
syntax = "proto3";
package runtime.v1;
service RuntimeService {
  rpc PodSandboxStatus(PodSandboxStatusRequest) returns (PodSandboxStatusResponse) {}
  rpc ContainerStatus(ContainerStatusRequest) returns (ContainerStatusResponse) {}
}
message PodSandboxStatusRequest { string pod_sandbox_id = 1; bool verbose = 2; }
message PodSandboxMetadata { string name = 1; string uid = 2; string namespace = 3; uint32 attempt = 4; }
message PodSandboxStatus {
  string id = 1;
  PodSandboxMetadata metadata = 2;
  int64 created_at = 4;
  map<string, string> labels = 7;
  map<string, string> annotations = 8;
}
message PodSandboxStatusResponse { PodSandboxStatus status = 1; map<string, string> info = 2; }
message ContainerStatusRequest { string container_id = 1; bool verbose = 2; }
message ContainerMetadata { string name = 1; uint32 attempt = 2; }
message ImageSpec { string image = 1; string user_specified_image = 18; }
enum MountPropagation { PROPAGATION_PRIVATE = 0; PROPAGATION_HOST_TO_CONTAINER = 1; PROPAGATION_BIDIRECTIONAL = 2; }
message Mount { string container_path = 1; string host_path = 2; bool readonly = 3; bool selinux_relabel = 4; MountPropagation propagation = 5; }
message ContainerStatus {
  string id = 1;
  ContainerMetadata metadata = 2;
  int64 created_at = 4;
  int64 started_at = 5;
  ImageSpec image = 8;
  string image_ref = 9;
  map<string, string> labels = 12;
  map<string, string> annotations = 13;
  repeated Mount mounts = 14;
}
message ContainerStatusResponse { ContainerStatus status = 1; map<string, string> info = 2; }
`;

const root = parse(CRI_PROTO, { keepCase: true }).root;
const type = (name: string): Type => root.lookupType(`runtime.v1.${name}`);

function method(name: string, req: Type, res: Type) {
  return {
    path: `/runtime.v1.RuntimeService/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: (v: object): Buffer => Buffer.from(req.encode(req.fromObject(v)).finish()),
    requestDeserialize: (b: Buffer): Record<string, unknown> => req.toObject(req.decode(b), { longs: String, enums: String, defaults: true }),
    responseSerialize: (v: object): Buffer => Buffer.from(res.encode(res.fromObject(v)).finish()),
    responseDeserialize: (b: Buffer): Record<string, unknown> => res.toObject(res.decode(b), { longs: String, enums: String, defaults: true }),
  };
}

/** The service as grpc-js wants it (a test server implements it to exercise this client). */
export const criRuntimeService = {
  PodSandboxStatus: method('PodSandboxStatus', type('PodSandboxStatusRequest'), type('PodSandboxStatusResponse')),
  ContainerStatus: method('ContainerStatus', type('ContainerStatusRequest'), type('ContainerStatusResponse')),
} satisfies ServiceDefinition;

/** Decoded messages as plain objects (snake_case keys, int64 as decimal strings). */
export type CriMessage = Record<string, unknown>;

const PROPAGATION: Record<string, string> = {
  PROPAGATION_PRIVATE: 'private',
  PROPAGATION_HOST_TO_CONTAINER: 'rslave',
  PROPAGATION_BIDIRECTIONAL: 'rshared',
};

function o(v: unknown): CriMessage {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as CriMessage) : {};
}
function s(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
function rec(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o(v))) if (typeof val === 'string') out[k] = val;
  return out;
}

/** Sandbox id and privileged flag from the verbose `info` JSON (containerd and cri-o shapes). */
export function parseVerboseInfo(info: Record<string, string>): { sandboxId: string; privileged: boolean } {
  let doc: CriMessage = {};
  try {
    doc = o(JSON.parse(info['info'] ?? '{}'));
  } catch {
    return { sandboxId: '', privileged: false };
  }
  const sc = o(o(o(doc['config'])['linux'])['security_context']);
  const privileged = sc['privileged'] === true || doc['privileged'] === true;
  return { sandboxId: s(doc['sandboxID']), privileged };
}

export interface PodInfo {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** Maps ContainerStatus (+ its pod) to ContainerInfo (exported for unit tests). */
export function containerFromCriStatus(res: CriMessage, runtime: ContainerInfo['runtime'], pod: PodInfo | undefined): ContainerInfo | undefined {
  const st = o(res['status']);
  const fullId = s(st['id']);
  if (!/^[0-9a-f]{64}$/.test(fullId)) return undefined;
  const labels = rec(st['labels']);
  const imageSpec = o(st['image']);
  const imageRefDigest = s(st['image_ref']);
  // containerd reports the image by name; some runtimes give the image id here instead.
  let image = s(imageSpec['user_specified_image']) || s(imageSpec['image']);
  if (image.startsWith('sha256:') && imageRefDigest.includes('@')) image = imageRefDigest;
  const ref = parseImageRef(image);
  const mounts: ContainerMount[] = Array.isArray(st['mounts'])
    ? (st['mounts'] as unknown[]).map((m) => {
        const x = o(m);
        return { source: s(x['host_path']), dest: s(x['container_path']), mode: '', rw: x['readonly'] !== true, propagation: PROPAGATION[s(x['propagation'])] ?? '' };
      })
    : [];
  const { privileged } = parseVerboseInfo(rec(res['info']));
  const started = s(st['started_at']);
  return makeContainerInfo({
    fullId,
    runtime,
    name: s(o(st['metadata'])['name']),
    image,
    imageRepository: ref.repository,
    imageTag: ref.tag,
    imageDigest: ref.digest || digestOf(imageRefDigest),
    privileged,
    mounts,
    startTsNs: /^\d+$/.test(started) ? BigInt(started) : 0n,
    podName: pod?.name || labels[POD_NAME_LABEL] || '',
    podNamespace: pod?.namespace || labels[POD_NAMESPACE_LABEL] || '',
    podUid: pod?.uid || labels[POD_UID_LABEL] || '',
    podLabels: pod?.labels ?? {},
  });
}

const NOT_FOUND = 5;

export class CriClient implements ContainerRuntimeClient {
  private readonly client: Client;
  /** Pods outlive their containers' lookups and are shared by them: a small FIFO cache. */
  private readonly pods = new Map<string, PodInfo>();

  constructor(
    readonly endpoint: string,
    readonly runtime: 'containerd' | 'cri-o',
    private readonly timeoutMs: number,
    private readonly maxPods = 1024,
  ) {
    this.client = new Client(`unix://${endpoint}`, credentials.createInsecure());
  }

  private call(name: keyof typeof criRuntimeService, req: object): Promise<CriMessage> {
    const m = criRuntimeService[name];
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, req, new Metadata(), { deadline: Date.now() + this.timeoutMs }, (err, value) => {
        if (err) reject(err);
        else resolve(value ?? {});
      });
    });
  }

  async inspect(fullId: string): Promise<ContainerInfo | undefined> {
    let res: CriMessage;
    try {
      res = await this.call('ContainerStatus', { container_id: fullId, verbose: true });
    } catch (err) {
      if ((err as { code?: number }).code === NOT_FOUND) return undefined;
      throw err;
    }
    const { sandboxId } = parseVerboseInfo(rec(res['info']));
    let pod: PodInfo | undefined;
    if (sandboxId) pod = await this.pod(sandboxId).catch(() => undefined);
    return containerFromCriStatus(res, this.runtime, pod);
  }

  private async pod(sandboxId: string): Promise<PodInfo | undefined> {
    const cached = this.pods.get(sandboxId);
    if (cached) return cached;
    const res = await this.call('PodSandboxStatus', { pod_sandbox_id: sandboxId, verbose: false });
    const st = o(res['status']);
    const md = o(st['metadata']);
    const labels = rec(st['labels']);
    // Runtime-added io.kubernetes.* keys are bookkeeping, not the pod's own labels.
    for (const k of Object.keys(labels)) if (k.startsWith('io.kubernetes.')) delete labels[k];
    const pod: PodInfo = { name: s(md['name']), namespace: s(md['namespace']), uid: s(md['uid']), labels };
    if (this.pods.size >= this.maxPods) this.pods.delete(this.pods.keys().next().value as string);
    this.pods.set(sandboxId, pod);
    return pod;
  }

  close(): void {
    this.client.close();
  }
}
