import type { StateConfig } from '../../src/state/config';
import { stateConfigSchema } from '../../src/state/config';
import type { ContainerRuntimeClient } from '../../src/state/containers/client';
import type { ContainerInfo } from '../../src/state/types';

/** A valid `state:` section for tests (lanner.yaml holds the shipped defaults). */
export function testStateConfig(over: Partial<StateConfig> = {}): StateConfig {
  return stateConfigSchema.parse({
    proc_root: '/proc',
    host_root: '',
    max_processes: 65536,
    max_fds_per_process: 1024,
    seed_fds: true,
    max_env_bytes: 4096,
    lazy_proc_reads_per_second: 1000,
    sweep_interval_seconds: 0,
    users: { max_containers: 16, refresh_seconds: 60 },
    dns: { hosts_file: '', refresh_seconds: 60, timeout_ms: 2000, max_names: 64 },
    containers: {
      metadata: false,
      max_entries: 1024,
      negative_ttl_seconds: 30,
      timeout_ms: 2000,
      first_exec_wait_ms: 0,
      max_concurrent_lookups: 4,
      docker_sockets: [],
      cri_sockets: [],
    },
    ...over,
  });
}

/** In CI a test that cannot run must fail with the reason; elsewhere it may skip, saying why. */
export function requireOrSkip(ok: boolean, reason: string, skip: (note: string) => void): void {
  if (ok) return;
  if (process.env.CI === 'true') throw new Error(`cannot run: ${reason}`);
  console.warn(`skipped: ${reason}`);
  skip(reason);
}

/** A fake runtime client: answers from a map after a delay, counting calls. */
export class FakeClient implements ContainerRuntimeClient {
  calls: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  constructor(
    readonly runtime: ContainerInfo['runtime'],
    readonly endpoint: string,
    private readonly known: Map<string, ContainerInfo>,
    private readonly failWith?: Error,
  ) {}
  async inspect(fullId: string): Promise<ContainerInfo | undefined> {
    this.calls.push(fullId);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, 5));
    this.inFlight--;
    if (this.failWith) throw this.failWith;
    return this.known.get(fullId);
  }
  close(): void {}
}
