/**
 * Typed binding of build/Release/lanner.node (native/addon/addon.cc). Loaded lazily so that
 * capture replay, decoding and tests without the kernel never need the addon.
 */
import { resolve } from 'node:path';
import { PACKAGE_DIR } from '../package';

export interface NativeProbeOptions {
  ringBytes?: number;
  maxStringBytes?: number;
  maxArgvBytes?: number;
  maxEnvBytes?: number;
  dropFailed?: boolean;
  closeTrackedOnly?: boolean;
  enterHooks?: boolean;
  wakeupFraction?: number;
  pressureFraction?: number;
  adaptiveWakeup?: boolean;
  selfTgids?: number[];
}

export interface NativeDrain {
  bytes: number;
  count: number;
  more: boolean;
}

export interface NativeStats {
  seen: number;
  emitted: number;
  dropFull: number;
  dropBig: number;
  dropOther: number;
  stashMiss: number;
  /** Open-family events the path-prefix filter kept in the kernel (not drops, not in `seen`). */
  filteredByPath: number;
  batches: number;
  delivered: number;
  /** Times the polled reader parked on an idle ring (its timer slowed, waiting on the ring's fd). */
  parks: number;
  /** Parks the kernel's signal of a new record ended (the rest ended on the slow timer). */
  parkWakeups: number;
  /** Looks that found only a trickle and left it queued to gather a larger batch (probe.drain_max_latency_ms). */
  coalescedLooks: number;
  seenByType: number[];
  dropByType: number[];
}

/** One alias target as the kernel keys it: a file or directory by inode, with the path to report. */
export interface NativeAliasTarget {
  /** The kernel's dev_t (kernelDevFromStat). */
  readonly dev: number;
  readonly ino: number;
  readonly dir: boolean;
  readonly path: string;
}

/** The kernel's enforcement tables (native/bpf/lib/enforce.h), built by src/enforce/kernel-tables.ts. */
export interface NativeKillTables {
  /** Absolute paths (exact, or a prefix), each enforcing rules[rule]. */
  readonly paths: readonly { readonly path: string; readonly exact: boolean; readonly rule: number }[];
  /** types: bit (type id - open's id) per open type; access: bit 0 read, bit 1 write, bit 3 not O_DIRECTORY; exempt: mask over names. */
  readonly rules: readonly { readonly types: number; readonly access: number; readonly exempt: number; readonly intervalNs: number; readonly toleranceNs: number }[];
  /** Comm patterns: the whole zero-padded comm, or its first bytes (prefix). */
  readonly names: readonly { readonly name: string; readonly prefix: boolean }[];
  /** Mask over names: the processes never killed. */
  readonly protectedMask: number;
}

/** The kernel's enforcement decisions since load, per rule slot of NativeKillTables.rules. */
export interface NativeKillCounts {
  readonly killed: readonly number[];
  readonly refused: readonly number[];
  readonly limited: readonly number[];
  readonly failed: readonly number[];
}

/** How an atom matches a path (ProbeCore::kMatch* in native/addon/probe_core.h). */
export const NATIVE_PATH_MATCH = { prefix: 0, exact: 1, suffix: 2, contains: 3 } as const;
export type NativePathMatch = (typeof NATIVE_PATH_MATCH)[keyof typeof NATIVE_PATH_MATCH];

export interface NativePathFilter {
  readonly atoms: readonly { readonly text: string; readonly match: NativePathMatch; readonly writeOnly: boolean }[];
  readonly comms: readonly string[];
  /** The change filter's event type ids. */
  readonly types: readonly number[];
  /** The change filter's mode bits (chmod, mkdir). */
  readonly modeMask: number;
}

export interface NativeProbe {
  attach(): void;
  setInterestingTypes(mask: Uint8Array): void;
  setTrackedFdTypes(mask: Uint8Array): void;
  /** Both path filters at once; null = off. Atoms and names must already be valid (see probe.ts). */
  setPathFilters(open: NativePathFilter | null, change: NativePathFilter | null): void;
  /** Replaces the kernel's alias targets (already validated: see src/probe/alias-targets.ts). */
  setAliasTargets(targets: readonly NativeAliasTarget[]): void;
  /** null turns kernel enforcement off. */
  setKillTables(tables: NativeKillTables | null): void;
  killCounts(): NativeKillCounts | null;
  setSelf(tgid: number, add: boolean): void;
  setExecEnvCapture(on: boolean): void;
  setGatherTrickles(on: boolean): void;
  setCloneCallerEvents(on: boolean): void;
  trackFd(tgid: number, fd: number, add: boolean): void;
  read(buffer: ArrayBuffer): NativeDrain;
  /** Worker threads: blocks up to `timeoutMs` for a forced wakeup; always read() afterwards. */
  wait(timeoutMs: number): boolean;
  start(buffer: ArrayBuffer, onBatch: (bytes: number, count: number, more: boolean) => void, drainMs?: number, maxBatchesPerWake?: number, wakeupGapMs?: number, maxLatencyMs?: number, gatherMinRate?: number): void;
  stop(): void;
  stats(): NativeStats | null;
  close(): void;
}

export interface NativeAbi {
  version: number;
  headerSize: number;
  maxRecord: number;
  typeCount: number;
  pathPrefixMax: number;
  pathPrefixLen: number;
  pathSuffixMax: number;
  pathSuffixLen: number;
  pathNeedleMax: number;
  pathNeedleLen: number;
  filterCommMax: number;
  pathFilterWindow: number;
  aliasMax: number;
  aliasPathLen: number;
  killPathMax: number;
  killPathLen: number;
  killRuleMax: number;
  killNameMax: number;
  types: Record<string, number>;
  offsets: Record<string, number>;
  slots: Record<string, number>;
  flags: Record<string, number>;
}

export interface NativeAddon {
  Probe: new (options: NativeProbeOptions) => NativeProbe;
  abi(): NativeAbi;
  clocks(): { realtimeNs: bigint; boottimeNs: bigint };
}

/** Error thrown by the addon: `code` is an errno name, `verifierLog` the libbpf log on load failure. */
export interface NativeProbeError extends Error {
  code?: string;
  errno?: number;
  verifierLog?: string;
}

export const ADDON_PATH = resolve(PACKAGE_DIR, 'build/Release/lanner.node');

let cached: NativeAddon | undefined;

export function loadAddon(): NativeAddon {
  if (cached) return cached;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cached = require(ADDON_PATH) as NativeAddon;
  } catch (err) {
    const e = new Error(`cannot load the native addon ${ADDON_PATH} (run 'npm run build:native'): ${(err as Error).message}`) as NativeProbeError;
    e.code = 'ENOADDON';
    throw e;
  }
  return cached;
}

/** The addon, or undefined when it is not built. */
export function tryLoadAddon(): NativeAddon | undefined {
  try {
    return loadAddon();
  } catch {
    return undefined;
  }
}
