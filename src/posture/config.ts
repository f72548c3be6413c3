import { z } from 'zod';

/** CIS benchmarks the posture module knows; results are keyed by (benchmark, id). */
export const BENCHMARKS = ['cis-1.12', 'cis-1.24'] as const;
export type CisBenchmark = (typeof BENCHMARKS)[number];

/**
 * Lanner's own node hardening section (sshd, mandatory access control, encryption key file, etcd
 * URLs, kernel sysctls). Not CIS: reported as a benchmark of its own so its results never mix
 * with CIS totals.
 */
export const LANNER_NODE = 'lanner-node';
export type Benchmark = CisBenchmark | typeof LANNER_NODE;

export const isCisBenchmark = (b: Benchmark): b is CisBenchmark => b !== LANNER_NODE;

/**
 * Benchmarks whose controls Lanner covers only in part; reported with a note and left out of the
 * default list (lanner.yaml) until complete. cis-1.24 has the controls whose 1.24 id is documented.
 */
export const PARTIAL_BENCHMARKS: ReadonlySet<Benchmark> = new Set<Benchmark>(['cis-1.24']);

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
    /** Looked for here and in every standard systemd unit directory (see files.ts). */
    kubelet_service: absPath,
    kubelet_kubeconfig: absPath,
    /** Only audited as the kubelet's config when the kubelet runs without --config (file checks). */
    kubelet_config: absPath,
    kubelet_ca: absPath,
    proxy_kubeconfig: absPath,
    /** sshd's main configuration file (Lanner node checks). */
    sshd_config: absPath,
    /** The sshd binary; when present (and root is /) `sshd -T` gives the effective settings. */
    sshd: absPath,
  })
  .strict();
export type PosturePaths = z.infer<typeof posturePathsSchema>;

/** The `posture:` section of lanner.yaml (owned by src/posture). Defaults live in lanner.yaml only. */
export const postureConfigSchema = z
  .object({
    enabled: z.boolean(),
    benchmarks: z.array(z.enum(BENCHMARKS)).min(1),
    /** Lanner's node hardening section (not CIS), reported as benchmark `lanner-node`. */
    node_checks: z.boolean(),
    /** Prefix under which host files are read (`/host` when the agent runs in a pod). */
    root: absPath,
    /** Where running components (and the kernel's /proc/sys) are looked for. */
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

/** The benchmarks a configuration reports, CIS ones first. */
export function activeBenchmarks(cfg: Pick<PostureConfig, 'benchmarks' | 'node_checks'>): Benchmark[] {
  return cfg.node_checks ? [...cfg.benchmarks, LANNER_NODE] : [...cfg.benchmarks];
}
