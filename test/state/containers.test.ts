import { Server, ServerCredentials, status, type ServiceError, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeContainerInfo } from '../../src/state/containers/client';
import { CriClient, criRuntimeService, type CriMessage } from '../../src/state/containers/cri';
import { containerFromInspect } from '../../src/state/containers/docker-api';
import { parseImageRef, rfc3339ToNs } from '../../src/state/containers/image-ref';
import { ContainerMetadataStore } from '../../src/state/containers/metadata';
import type { ContainerInfo } from '../../src/state/types';
import { FakeClient } from './helpers';

const FULL = 'aaaabbbbccccddddeeeeffff0000111122223333444455556666777788889999';
const SANDBOX = 'b'.repeat(64);

describe('image references', () => {
  const cases: [string, string, string, string][] = [
    ['nginx', 'nginx', '', ''],
    ['nginx:1.25', 'nginx', '1.25', ''],
    ['docker.io/library/nginx:1.25', 'docker.io/library/nginx', '1.25', ''],
    ['localhost:5000/team/app', 'localhost:5000/team/app', '', ''],
    ['localhost:5000/team/app:v2', 'localhost:5000/team/app', 'v2', ''],
    ['quay.io/x/y@sha256:abcd', 'quay.io/x/y', '', 'sha256:abcd'],
    ['quay.io/x/y:1@sha256:abcd', 'quay.io/x/y', '1', 'sha256:abcd'],
  ];
  for (const [ref, repo, tag, digest] of cases) {
    it(ref, () => expect(parseImageRef(ref)).toEqual({ repository: repo, tag, digest }));
  }
  it('keeps nanoseconds of RFC 3339 times', () => {
    expect(rfc3339ToNs('2026-11-22T23:09:15.123456789Z')).toBe(BigInt(Date.UTC(2026, 10, 22, 23, 9, 15)) * 1_000_000n + 123_456_789n);
    expect(rfc3339ToNs('2026-11-22T23:09:15+01:00')).toBe(BigInt(Date.UTC(2026, 10, 22, 22, 9, 15)) * 1_000_000n);
    expect(rfc3339ToNs('0001-01-01T00:00:00Z')).toBe(0n);
    expect(rfc3339ToNs('garbage')).toBe(0n);
  });
});

describe('Docker Engine API inspect mapping', () => {
  it('maps name, image, privileged, mounts, start time and pod labels', () => {
    const info = containerFromInspect(
      {
        Id: FULL,
        Name: '/web',
        Image: 'sha256:1111',
        Config: { Image: 'docker.io/library/nginx:1.25', Labels: { 'io.kubernetes.pod.name': 'web-0', 'io.kubernetes.pod.namespace': 'prod', 'io.kubernetes.pod.uid': 'u-1' } },
        HostConfig: { Privileged: true },
        State: { StartedAt: '2026-11-22T10:00:00.5Z' },
        Mounts: [{ Source: '/var/run/docker.sock', Destination: '/var/run/docker.sock', Mode: 'z', RW: true, Propagation: 'rprivate' }],
      },
      'docker',
      'sha256:feed',
    )!;
    expect(info).toMatchObject({
      id: FULL.slice(0, 12),
      fullId: FULL,
      runtime: 'docker',
      name: 'web',
      image: 'docker.io/library/nginx:1.25',
      imageRepository: 'docker.io/library/nginx',
      imageTag: '1.25',
      imageDigest: 'sha256:feed',
      privileged: true,
      podName: 'web-0',
      podNamespace: 'prod',
      podUid: 'u-1',
    });
    expect(info.mounts).toEqual([{ source: '/var/run/docker.sock', dest: '/var/run/docker.sock', mode: 'z', rw: true, propagation: 'rprivate' }]);
    expect(info.startTsNs).toBe(BigInt(Date.UTC(2026, 10, 22, 10)) * 1_000_000n + 500_000_000n);
  });

  it('rejects documents without a container id', () => {
    expect(containerFromInspect({ message: 'no such container' }, 'docker', '')).toBeUndefined();
  });
});

