import { z } from 'zod';

const absolutePath = z.string().startsWith('/', 'must be an absolute path');

/** The `state:` section of lanner.yaml (owned by src/state). Defaults live in lanner.yaml only. */
export const stateConfigSchema = z
  .object({
    /** Where procfs is mounted (a host /proc bind-mounted into the agent's container, e.g. /host/proc). */
    proc_root: absolutePath,
    /** Host filesystem root for /etc/passwd and /etc/group ('' = /, e.g. /host in a DaemonSet). */
    host_root: z.union([z.literal(''), absolutePath]),
    max_processes: z.number().int().min(64),
    max_fds_per_process: z.number().int().min(16),
    /** Also read every process's open fds at start (/proc/<pid>/fd, fdinfo and socket tables). */
    seed_fds: z.boolean(),
    /** Bytes of environment kept per process (seed and exec); 0 keeps none. */
    max_env_bytes: z.number().int().min(0).max(65536),
    /** Budget of /proc reads for processes first seen on an event (missed fork or exec). */
    lazy_proc_reads_per_second: z.number().int().min(0),
    /**
     * Seconds between sweeps that drop entries whose process vanished without an exit event, and
     * the cached state of containers and cgroups no process is left in; 0 disables.
     */
    sweep_interval_seconds: z.number().int().min(0),
    users: z
      .object({
        /** Containers whose /etc/passwd and /etc/group are cached at once. */
        max_containers: z.number().int().min(1),
        /** Seconds before a cached passwd/group file is read again. */
        refresh_seconds: z.number().int().min(1),
      })
      .strict(),
    /** DNS names rules compare connection addresses with (fd.sip.name…), resolved in the background. */
    dns: z
      .object({
        /** The hosts file read before DNS, a path on the host (under host_root); '' reads none. */
        hosts_file: z.union([z.literal(''), absolutePath]),
        refresh_seconds: z.number().int().min(1),
        timeout_ms: z.number().int().min(50),
        max_names: z.number().int().min(1).max(65536),
      })
      .strict(),
    containers: z
      .object({
        /** Ask container runtimes for names, images and pod metadata. */
        metadata: z.boolean(),
        max_entries: z.number().int().min(16),
        /** Seconds a failed lookup is remembered before it is tried again. */
        negative_ttl_seconds: z.number().int().min(1),
        timeout_ms: z.number().int().min(50),
        /**
         * How long a container's first process's exec (and everything after it) may wait for the
         * container's metadata before the rules see it; 0 evaluates at once, without mounts or image.
         */
        first_exec_wait_ms: z.number().int().min(0).max(10000),
        max_concurrent_lookups: z.number().int().min(1).max(64),
        /** Docker Engine API sockets (docker, or podman's `podman system service`). */
        docker_sockets: z.array(absolutePath),
        /** CRI runtime sockets (containerd, cri-o). */
        cri_sockets: z.array(absolutePath),
      })
      .strict(),
  })
  .strict();
export type StateConfig = z.infer<typeof stateConfigSchema>;
