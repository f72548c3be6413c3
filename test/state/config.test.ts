import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { eventTypeByName } from '../../src/probe/event-types';
import { createStateEngine, stateConfigSchema } from '../../src/state';
import { testStateConfig } from './helpers';

/** The section proposed for lanner.yaml (kept here so a schema change that breaks it fails). */
const PROPOSED = `
state:
  proc_root: /proc
  host_root: ''
  max_processes: 65536
  max_fds_per_process: 1024
  seed_fds: true
  max_env_bytes: 4096
  lazy_proc_reads_per_second: 500
  sweep_interval_seconds: 60
  users:
    max_containers: 256
    refresh_seconds: 60
  dns:
    hosts_file: /etc/hosts
    refresh_seconds: 60
    timeout_ms: 2000
    max_names: 1024
  containers:
    metadata: true
    max_entries: 4096
    negative_ttl_seconds: 30
    timeout_ms: 2000
    first_exec_wait_ms: 1000
    max_concurrent_lookups: 4
    docker_sockets: [/var/run/docker.sock, /run/podman/podman.sock]
    cri_sockets: [/run/containerd/containerd.sock, /run/crio/crio.sock, /run/k3s/containerd/containerd.sock]
`;

describe('state config', () => {
  it('accepts the proposed lanner.yaml section', () => {
    expect(stateConfigSchema.safeParse((parse(PROPOSED) as { state: unknown }).state).success).toBe(true);
  });

  it('accepts the packaged lanner.yaml section once it exists', () => {
    const file = resolve(__dirname, '../../lanner.yaml');
    if (!existsSync(file)) return;
    const doc = parse(readFileSync(file, 'utf8')) as { state?: unknown };
    const r = stateConfigSchema.safeParse(doc.state);
    expect(r.success ? '' : JSON.stringify(r.error.issues)).toBe('');
  });

  it('rejects unknown keys, relative paths and out-of-range bounds', () => {
    const ok = (parse(PROPOSED) as { state: Record<string, unknown> }).state;
    expect(stateConfigSchema.safeParse({ ...ok, max_procs: 1 }).success).toBe(false);
    expect(stateConfigSchema.safeParse({ ...ok, proc_root: 'proc' }).success).toBe(false);
    expect(stateConfigSchema.safeParse({ ...ok, max_processes: 10 }).success).toBe(false);
    expect(stateConfigSchema.safeParse({ ...ok, containers: { ...(ok['containers'] as object), cri_sockets: ['crio.sock'] } }).success).toBe(false);
  });
});

describe('state engine wiring', () => {
  it('names the event types the state needs, all of them real', () => {
    const st = createStateEngine({ config: testStateConfig(), seed: false });
    for (const name of ['execve', 'execveat', 'clone', 'clone3', 'fork', 'vfork', 'procexit', 'openat', 'close', 'dup2', 'socket', 'connect', 'accept4', 'chdir', 'setuid']) {
      expect(st.requiredEventTypes.has(name), name).toBe(true);
    }
    for (const name of st.requiredEventTypes) expect(['syscall', 'process'], name).toContain(eventTypeByName(name)?.category);
    expect(st.requiredEventTypes.has('unlink')).toBe(false);
  });

  it('describes the host as a container named host', () => {
    const st = createStateEngine({ config: testStateConfig(), seed: false });
    expect(st.container('host')).toMatchObject({ id: 'host', name: 'host', imageRepository: '' });
    expect(st.container('0123456789ab')).toBeUndefined();
  });
});