describe('container metadata cache', () => {
  const info = makeContainerInfo({ fullId: FULL, runtime: 'containerd', name: 'app' });

  it('never blocks: a miss returns undefined, starts one lookup, and the answer arrives later', async () => {
    const client = new FakeClient('containerd', '/', new Map([[FULL, info]]));
    const store = new ContainerMetadataStore({ clients: [client], maxEntries: 16, negativeTtlMs: 1000, maxConcurrent: 2 });
    store.noteContainer(FULL, 'containerd');
    expect(store.get(FULL.slice(0, 12))).toBeUndefined();
    expect(store.get(FULL.slice(0, 12))).toBeUndefined();
    await store.idle();
    expect(store.get(FULL.slice(0, 12))?.name).toBe('app');
    expect(client.calls).toEqual([FULL]);
    expect(store.stats()).toMatchObject({ entries: 1, lookups: 1, failures: 0 });
  });

  it('settled: a promise for a pending lookup (one per container), nothing once known or failed', async () => {
    const id = FULL.slice(0, 12);
    const client = new FakeClient('containerd', '/', new Map([[FULL, info]]));
    const store = new ContainerMetadataStore({ clients: [client], maxEntries: 16, negativeTtlMs: 1000, maxConcurrent: 2 });
    store.noteContainer(FULL, 'containerd');
    const wait = store.settled(id);
    expect(wait).toBeDefined();
    expect(store.settled(id)).toBe(wait);
    await wait;
    expect(store.get(id)?.name).toBe('app');
    expect(store.settled(id)).toBeUndefined();
    // A container no runtime knows: the wait ends with the failed lookup, and is not offered again.
    const gone = store.settled('0123456789ab');
    expect(gone).toBeDefined();
    await gone;
    expect(store.settled('0123456789ab')).toBeUndefined();
    expect(client.calls).toEqual([FULL, '0123456789ab']);
    // No runtime to ask: nothing to wait for.
    expect(new ContainerMetadataStore({ clients: [], maxEntries: 16, negativeTtlMs: 1000, maxConcurrent: 1 }).settled(id)).toBeUndefined();
  });

  it('caches failures for the negative TTL, then retries', async () => {
    let now = 0;
    const client = new FakeClient('docker', '/', new Map());
    const store = new ContainerMetadataStore({ clients: [client], maxEntries: 16, negativeTtlMs: 1000, maxConcurrent: 2, now: () => now });
    store.get('0123456789ab');
    await store.idle();
    store.get('0123456789ab');
    now = 999;
    store.get('0123456789ab');
    await store.idle();
    expect(client.calls.length).toBe(1);
    now = 1001;
    store.get('0123456789ab');
    await store.idle();
    expect(client.calls.length).toBe(2);
    expect(store.stats().failures).toBe(2);
  });

  it('bounds concurrency and the number of cached containers', async () => {
    const known = new Map<string, ContainerInfo>();
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const full = i.toString(16).padStart(12, '0') + 'f'.repeat(52);
      ids.push(full);
      known.set(full, makeContainerInfo({ fullId: full, runtime: 'docker' }));
    }
    const client = new FakeClient('docker', '/', known);
    const store = new ContainerMetadataStore({ clients: [client], maxEntries: 20, negativeTtlMs: 1000, maxConcurrent: 3 });
    for (const full of ids) {
      store.noteContainer(full, 'docker');
      store.get(full.slice(0, 12));
    }
    // A burst beyond the cache size is not queued beyond it; those ids are asked for again later.
    expect(store.stats().queued).toBeLessThanOrEqual(20);
    await store.idle();
    expect(client.maxInFlight).toBe(3);
    expect(store.stats().entries).toBeLessThanOrEqual(20);
    const last = ids[49]!.slice(0, 12);
    expect(store.get(last)).toBeUndefined();
    await store.idle();
    expect(store.get(last)?.fullId).toBe(ids[49]);
  });

  it('asks the runtime named by the cgroup first, and falls through endpoints', async () => {
    const docker = new FakeClient('docker', '/', new Map());
    const cri = new FakeClient('containerd', '/', new Map([[FULL, info]]));
    const store = new ContainerMetadataStore({ clients: [docker, cri], maxEntries: 16, negativeTtlMs: 1000, maxConcurrent: 1 });
    store.noteContainer(FULL, 'containerd');
    store.get(FULL.slice(0, 12));
    await store.idle();
    expect(cri.calls.length).toBe(1);
    expect(docker.calls.length).toBe(0);
    const other = 'c'.repeat(64);
    store.noteContainer(other, 'unknown');
    store.get(other.slice(0, 12));
    await store.idle();
    expect(docker.calls).toEqual([other]);
    expect(cri.calls).toEqual([FULL, other]);
  });

  it('counts transport errors as failures without throwing to the caller', async () => {
    const errs: string[] = [];
    const client = new FakeClient('docker', '/', new Map(), new Error('connection refused'));
    const store = new ContainerMetadataStore({ clients: [client], maxEntries: 16, negativeTtlMs: 1000, maxConcurrent: 1, onError: (e) => errs.push(e.message) });
    expect(store.get('0123456789ab')).toBeUndefined();
    await store.idle();
    expect(errs).toEqual(['connection refused']);
    expect(store.stats().failures).toBe(1);
  });
});

