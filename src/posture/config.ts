import { z } from 'zod';

/** Benchmarks the posture module knows; results are keyed by (benchmark, id). */
export const BENCHMARKS = ['cis-1.12', 'cis-1.24'] as const;
export type Benchmark = (typeof BENCHMARKS)[number];

const absPath = z.string().regex(/^\//, 'must be an absolute path');

/** Default locations of the files the file checks audit (kubeadm layout in lanner.yaml). */
export const posturePathsSchema = z
  .object({
    apiserver_manifest: absPath,
    controller_manager_manifest: absPath,
    scheduler_manifest: absPath,
    etcd_manifest: absPath,
    etcd_data_dir: absPath,
    cni_conf_dir: absPath,
    admin_kubeconfig: absPath,
    super_admin_kubeconfig: absPath,
    scheduler_kubeconfig: absPath,
    controller_manager_kubeconfig: absPath,
    pki_dir: absPath,
    kubelet_service: absPath,
    kubelet_kubeconfig: absPath,
    kubelet_config: absPath,
    kubelet_ca: absPath,
    proxy_kubeconfig: absPath,
  })
  .strict();
export type PosturePaths = z.infer<typeof posturePathsSchema>;

/** The `posture:` section of lanner.yaml (owned by src/posture). Defaults live in lanner.yaml only. */
export const postureConfigSchema = z
  .object({
    enabled: z.boolean(),
    benchmarks: z.array(z.enum(BENCHMARKS)).min(1),
    /** Prefix under which host files are read (`/host` when the agent runs in a pod). */
    root: absPath,
    /** Where running components are looked for. */
    proc_root: absPath,
    /** File changes within this window are folded into one re-evaluation per file. */
    debounce_ms: z.number().int().min(0).max(60_000),
    /** Bound on files waiting for a debounced re-evaluation; beyond it path events are counted and dropped. */
    max_pending: z.number().int().min(1).max(100_000),
    /** Periodic full rescan (0 = only at start and on events). */
    rescan_interval_s: z.number().int().min(0),
    paths: posturePathsSchema,
  })
  .strict();
export type PostureConfig = z.infer<typeof postureConfigSchema>;
