import type { StateConfig } from '../../src/state/config';
import { stateConfigSchema } from '../../src/state/config';

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
    containers: {
      metadata: false,
      max_entries: 1024,
      negative_ttl_seconds: 30,
      timeout_ms: 2000,
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