// This exercises our CRI client and proto against a gRPC server speaking the same proto; there is
// no containerd or cri-o on this machine, so it cannot prove compatibility with a real runtime.
describe('CRI client against an in-test gRPC server', () => {
  let dir = '';
  let server: Server;
  let socket = '';
  const calls: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lanner-cri-'));
    socket = join(dir, 'cri.sock');
    server = new Server();
    server.addService(criRuntimeService, {
      ContainerStatus: (call: ServerUnaryCall<CriMessage, CriMessage>, cb: sendUnaryData<CriMessage>) => {
        const id = String(call.request['container_id']);
        calls.push(`ContainerStatus ${id} verbose=${String(call.request['verbose'])}`);
        if (id !== FULL) {
          cb({ code: status.NOT_FOUND, details: 'not found' } as ServiceError);
          return;
        }
        cb(null, {
          status: {
            id: FULL,
            metadata: { name: 'api', attempt: 0 },
            started_at: '1763850000123456789',
            image: { image: 'registry.local:5000/team/api:v3' },
            image_ref: 'registry.local:5000/team/api@sha256:cafe',
            labels: { 'io.kubernetes.pod.name': 'api-7d9', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.uid': 'uid-1' },
            mounts: [{ container_path: '/data', host_path: '/srv/data', readonly: true, propagation: 'PROPAGATION_HOST_TO_CONTAINER' }],
          },
          info: { info: JSON.stringify({ sandboxID: SANDBOX, config: { linux: { security_context: { privileged: true } } } }) },
        });
      },
      PodSandboxStatus: (call: ServerUnaryCall<CriMessage, CriMessage>, cb: sendUnaryData<CriMessage>) => {
        calls.push(`PodSandboxStatus ${String(call.request['pod_sandbox_id'])}`);
        cb(null, {
          status: {
            id: SANDBOX,
            metadata: { name: 'api-7d9', uid: 'uid-1', namespace: 'shop', attempt: 0 },
            labels: { app: 'api', tier: 'backend', 'io.kubernetes.pod.name': 'api-7d9' },
          },
        });
      },
    });
    await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('fills container, image, mounts, privileged and pod metadata from ContainerStatus + PodSandboxStatus', async () => {
    const client = new CriClient(socket, 'containerd', 2000);
    try {
      const info = (await client.inspect(FULL))!;
      expect(info).toMatchObject({
        id: FULL.slice(0, 12),
        runtime: 'containerd',
        name: 'api',
        image: 'registry.local:5000/team/api:v3',
        imageRepository: 'registry.local:5000/team/api',
        imageTag: 'v3',
        imageDigest: 'sha256:cafe',
        privileged: true,
        podName: 'api-7d9',
        podNamespace: 'shop',
        podUid: 'uid-1',
        startTsNs: 1763850000123456789n,
      });
      expect(info.podLabels).toEqual({ app: 'api', tier: 'backend' });
      expect(info.mounts).toEqual([{ source: '/srv/data', dest: '/data', mode: '', rw: false, propagation: 'rslave' }]);
      expect(await client.inspect('d'.repeat(64))).toBeUndefined();
      // The pod is cached: a second lookup of the container asks for the sandbox no more.
      await client.inspect(FULL);
      expect(calls.filter((c) => c.startsWith('PodSandboxStatus'))).toHaveLength(1);
      expect(calls[0]).toBe(`ContainerStatus ${FULL} verbose=true`);
    } finally {
      client.close();
    }
  });

  it('rejects (and the store counts a failure) when the socket does not answer', async () => {
    const client = new CriClient(join(dir, 'absent.sock'), 'cri-o', 300);
    try {
      await expect(client.inspect(FULL)).rejects.toThrow();
    } finally {
      client.close();
    }
  });
});
